package redshift

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// TestDedupeQueryProbesTheIndex: on PostgreSQL the dedupe SELECT of a
// full batch, planned as the load transaction plans it, must probe the
// auto-created (uuid, expand_index) index, so that its cost follows the
// batch and not the table, both before the table has statistics (a new
// table, or one a backlog grows faster than autovacuum analyzes it) and
// after; and it must find exactly the batch's keys the table holds. The
// table holds 300,000 rows of one second of fired_ts, as a backlog's
// drain loads them: without the planner settings, the same SELECT was
// planned as a scan of the whole table.
func TestDedupeQueryProbesTheIndex(t *testing.T) {
	db := openPG(t, testenv.Postgres(t))
	table := tableName{"dedupe_plan", "level_complete"}
	cols := []string{"uuid", "fired_ts", "expand_index", "seq", "player_id"}
	types := []string{"varchar(36)", "timestamp", "bigint", "bigint", "varchar(64)"}
	mustExec(t, db, Postgres.createTableStatements(table, cols, types, false)...)
	const rows, batch = 300000, 50000
	key := func(i int) string { return fmt.Sprintf("0190d6b4-7c2a-7000-8000-%012x", i) }
	mustExec(t, db,
		// No autovacuum: "before statistics" must stay so while the test runs.
		`ALTER TABLE `+table.quoted()+` SET (autovacuum_enabled = false)`,
		`INSERT INTO `+table.quoted()+` (uuid, fired_ts, expand_index, seq, player_id)
		SELECT '0190d6b4-7c2a-7000-8000-' || lpad(to_hex(i), 12, '0'), '2026-12-01 22:47:06.5', -1, i, 'player-' || i
		FROM generate_series(0, `+fmt.Sprint(rows-1)+`) i`)
	// A batch whose first half the table holds (a redelivery) and whose
	// second half it does not.
	first := rows - batch/2
	q := string(dedupeQuery(table.quoted(), "varchar(36)", true, batch, func(i int) []byte { return []byte(key(first + i)) },
		`"fired_ts" BETWEEN '2026-12-01 22:47:06' AND '2026-12-01 22:47:07'`))

	for _, stats := range []string{"before statistics", "after ANALYZE"} {
		if stats == "after ANALYZE" {
			mustExec(t, db, `ANALYZE `+table.quoted())
		}
		plan, have := dedupeInTransaction(t, db, q)
		if strings.Contains(plan, "Seq Scan on level_complete") || !strings.Contains(plan, "Index Scan using level_complete_whirlpool_key") {
			t.Errorf("%s: the dedupe SELECT of %d keys does not probe the (uuid, expand_index) index of a %d-row table; plan:\n%.2000s", stats, batch, rows, plan)
		}
		if len(have) != batch/2 {
			t.Errorf("%s: found %d of the batch's keys in the table, want the %d it holds", stats, len(have), batch/2)
		}
		for i := first; i < rows; i++ {
			if !have[key(i)] {
				t.Fatalf("%s: key %s is in the table but was not found", stats, key(i))
			}
		}
	}
}

// dedupeInTransaction runs dedupe SELECT q as loadNewRows does, in a
// transaction between indexProbesOnly and indexProbesReset, and returns
// its plan and the keys it found.
func dedupeInTransaction(t *testing.T, db *sql.DB, q string) (string, map[string]bool) {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(indexProbesOnly); err != nil {
		t.Fatal(err)
	}
	var lines []string
	plan, err := tx.Query(`EXPLAIN ` + q)
	if err != nil {
		t.Fatal(err)
	}
	for plan.Next() {
		var line string
		if err := plan.Scan(&line); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	plan.Close()
	found, err := tx.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for found.Next() {
		var u string
		var idx int64
		if err := found.Scan(&u, &idx); err != nil {
			t.Fatal(err)
		}
		if idx != -1 {
			t.Errorf("row %s: expand_index %d, want -1", u, idx)
		}
		have[u] = true
	}
	if err := found.Err(); err != nil {
		t.Fatal(err)
	}
	found.Close()
	if _, err := tx.Exec(indexProbesReset); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n"), have
}
