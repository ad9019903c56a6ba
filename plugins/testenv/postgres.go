package testenv

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
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
	server := PostgresServerDSN()
	admin, err := sql.Open("postgres", server)
	if err != nil {
		t.Fatalf("testenv: PostgreSQL DSN %q: %v", redactDSN(server), err)
	}
	if err := pingWithin(admin, 5*time.Second); err != nil {
		admin.Close()
		t.Fatalf("testenv: PostgreSQL is not reachable at %q: %v\n"+
			"Start the local server (.ci/run does: apt-get install postgresql; pg_ctlcluster ... start; trust auth for 127.0.0.1), "+
			"or point WHIRLPOOL_PG_DSN at one (a key=value DSN whose user may CREATE DATABASE).", redactDSN(server), err)
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

// redactDSN formats a key=value DSN for messages without its password.
func redactDSN(dsn string) string {
	var out []string
	for _, f := range strings.Fields(dsn) {
		if strings.HasPrefix(strings.ToLower(f), "password=") {
			f = "password=(hidden)"
		}
		out = append(out, f)
	}
	return strings.Join(out, " ")
}
