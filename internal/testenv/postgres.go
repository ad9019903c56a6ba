package testenv

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/whirlpool-events/whirlpool/internal/dsn"
)

// DefaultPostgresDSN is the server tests use when WHIRLPOOL_PG_DSN is not
// set: the local PostgreSQL that .ci/run provides.
const DefaultPostgresDSN = "host=127.0.0.1 port=5432 user=postgres sslmode=disable"

// PostgresServerDSN returns the DSN of the PostgreSQL server tests use
// (WHIRLPOOL_PG_DSN, or DefaultPostgresDSN), without a database name.
func PostgresServerDSN() string {
	if s := strings.TrimSpace(os.Getenv("WHIRLPOOL_PG_DSN")); s != "" {
		return s
	}
	return DefaultPostgresDSN
}

// Postgres creates a fresh, uniquely named database on the test server and
// returns a DSN for it (in key=value form). The database is dropped in
// t.Cleanup, after the test's own cleanups (which should close their
// connections). The test fails at once, saying how to provide a server,
// when PostgreSQL cannot be reached.
func Postgres(t testing.TB) (dsn string) {
	t.Helper()
	lockPostgres(t, false)
	return createDatabase(t)
}

// SharePostgres is for a test that uses the server through databases of its
// own (e.g. scripts/demo's): it holds the shared lock until the test ends,
// so no outage test stops the server meanwhile.
func SharePostgres(t testing.TB) {
	t.Helper()
	lockPostgres(t, false)
}

// PostgresOutage is Postgres for a test that stops and starts the server:
// it waits until no other test process uses the server (every test using
// Postgres holds a shared lock on it; this takes it exclusively), and
// returns the database with functions that stop and start the local
// cluster. The server is started again when the test ends, even if it
// fails. The test is skipped where pg_ctlcluster is not available.
func PostgresOutage(t testing.TB) (dsn string, stop, start func()) {
	t.Helper()
	cluster := localCluster()
	if cluster == "" {
		t.Skip("needs a local PostgreSQL cluster (pg_ctlcluster) to stop and start")
	}
	lockPostgres(t, true)
	ctl := func(action string) {
		t.Helper()
		if out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", action).CombinedOutput(); err != nil {
			t.Fatalf("pg_ctlcluster %s main %s: %v\n%s", cluster, action, err, out)
		}
	}
	running := func() bool { return exec.Command("pg_ctlcluster", cluster, "main", "status").Run() == nil }
	t.Cleanup(func() {
		if !running() {
			ctl("start")
		}
	})
	dsn = createDatabase(t)
	return dsn, func() { ctl("stop") }, func() {
		ctl("start")
		db, err := sql.Open("postgres", PostgresServerDSN())
		if err == nil {
			pingWithin(db, 30*time.Second)
			db.Close()
		}
	}
}

// localCluster returns the version of the local PostgreSQL cluster that
// pg_ctlcluster manages, or "".
func localCluster() string {
	if _, err := exec.LookPath("pg_ctlcluster"); err != nil {
		return ""
	}
	entries, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(entries) == 0 {
		return ""
	}
	return entries[len(entries)-1].Name()
}

// lockPostgres serialises tests that stop the server against every other
// test process using it: a shared flock for users, an exclusive one for
// outages, held until the test ends.
func lockPostgres(t testing.TB, exclusive bool) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "whirlpool-postgres.lock"), os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("testenv: PostgreSQL lock: %v", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		t.Fatalf("testenv: PostgreSQL lock: %v", err)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
}

func createDatabase(t testing.TB) string {
	t.Helper()
	server := PostgresServerDSN()
	admin, err := sql.Open("postgres", server)
	if err != nil {
		t.Fatalf("testenv: PostgreSQL DSN %q: %v", dsn.Redact(server), err)
	}
	if err := pingWithin(admin, 5*time.Second); err != nil {
		admin.Close()
		t.Fatalf("testenv: PostgreSQL is not reachable at %q: %v\n"+
			"Start the local server (.ci/run does: apt-get install postgresql; pg_ctlcluster ... start; trust auth for 127.0.0.1), "+
			"or point WHIRLPOOL_PG_DSN at one (a key=value DSN whose user may CREATE DATABASE).", dsn.Redact(server), err)
	}
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatalf("testenv: random name: %v", err)
	}
	name := "whirlpool_test_" + hex.EncodeToString(rnd[:])
	if _, err := admin.Exec("CREATE DATABASE " + pq.QuoteIdentifier(name)); err != nil {
		admin.Close()
		t.Fatalf("testenv: CREATE DATABASE %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		// WITH (FORCE) ends connections a test left open (PostgreSQL 13+).
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + pq.QuoteIdentifier(name) + " WITH (FORCE)"); err != nil {
			t.Errorf("testenv: DROP DATABASE %s: %v", name, err)
		}
	})
	return server + " dbname=" + name
}

func pingWithin(db *sql.DB, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		err := db.Ping()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}
