package redshift

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// Redshift reports a serializable isolation violation as error 1023 under
// SQLSTATE XX000 (the number leads the message, the table and the cycle
// follow as DETAIL), not as 40001: it must be taken for a conflict (run
// the batch again), never for a load error or a table's fault.
func TestConflictsAreRecognised(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"redshift 1023, detail apart", &pq.Error{Code: "XX000", Message: "1023",
			Detail: "Serializable isolation violation on table - 12345, transactions forming the cycle are: 1001, 1002 (pid:4242)"}, true},
		{"redshift 1023, one text", &pq.Error{Code: "XX000",
			Message: "ERROR: 1023 DETAIL: Serializable isolation violation on table - 12345, transactions forming the cycle are: 1001, 1002"}, true},
		{"postgres serialization failure", &pq.Error{Code: "40001", Message: "could not serialize access due to concurrent update"}, true},
		{"postgres deadlock", &pq.Error{Code: "40P01", Message: "deadlock detected"}, true},
		{"wrapped", fmt.Errorf("locking game.score: %w", &pq.Error{Code: "XX000", Message: "1023", Detail: "Serializable isolation violation on table - 1"}), true},
		{"another internal error", &pq.Error{Code: "XX000", Message: "10234 out of slices"}, false},
		{"copy load error", &pq.Error{Code: "XX000", Message: "Load into table 'whirlpool_stage_1' failed.  Check 'sys_load_error_detail' system table for details."}, false},
		{"data error", &pq.Error{Code: "22P02", Message: "invalid input syntax for type integer"}, false},
		{"outage", errors.New("dial tcp 127.0.0.1:5439: connect: connection refused"), false},
	} {
		if got := isConflict(tc.err); got != tc.want {
			t.Errorf("%s: isConflict = %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, msg := range []string{
		"Load into table 'x' failed.  Check 'stl_load_errors' system table for details.",
		"Load into table 'x' failed. Check 'sys_load_error_detail' system table for details.",
	} {
		if !isCopyLoadError(&pq.Error{Code: "XX000", Message: msg}) {
			t.Errorf("not a COPY load error: %s", msg)
		}
	}
}

// A conflict on the append transaction rolls it back; the stages it left
// in the session are dropped, the batch runs again at once and commits,
// and the conflict is counted and logged with Redshift's message.
func TestConflictRunsTheBatchAgain(t *testing.T) {
	srv, _, rec := scoreCopyFixture(t)
	var mu sync.Mutex
	locked, conflicted := false, false
	rec.fail = func(q string) error {
		mu.Lock()
		defer mu.Unlock()
		if strings.HasPrefix(q, "LOCK ") {
			locked = true
		}
		if q == "COMMIT" && locked && !conflicted {
			conflicted = true
			return &pq.Error{Code: "XX000", Message: "1023", Detail: "Serializable isolation violation on table - 12345, transactions forming the cycle are: 1001, 1002 (pid:4242)"}
		}
		return nil
	}
	o, log := newOutput(t, testenv.Config{"db_host": "redshift.example", "user": "loader", "database": "dev",
		"load_method": "copy", "s3_bucket": "stage", "s3_endpoint": srv.Endpoint, "batch_max_wait": "10ms"}, WithExecutor(rec))
	chunk := chunkOf(validRec{uuid: "s1", expand: -1, event: "score", dests: []string{"game.score"}, columns: []col{{"points", 1}}}.body(),
		failureBody("f1", `{}`, []map[string]string{{"code": "FIELD_TYPE_MISMATCH", "message": "m"}}))
	if r := o.Flush(chunk, "events"); r != plugin.OK {
		t.Fatalf("flush = %v", r)
	}
	rec.mu.Lock()
	var seq []string
	for _, s := range rec.stmts {
		seq = append(seq, strings.SplitN(s, " (", 2)[0])
	}
	rec.mu.Unlock()
	del := func(stage, table string) string {
		return `DELETE FROM "` + stage + `" USING ` + table + ` WHERE "` + stage + `"."uuid" = ` + table + `."uuid" AND "` + stage + `"."expand_index" = ` +
			table + `."expand_index" AND ` + table + `."fired_ts" BETWEEN '2026-11-21 23:45:27' AND '2026-11-21 23:45:28'`
	}
	want := []string{
		`BEGIN`, `CREATE TEMP TABLE "whirlpool_stage_1"`, `COPY "whirlpool_stage_1"`, `CREATE TEMP TABLE "whirlpool_stage_2"`, `COPY "whirlpool_stage_2"`, `COMMIT`,
		`BEGIN`, `LOCK "failures"."events"`, `LOCK "game"."score"`,
		del("whirlpool_stage_2", `"failures"."events"`), `INSERT INTO "failures"."events"`, `DROP TABLE "whirlpool_stage_2"`,
		del("whirlpool_stage_1", `"game"."score"`), `INSERT INTO "game"."score"`, `DROP TABLE "whirlpool_stage_1"`,
		`COMMIT`, `ROLLBACK`, `DROP TABLE IF EXISTS "whirlpool_stage_1", "whirlpool_stage_2"`,
		`BEGIN`, `CREATE TEMP TABLE "whirlpool_stage_3"`, `COPY "whirlpool_stage_3"`, `CREATE TEMP TABLE "whirlpool_stage_4"`, `COPY "whirlpool_stage_4"`, `COMMIT`,
		`BEGIN`, `LOCK "failures"."events"`, `LOCK "game"."score"`,
		del("whirlpool_stage_4", `"failures"."events"`), `INSERT INTO "failures"."events"`, `DROP TABLE "whirlpool_stage_4"`,
		del("whirlpool_stage_3", `"game"."score"`), `INSERT INTO "game"."score"`, `DROP TABLE "whirlpool_stage_3"`,
		`COMMIT`,
	}
	if strings.Join(seq, "\n") != strings.Join(want, "\n") {
		t.Errorf("statements:\n%s\nwant\n%s", strings.Join(seq, "\n"), strings.Join(want, "\n"))
	}
	if n := o.Stats.Conflicts.Load(); n != 1 {
		t.Errorf("Stats.Conflicts = %d, want 1", n)
	}
	if log.Count("conflicted with another transaction") != 1 || log.Count("Serializable isolation violation on table - 12345") != 1 {
		t.Errorf("the conflict was not logged with Redshift's message: %q", log.Lines())
	}
	if o.Stats.FailuresByCode()[string(failcode.LoadRejected)] != 0 {
		t.Errorf("a conflict made failure rows")
	}
}

// A COPY refused with a load error whose rows the load error view never
// names is tried max_load_attempts times, then the table's rows become
// LOAD_REJECTED failure rows with the database's message and the batch
// commits: no endless loop. An outage is no refusal: the flush is
// retried and nothing becomes a failure row.
func TestRefusalsWithoutARowEndAsLoadRejected(t *testing.T) {
	loadErr := &pq.Error{Code: "XX000", Message: "Load into table 'whirlpool_stage_1' failed.  Check 'sys_load_error_detail' system table for details."}
	for _, tc := range []struct {
		name     string
		attempts string // max_load_attempts; "" for the default
		err      error
		want     plugin.Result
		copies   int // COPYs of game.score
		rejected int64
	}{
		{"default 3 attempts", "", loadErr, plugin.OK, 3, 1},
		{"one attempt", "1", loadErr, plugin.OK, 1, 1},
		{"five attempts", "5", loadErr, plugin.OK, 5, 1},
		{"outage", "", errors.New("dial tcp 10.0.0.1:5439: connect: connection refused"), plugin.Retry, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testenv.S3(t, "stage")
			srv.SetEnv(t)
			dsn := testenv.Postgres(t)
			db := openPG(t, dsn)
			mustExec(t, db, `CREATE SCHEMA game`, `CREATE TABLE game.score (`+eventCols+`, points integer)`,
				`CREATE SCHEMA failures`, `CREATE TABLE failures.events (uuid text, expand_index integer, fired_ts timestamp, game text, version text, event text,
					definition_version text, raw_event text, errors text, error_codes text, failed_at timestamp, loaded_at timestamp)`)
			rec := &recorder{db: db}
			copies := 0
			rec.fail = func(q string) error {
				if strings.HasPrefix(q, "COPY ") && strings.Contains(q, "/game.score/manifest.json") {
					copies++
					return tc.err
				}
				return nil
			}
			rec.stl = func() [][]string { return nil } // the view names no row
			cfg := testenv.Config{"db_host": "redshift.example", "user": "loader", "database": "dev",
				"load_method": "copy", "s3_bucket": "stage", "s3_endpoint": srv.Endpoint, "batch_max_wait": "10ms"}
			if tc.attempts != "" {
				cfg["max_load_attempts"] = tc.attempts
			}
			o, _ := newOutput(t, cfg, WithExecutor(rec))
			chunk := chunkOf(
				validRec{uuid: "s1", expand: -1, event: "score", dests: []string{"game.score"}, columns: []col{{"points", 1}}}.body(),
				validRec{uuid: "s2", expand: -1, event: "score", dests: []string{"game.score"}, columns: []col{{"points", 2}}}.body())
			if r := o.Flush(chunk, "events"); r != tc.want {
				t.Fatalf("flush = %v, want %v", r, tc.want)
			}
			if copies != tc.copies {
				t.Errorf("game.score was copied %d times, want %d", copies, tc.copies)
			}
			if n := o.Stats.LoadsRefused.Load(); n != tc.rejected {
				t.Errorf("Stats.LoadsRefused = %d, want %d", n, tc.rejected)
			}
			want := int64(0)
			if tc.rejected > 0 {
				want = 2
			}
			if got := o.Stats.FailuresByCode()[string(failcode.LoadRejected)]; got != want {
				t.Errorf("LOAD_REJECTED rows = %d, want %d", got, want)
			}
			if tc.rejected == 0 {
				return
			}
			var lines []map[string]any
			for _, k := range srv.Keys(t, "stage", "whirlpool/") {
				if strings.HasSuffix(k, ".json.gz") && strings.Contains(k, "/failures.events/") {
					lines = append(lines, gunzipLines(t, srv.Get(t, "stage", k))...)
				}
			}
			if len(lines) != 2 || !strings.Contains(fmt.Sprint(lines[0]["errors"]), "Check 'sys_load_error_detail'") ||
				!strings.Contains(fmt.Sprint(lines[0]["errors"]), "refused the load") {
				t.Errorf("failure rows = %v", lines)
			}
		})
	}
}

