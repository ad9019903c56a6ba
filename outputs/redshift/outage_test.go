package redshift

import (
	"fmt"
	"strings"
	"testing"
	"time"

	dsnpkg "github.com/whirlpool-events/whirlpool/internal/dsn"
	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func ticks(prefix string, n int) []byte {
	var bodies [][]byte
	for i := 0; i < n; i++ {
		bodies = append(bodies, validRec{uuid: fmt.Sprintf("%s-%d", prefix, i), expand: -1, event: "tick",
			dests: []string{"game.ticks"}, columns: []col{{"n", i}}}.body())
	}
	return chunkOf(bodies...)
}

// With the database down, flushes answer Retry (logged once for the
// outage, not once per flush); after it is back, the retried chunks land,
// and a chunk re-sent after it had loaded adds nothing.
func TestDatabaseDownRetriesThenEverythingLandsOnce(t *testing.T) {
	dsn, stopPG, startPG := testenv.PostgresOutage(t)
	db := openPG(t, dsn)
	out := startPlugin(t, flbhost.Config{"dsn": dsn, "dialect": "postgres", "load_method": "pg_copy",
		"auto_create": "on", "batch_max_wait": "50ms", "connect_timeout": "2s"})
	a, b := ticks("a", 100), ticks("b", 100)
	if r := out.Flush(a, "events"); r != flbhost.FlbOK {
		t.Fatalf("flush a = %d", r)
	}

	logged := len(flbhost.LogsContaining("[output:redshift", "batch not loaded"))
	stopPG()
	for i := 0; i < 3; i++ {
		if r := out.Flush(b, "events"); r != flbhost.FlbRetry {
			t.Fatalf("flush b with the database down = %d, want RETRY", r)
		}
	}
	if n := len(flbhost.LogsContaining("[output:redshift", "batch not loaded")) - logged; n != 1 {
		t.Errorf("the outage was logged %d times at error level, want once", n)
	}
	startPG()

	// Fluent Bit retries with back-off; the first attempt after the restart
	// may still meet a connection the server closed.
	deliver := func(chunk []byte) {
		for i := 0; ; i++ {
			r := out.Flush(chunk, "events")
			if r == flbhost.FlbOK {
				return
			}
			if i == 50 {
				t.Fatalf("still %d after the database came back", r)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	deliver(b)
	deliver(a)
	if n := count(t, db, `SELECT count(*) FROM game.ticks`); n != 200 {
		t.Errorf("game.ticks has %d rows, want 200", n)
	}
	if n := count(t, db, `SELECT count(*) FROM (SELECT uuid FROM game.ticks GROUP BY uuid HAVING count(*) > 1) d`); n != 0 {
		t.Errorf("%d events loaded twice", n)
	}
	if n := len(flbhost.LogsContaining("[output:redshift", "loading again after")); n == 0 {
		t.Errorf("recovery not logged")
	}
}

// Text the database echoes (here a database name, in "database ... does
// not exist") reaches the log escaped by the cgo glue: a newline or an
// ANSI escape in it cannot forge or colour a log line.
func TestDatabaseErrorCannotForgeLogLines(t *testing.T) {
	forged := "nodb\n[error] forged\x1b[31m"
	dsn := testenv.PostgresServerDSN() + " dbname=" + dsnpkg.Quote(forged)
	out := startPlugin(t, flbhost.Config{"dsn": dsn, "dialect": "postgres", "load_method": "pg_copy",
		"batch_max_wait": "10ms", "connect_timeout": "2s"})
	if r := out.Flush(ticks("f", 1), "events"); r != flbhost.FlbRetry {
		t.Fatalf("flush into a missing database = %d, want RETRY", r)
	}
	if len(flbhost.LogsContaining("batch not loaded", `nodb\n[error] forged\x1b[31m`)) != 1 {
		t.Errorf("the database error is not logged, escaped, once:\n%s", strings.Join(flbhost.Logs(), "\n"))
	}
	for _, l := range flbhost.Logs() {
		if strings.HasPrefix(strings.TrimSpace(l), "[error] forged") || strings.Contains(l, "\x1b") {
			t.Errorf("raw control character in the log: %q", l)
		}
	}
}
