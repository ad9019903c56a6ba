package redshift

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// barrier holds every loader at its first dedupe statement (the first
// LOCK, or, were there none, the first key SELECT or DELETE ... USING)
// until all have reached it, so they all dedupe at the same moment: the
// worst case for exactly-once, made certain instead of left to timing.
type barrier struct {
	mu      sync.Mutex
	waiting int
	n       int
	seen    map[*tapExecutor]bool
	all     chan struct{}
}

func newBarrier(n int) *barrier {
	return &barrier{n: n, seen: map[*tapExecutor]bool{}, all: make(chan struct{})}
}

// wait is called by each loader's tap; it holds back only the first dedupe
// statement of each loader.
func (b *barrier) wait(t *testing.T, e *tapExecutor, q string) {
	if !(strings.HasPrefix(q, "LOCK ") || strings.HasPrefix(q, `SELECT "uuid"`) || strings.HasPrefix(q, "DELETE FROM ")) {
		return
	}
	b.mu.Lock()
	if b.seen[e] {
		b.mu.Unlock()
		return
	}
	b.seen[e] = true
	b.waiting++
	if b.waiting == b.n {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
	case <-time.After(time.Minute): // a guard against a hang, not a measure
		t.Errorf("a loader waited a minute for the others to reach their dedupe")
	}
}

// Processors are competing consumers: the same events can reach several
// loaders at once (a retried chunk, a message delivered twice). Several
// outputs, each with connections of its own, load the same records at the
// same moment; every (uuid, expand_index) must be in each table exactly
// once, on both dialects. The redshift dialect runs here as far as
// PostgreSQL runs its SQL (insert: staging, LOCK, DELETE ... USING,
// INSERT ... SELECT). Without the locks (try removing them in txn.go),
// every loader finds no key and each inserts its own copy.
func TestConcurrentLoadersLoadEachEventOnce(t *testing.T) {
	const loaders = 4
	for _, tc := range []struct{ dialect, method string }{
		{"postgres", "pg_copy"},
		{"postgres", "insert"},
		{"redshift", "insert"},
	} {
		t.Run(tc.dialect+"_"+tc.method, func(t *testing.T) {
			dsn := testenv.Postgres(t)
			db := openPG(t, dsn)
			mustExec(t, db, `CREATE SCHEMA game`,
				`CREATE TABLE game.purchase (`+eventCols+`, item text, amount bigint)`,
				`CREATE TABLE game.ledger (`+eventCols+`, item text, amount bigint)`,
				`CREATE SCHEMA failures`, `CREATE TABLE failures.events (uuid text, expand_index integer, fired_ts timestamp, game text, version text, event text,
					definition_version text, raw_event text, errors text, error_codes text, failed_at timestamp, loaded_at timestamp)`)
			var bodies [][]byte
			for i := 0; i < 20; i++ {
				bodies = append(bodies, validRec{uuid: fmt.Sprintf("u%02d", i), expand: i % 3, event: "buy",
					dests: []string{"game.purchase", "game.ledger"}, columns: []col{{"item", "x"}, {"amount", i}}}.body())
			}
			bodies = append(bodies, failureBody("f1", `{"score":"high"}`, []map[string]string{{"code": "FIELD_TYPE_MISMATCH", "message": "m"}}))
			chunk := chunkOf(bodies...)

			bar := newBarrier(loaders)
			outs := make([]*Output, loaders)
			for i := range outs {
				var exec *tapExecutor
				tap := func(_ int, q string) { bar.wait(t, exec, q) }
				outs[i], _ = newOutput(t, testenv.Config{"dsn": dsn, "dialect": tc.dialect, "load_method": tc.method, "batch_max_wait": "10ms"},
					withTap(tap))
				exec = outs[i].exec.(*tapExecutor)
			}
			var wg sync.WaitGroup
			results := make([]plugin.Result, loaders)
			for i, o := range outs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = o.Flush(chunk, "events")
				}()
			}
			wg.Wait()
			for i, r := range results {
				if r != plugin.OK {
					t.Errorf("loader %d: flush = %v", i, r)
				}
			}
			for _, tc := range []struct {
				table string
				rows  int
			}{{"game.purchase", 20}, {"game.ledger", 20}, {"failures.events", 1}} {
				if n := count(t, db, `SELECT count(*) FROM `+tc.table); n != tc.rows {
					t.Errorf("%s holds %d rows, want %d", tc.table, n, tc.rows)
				}
				if dup := testenv.QueryRows(t, db, `SELECT uuid, expand_index, count(*) FROM `+tc.table+` GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY 1, 2`); len(dup) > 0 {
					t.Errorf("%s: keys loaded more than once: %v", tc.table, dup)
				}
			}
		})
	}
}