// failureBodyAt is failureBody with a fired_ts of the test's choosing.
func failureBodyAt(uuid, fired string) []byte {
	b := msgp.AppendMapHeader(nil, 8)
	for _, kv := range [][2]string{{"uuid", uuid}, {"fired_ts", fired}, {"game", "space"}, {"version", "1.2"}, {"event", "kill"}, {"body", "{}"}} {
		b = msgp.AppendString(b, kv[0])
		b = msgp.AppendString(b, kv[1])
	}
	b = msgp.AppendString(b, "definition_version")
	b = msgp.AppendNil(b)
	b = msgp.AppendString(b, "errors")
	return appendAny(b, []map[string]string{{"code": "ENDPOINT_INVALID", "message": "m"}})
}

// The fired_ts bound must not let a duplicate through: a failure row whose
// record has no readable fired_ts is stored with its chunk record's time
// (the same on a re-flush), in a table that allows NULL too (a pre-made
// one), and loading it again, alone or beside rows that have one, finds it.
func TestFiredBoundKeepsFailureDuplicatesOut(t *testing.T) {
	for _, tc := range []struct{ dialect, method string }{
		{"postgres", "pg_copy"},
		{"redshift", "insert"},
	} {
		t.Run(tc.dialect+"_"+tc.method, func(t *testing.T) {
			dsn := testenv.Postgres(t)
			db := openPG(t, dsn)
			mustExec(t, db, `CREATE SCHEMA failures`, `CREATE TABLE failures.events (uuid text, expand_index integer, fired_ts timestamp, game text, version text, event text,
				definition_version text, raw_event text, errors text, error_codes text, failed_at timestamp, loaded_at timestamp)`)
			o, _ := newOutput(t, testenv.Config{"dsn": dsn, "dialect": tc.dialect, "load_method": tc.method, "batch_max_wait": "10ms"}, withTap(func(int, string) {}))
			alone := chunkOf(failureBodyAt("n1", "yesterday"))
			mixed := chunkOf(failureBodyAt("n1", "yesterday"), failureBodyAt("t1", "2026-11-21T23:45:27.123Z"))
			for i, chunk := range [][]byte{alone, alone, mixed} {
				if r := o.Flush(chunk, "events"); r != plugin.OK {
					t.Fatalf("flush %d = %v", i+1, r)
				}
				time.Sleep(1100 * time.Millisecond) // a later failed_at each time, which fired_ts must not follow
			}
			want := fmt.Sprintf("[[n1 %s 1] [t1 2026-11-21T23:45:27.123Z 1]]", t0.UTC().Format("2006-01-02T15:04:05.000Z"))
			if got := testenv.QueryRows(t, db, `SELECT uuid, fired_ts, count(*) FROM failures.events GROUP BY 1, 2 ORDER BY 1`); fmt.Sprint(got) != want {
				t.Errorf("failures.events = %v, want %s", got, want)
			}
		})
	}
}

// TestFiredBound pins the bound itself: whole seconds around the batch's
// range, both readings of a zone offset, NULLs kept when a row has none,
// and no bound where one could drop a duplicate.
func TestFiredBound(t *testing.T) {
	var a arena
	str := func(s string) record.Value { return a.str([]byte(s)) }
	ts := &colMeta{name: "fired_ts", typ: "timestamp without time zone"}
	event := func(fired ...string) []*rec {
		var out []*rec
		for _, f := range fired {
			out = append(out, &rec{firedTS: str(f)})
		}
		return out
	}
	failure := func(fired ...string) []*rec {
		var out []*rec
		for _, f := range fired {
			v := make([]record.Value, len(failureCols))
			if f != "" {
				v[fFiredTS] = str(f)
			}
			out = append(out, &rec{fvals: v})
		}
		return out
	}
	const col = `"t"."fired_ts"`
	for _, tc := range []struct {
		name     string
		failures bool
		col      *colMeta
		recs     []*rec
		want     string
	}{
		{"event rows", false, ts, event("2026-11-21T23:45:27.123Z", "2026-11-20T10:00:00Z", "2026-11-21T08:00:59.999999Z"),
			col + ` BETWEEN '2026-11-20 10:00:00' AND '2026-11-21 23:45:28'`},
		{"zone offset: the instant and the clock time", false, ts, event("2026-11-21T23:45:27+02:00"),
			col + ` BETWEEN '2026-11-21 21:45:27' AND '2026-11-21 23:45:28'`},
		{"an unreadable fired_ts: no bound", false, ts, event("2026-11-21T23:45:27Z", "soon"), ""},
		{"runs of one request's fired_ts", false, ts, event("2026-11-21T23:45:27Z", "2026-11-21T23:45:27Z", "2026-11-22T01:00:00Z",
			"2026-11-22T01:00:00Z", "2026-11-20T00:00:00Z", "2026-11-20T00:00:00Z"), col + ` BETWEEN '2026-11-20 00:00:00' AND '2026-11-22 01:00:01'`},
		{"an unreadable fired_ts after a run", false, ts, event("2026-11-21T23:45:27Z", "2026-11-21T23:45:27Z", "soon"), ""},
		{"timestamp column type from auto_create", false, &colMeta{typ: "timestamp"}, event("2026-11-21T23:45:27Z"),
			col + ` BETWEEN '2026-11-21 23:45:27' AND '2026-11-21 23:45:28'`},
		{"a text column: no bound", false, &colMeta{typ: "text"}, event("2026-11-21T23:45:27Z"), ""},
		{"timestamptz: no bound", false, &colMeta{typ: "timestamp with time zone"}, event("2026-11-21T23:45:27Z"), ""},
		{"no fired_ts column: no bound", false, nil, event("2026-11-21T23:45:27Z"), ""},
		{"failure rows", true, ts, failure("2026-11-21 23:45:27.123"), col + ` BETWEEN '2026-11-21 23:45:27' AND '2026-11-21 23:45:28'`},
		{"failure rows, one without fired_ts", true, ts, failure("2026-11-21 23:45:27.123", ""),
			`(` + col + ` BETWEEN '2026-11-21 23:45:27' AND '2026-11-21 23:45:28' OR ` + col + ` IS NULL)`},
		{"failure rows, none with fired_ts: no bound", true, ts, failure("", ""), ""},
		{"failure rows, runs of one fired_ts", true, ts, failure("2026-11-21 23:45:27", "2026-11-21 23:45:27", "2026-11-19 08:00:00", "2026-11-19 08:00:00"),
			col + ` BETWEEN '2026-11-19 08:00:00' AND '2026-11-21 23:45:28'`},
	} {
		m := &tableMeta{exists: true, cols: map[string]*colMeta{}}
		if tc.col != nil {
			m.cols["fired_ts"] = tc.col
		}
		tl := &tableLoad{failures: tc.failures, meta: m, recs: tc.recs}
		if got := tl.firedBound(col); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

// batch_max_wait defaults by dialect: long on Redshift, where every
// commit is costly, short on PostgreSQL; a value set wins.
func TestBatchMaxWaitDefaultsByDialect(t *testing.T) {
	for _, tc := range []struct {
		cfg  testenv.Config
		want time.Duration
	}{
		{testenv.Config{"dsn": "host=h", "dialect": "redshift", "load_method": "insert"}, time.Minute},
		{testenv.Config{"dsn": "host=h", "dialect": "postgres"}, 2 * time.Second},
		{testenv.Config{"dsn": "host=h", "dialect": "redshift", "load_method": "insert", "batch_max_wait": "5s"}, 5 * time.Second},
		{testenv.Config{"dsn": "host=h", "dialect": "postgres", "batch_max_wait": "0s"}, 0},
	} {
		c, err := parseConfig(tc.cfg)
		if err != nil {
			t.Fatalf("%v: %v", tc.cfg, err)
		}
		if c.maxWait != tc.want {
			t.Errorf("%v: batch_max_wait %v, want %v", tc.cfg, c.maxWait, tc.want)
		}
	}
}

// One COPY per table per batch, however big: rows past copyFileBytes go
// to further files, and the one manifest names them all.
func TestCopyLoadsABigTableWithOneCopyOverSeveralFiles(t *testing.T) {
	srv := testenv.S3(t, "stage")
	srv.SetEnv(t)
	dsn := testenv.Postgres(t)
	rec := &recorder{db: openPG(t, dsn)}
	o, _ := newOutput(t, testenv.Config{"db_host": "redshift.example", "user": "loader", "database": "dev", "load_method": "copy",
		"auto_create": "on", "s3_bucket": "stage", "s3_endpoint": srv.Endpoint, "batch_max_wait": "10ms"}, WithExecutor(rec))
	item := strings.Repeat("x", 60000)
	var bodies [][]byte
	for i := 0; i*len(item) < copyFileBytes+copyFileBytes/2; i++ {
		bodies = append(bodies, validRec{uuid: fmt.Sprintf("b%04d", i), expand: -1, event: "buy", dests: []string{"game.purchase"},
			columns: []col{{"item", item}}}.body())
	}
	if r := o.Flush(chunkOf(bodies...), "events"); r != plugin.OK {
		t.Fatalf("flush = %v", r)
	}
	var parts, manifests []string
	for _, k := range srv.Keys(t, "stage", "whirlpool/") {
		switch {
		case strings.Contains(k, "/game.purchase/part-"):
			parts = append(parts, k)
		case strings.HasSuffix(k, "/game.purchase/manifest.json"):
			manifests = append(manifests, k)
		}
	}
	if len(parts) < 2 || len(manifests) != 1 {
		t.Fatalf("staged %d files and %d manifests for %d rows of %d bytes", len(parts), len(manifests), len(bodies), len(item))
	}
	m := string(srv.Get(t, "stage", manifests[0]))
	rows := 0
	for _, p := range parts {
		if !strings.Contains(m, `"s3://stage/`+p+`"`) {
			t.Errorf("the manifest does not name %s", p)
		}
		rows += len(gunzipLines(t, srv.Get(t, "stage", p)))
	}
	if rows != len(bodies) {
		t.Errorf("the files hold %d rows, want %d", rows, len(bodies))
	}
	copies := 0
	rec.mu.Lock()
	for _, s := range rec.stmts {
		if strings.HasPrefix(s, "COPY ") && strings.Contains(s, "/game.purchase/manifest.json") {
			copies++
		}
	}
	rec.mu.Unlock()
	if copies != 1 {
		t.Errorf("%d COPYs of game.purchase, want 1", copies)
	}
}

// When the failures table itself refuses its rows without naming one, they
// are stored without their raw event after max_load_attempts refusals,
// and dropped with an error log after as many more; the event rows of the
// batch commit either way.
func TestFailuresTableRefusalsEndInADrop(t *testing.T) {
	srv, _, rec := scoreCopyFixture(t)
	copies := 0
	rec.fail = func(q string) error {
		if strings.HasPrefix(q, "COPY ") && strings.Contains(q, "/failures.events/manifest.json") {
			copies++
			return &pq.Error{Code: "XX000", Message: "Load into table 'whirlpool_stage_2' failed.  Check 'stl_load_errors' system table for details."}
		}
		return nil
	}
	rec.stl = func() [][]string { return nil }
	o, log := newOutput(t, testenv.Config{"db_host": "redshift.example", "user": "loader", "database": "dev", "load_method": "copy",
		"s3_bucket": "stage", "s3_endpoint": srv.Endpoint, "batch_max_wait": "10ms", "max_load_attempts": "2"}, WithExecutor(rec))
	chunk := chunkOf(validRec{uuid: "s1", expand: -1, event: "score", dests: []string{"game.score"}, columns: []col{{"points", 1}}}.body(),
		failureBody("f1", `{"score":"high"}`, []map[string]string{{"code": "FIELD_TYPE_MISMATCH", "message": "m"}}))
	if r := o.Flush(chunk, "events"); r != plugin.OK {
		t.Fatalf("flush = %v", r)
	}
	if copies != 4 {
		t.Errorf("failures.events was copied %d times, want 4 (2 whole, 2 without raw_event)", copies)
	}
	if o.Stats.FailuresDropped.Load() != 1 || log.Count(`refused the failure row of event "f1" even without its raw event`) != 1 {
		t.Errorf("f1 not dropped with an error log (dropped %d)", o.Stats.FailuresDropped.Load())
	}
	minimal := 0
	for _, k := range srv.Keys(t, "stage", "whirlpool/") {
		if strings.HasSuffix(k, ".json.gz") && strings.Contains(k, "/failures.events/") && !strings.Contains(k, "/0/") && !strings.Contains(k, "/1/") {
			for _, l := range gunzipLines(t, srv.Get(t, "stage", k)) {
				minimal++
				if l["raw_event"] != nil {
					t.Errorf("%s: after 2 refusals the failure row still holds its raw event", k)
				}
			}
		}
	}
	if minimal != 2 {
		t.Errorf("%d failure rows staged without raw_event, want 2 (attempts 3 and 4)", minimal)
	}
	rec.mu.Lock()
	last := rec.stmts[len(rec.stmts)-1]
	committedScore := false
	for _, s := range rec.stmts {
		if strings.HasPrefix(s, `INSERT INTO "game"."score"`) {
			committedScore = true
		}
	}
	rec.mu.Unlock()
	if last != "COMMIT" || !committedScore {
		t.Errorf("the event row was not appended and committed (last statement %s)", last)
	}
}
