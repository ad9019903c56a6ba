package redshift

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

const eventCols = `uuid text, fired_ts timestamp, game text, version text, event text, definition_version text, expand_index integer, loaded_at timestamp`

func createFixtures(t *testing.T, dsn string) {
	db := openPG(t, dsn)
	mustExec(t, db,
		`CREATE SCHEMA game`,
		`CREATE TABLE game.purchase (`+eventCols+`, item text, amount bigint, price double precision, gift boolean)`,
		`CREATE TABLE game.ledger (`+eventCols+`, note text, amount bigint, gift boolean, price double precision, item text)`,
		`CREATE TABLE game.y (id integer)`,
		`CREATE SCHEMA failures`,
		`CREATE TABLE failures.events (uuid text, expand_index integer, fired_ts timestamp, game text, version text, event text,
			definition_version text, raw_event text, errors text, error_codes text, failed_at timestamp, loaded_at timestamp)`,
	)
}

// mixedChunk holds every kind of record the output meets.
func mixedChunk() []byte {
	tricky := "shield\twith tab\nnewline 'quote' back\\slash \\N é"
	return chunkOf(
		validRec{uuid: "u1", expand: -1, event: "buy", dests: []string{"game.purchase", "game.ledger"},
			columns: []col{{"item", "sword"}, {"amount", 3}, {"price", 9.5}, {"gift", true}}}.body(),
		validRec{uuid: "u2", expand: 0, event: "buy", dests: []string{"game.purchase"},
			columns: []col{{"item", tricky}, {"amount", -1}, {"price", nil}, {"gift", false}}}.body(),
		validRec{uuid: "u2", expand: 1, event: "buy", dests: []string{"game.purchase"},
			columns: []col{{"item", "x"}, {"amount", 5}}}.body(),
		validRec{uuid: "u3", expand: -1, event: "buy", dests: []string{"game.missing"},
			columns: []col{{"item", "ghost"}}}.body(),
		validRec{uuid: "u4", expand: -1, event: "buy", dests: []string{"game.purchase"},
			columns: []col{{"item", "hat"}, {"note", "red"}}}.body(),
		failureBody("u5", `{"score":"high"}`, []map[string]string{
			{"code": "FIELD_TYPE_MISMATCH", "path": "$.score", "rule": "type", "expected": "integer", "actual": "string", "message": "score must be an integer"},
			{"code": "MANDATORY_FIELD_MISSING", "path": "$.level", "rule": "required", "expected": "present", "actual": "missing", "message": "level is required"},
		}),
		envelopeBody("u6", `{"hello":1}`),
		validRec{uuid: "u7", expand: -1, event: "buy", dests: []string{`x"; DROP TABLE game.y; --`},
			columns: []col{{"item", "evil"}}}.body(),
		// the same event again in the chunk: loaded once
		validRec{uuid: "u1", expand: -1, event: "buy", dests: []string{"game.purchase", "game.ledger"},
			columns: []col{{"item", "sword"}, {"amount", 3}, {"price", 9.5}, {"gift", true}}}.body(),
	)
}

func TestLoadsRowsAndFailuresExactly(t *testing.T) {
	for _, method := range []string{"pg_copy", "insert"} {
		t.Run(method, func(t *testing.T) {
			dsn := testenv.Postgres(t)
			createFixtures(t, dsn)
			db := openPG(t, dsn)
			out := startPlugin(t, pgConfig(dsn, method))

			chunk := mixedChunk()
			for i := 0; i < 2; i++ { // the second flush is Fluent Bit re-sending the chunk
				if r := out.Flush(chunk, "events"); r != flbhost.FlbOK {
					t.Fatalf("flush %d = %d, want OK", i, r)
				}
			}

			got := testenv.QueryRows(t, db, `SELECT uuid, expand_index, fired_ts, game, version, event, definition_version,
				item, amount, price, gift, loaded_at IS NOT NULL FROM game.purchase ORDER BY uuid, expand_index`)
			want := [][]string{
				{"u1", "-1", "2026-11-21T23:45:27.123Z", "space", "1.2", "buy", "3", "sword", "3", "9.5", "true", "true"},
				{"u2", "0", "2026-11-21T23:45:27.123Z", "space", "1.2", "buy", "3", "shield\twith tab\nnewline 'quote' back\\slash \\N é", "-1", "NULL", "false", "true"},
				{"u2", "1", "2026-11-21T23:45:27.123Z", "space", "1.2", "buy", "3", "x", "5", "NULL", "NULL", "true"},
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("game.purchase =\n%q\nwant\n%q", got, want)
			}
			if got := testenv.QueryRows(t, db, `SELECT uuid, amount, item, note FROM game.ledger`); !reflect.DeepEqual(got, [][]string{{"u1", "3", "sword", "NULL"}}) {
				t.Errorf("game.ledger = %q", got)
			}
			if n := count(t, db, `SELECT count(*) FROM game.y`); n != 0 {
				t.Errorf("game.y has %d rows", n)
			}

			type ferr struct{ Code, Path, Rule, Expected, Actual, Message string }
			fails := map[string][]ferr{}
			codes := map[string]string{}
			for _, r := range testenv.QueryRows(t, db, `SELECT uuid, expand_index, game, event, definition_version, raw_event, errors, error_codes,
					fired_ts, failed_at IS NOT NULL AND loaded_at IS NOT NULL FROM failures.events ORDER BY uuid`) {
				var errs []ferr
				if err := json.Unmarshal([]byte(r[6]), &errs); err != nil {
					t.Fatalf("errors of %s: %v: %s", r[0], err, r[6])
				}
				if _, dup := fails[r[0]]; dup {
					t.Errorf("failure %s stored twice", r[0])
				}
				fails[r[0]] = errs
				codes[r[0]] = r[7]
				if r[2] != "space" || r[8] != "2026-11-21T23:45:27.123Z" || r[9] != "true" {
					t.Errorf("failure row %q: event key, fired_ts or times wrong", r)
				}
				switch r[0] {
				case "u5":
					if r[5] != `{"score":"high"}` || r[4] != "NULL" || r[1] != "-1" {
						t.Errorf("u5 raw_event/definition_version/expand_index = %q %q %q", r[5], r[4], r[1])
					}
				case "u6":
					if r[5] != `{"hello":1}` || r[3] != "login" {
						t.Errorf("u6 raw_event = %q", r[5])
					}
				case "u3":
					if !strings.Contains(r[5], `"columns":{"item":"ghost"}`) || r[4] != "3" {
						t.Errorf("u3 raw_event = %q", r[5])
					}
				}
			}
			wantCodes := map[string]string{
				"u3": "DESTINATION_NOT_FOUND", "u4": "DESTINATION_SCHEMA_MISMATCH",
				"u5": "FIELD_TYPE_MISMATCH,MANDATORY_FIELD_MISSING", "u6": "UNKNOWN_EVENT", "u7": "MODEL_MISMATCH",
			}
			if !reflect.DeepEqual(codes, wantCodes) {
				t.Errorf("failure codes = %v, want %v", codes, wantCodes)
			}
			if e := fails["u5"]; len(e) != 2 || e[0] != (ferr{"FIELD_TYPE_MISMATCH", "$.score", "type", "integer", "string", "score must be an integer"}) {
				t.Errorf("u5 errors = %+v", e)
			}
			if e := fails["u4"]; len(e) != 1 || e[0].Path != "game.purchase.note" || !strings.Contains(e[0].Message, `no column "note"`) {
				t.Errorf("u4 errors = %+v", e)
			}
			if e := fails["u3"]; len(e) != 1 || e[0].Path != "game.missing" || !strings.Contains(e[0].Message, "does not exist") {
				t.Errorf("u3 errors = %+v", e)
			}
			if e := fails["u6"]; len(e) != 1 || e[0].Message != `game space has no event "login"` {
				t.Errorf("u6 errors = %+v", e)
			}
			if e := fails["u7"]; len(e) != 1 || e[0].Actual != `x"; DROP TABLE game.y; --` || !strings.Contains(e[0].Message, "is not a destination of definition 3 of space/buy") {
				t.Errorf("u7 errors = %+v", e)
			}
		})
	}
}

// A value the table's column refuses (too long, not a number) makes that
// one row a LOAD_REJECTED failure with the database's message; the other
// rows of the batch load.
func TestPoisonRowsBecomeLoadRejected(t *testing.T) {
	for _, method := range []string{"pg_copy", "insert"} {
		t.Run(method, func(t *testing.T) {
			dsn := testenv.Postgres(t)
			db := openPG(t, dsn)
			mustExec(t, db, `CREATE SCHEMA game`, `CREATE TABLE game.score (`+eventCols+`, player varchar(5), points integer)`)
			out := startPlugin(t, flbhost.Config{"dsn": dsn, "dialect": "postgres", "load_method": method,
				"auto_create": "on", "batch_max_wait": "50ms"})
			var bodies [][]byte
			for i := 0; i < 20; i++ {
				c := []col{{"player", fmt.Sprintf("p%d", i)}, {"points", i}}
				switch i {
				case 7:
					c[0].val = "far-too-long-name"
				case 13:
					c[1].val = 1 << 40 // a BIGINT in the model, too big for the table's integer
				}
				bodies = append(bodies, validRec{uuid: fmt.Sprintf("s%02d", i), expand: -1, event: "score",
					dests: []string{"game.score"}, columns: c}.body())
			}
			chunk := chunkOf(bodies...)
			for i := 0; i < 2; i++ {
				if r := out.Flush(chunk, "events"); r != flbhost.FlbOK {
					t.Fatalf("flush = %d", r)
				}
			}
			if n := count(t, db, `SELECT count(*) FROM game.score`); n != 18 {
				t.Errorf("game.score has %d rows, want 18", n)
			}
			if n := count(t, db, `SELECT count(*) FROM game.score WHERE uuid IN ('s07', 's13')`); n != 0 {
				t.Errorf("poison rows loaded")
			}
			got := testenv.QueryRows(t, db, `SELECT uuid, error_codes, errors FROM failures.events ORDER BY uuid`)
			if len(got) != 2 || got[0][0] != "s07" || got[1][0] != "s13" {
				t.Fatalf("failures = %q", got)
			}
			for _, r := range got {
				if r[1] != "LOAD_REJECTED" || !strings.Contains(r[2], `"path":"game.score"`) {
					t.Errorf("failure %q", r)
				}
			}
			if !strings.Contains(got[0][2], "value too long") || !strings.Contains(got[0][2], "22001") {
				t.Errorf("s07 message = %s", got[0][2])
			}
			if !strings.Contains(got[1][2], "out of range for type integer") || !strings.Contains(got[1][2], "22003") {
				t.Errorf("s13 message = %s", got[1][2])
			}
		})
	}
}

// Identifiers never become SQL unless the data model names them (and the
// model's are plain identifiers), and are always quoted: with auto_create
// on, a table or column name carrying SQL becomes a failure row and
// nothing else happens; a value carrying SQL is just a value.
func TestIdentifiersCannotInjectSQL(t *testing.T) {
	dsn := testenv.Postgres(t)
	db := openPG(t, dsn)
	mustExec(t, db, `CREATE TABLE public.y (id integer)`, `INSERT INTO public.y VALUES (1)`)
	out := startPlugin(t, flbhost.Config{"dsn": dsn, "dialect": "postgres", "load_method": "insert",
		"auto_create": "on", "batch_max_wait": "50ms"})
	chunk := chunkOf(
		validRec{uuid: "i1", expand: -1, event: "e", dests: []string{`x"; DROP TABLE y; --`}, columns: []col{{"a", "1"}}}.body(),
		validRec{uuid: "i2", expand: -1, event: "e", dests: []string{`public.x"; DROP TABLE public.y; --`}, columns: []col{{"a", "1"}}}.body(),
		validRec{uuid: "i3", expand: -1, event: "e", dests: []string{"public.t with space"}, columns: []col{{"a", "1"}}}.body(),
		validRec{uuid: "i4", expand: -1, event: "e", dests: []string{"public.ok"}, columns: []col{{`a"); DROP TABLE public.y; --`, "1"}}}.body(),
		validRec{uuid: "i5", expand: -1, event: "e", dests: []string{"public.ok"}, columns: []col{{"a", `'); DROP TABLE public.y; --`}}}.body(),
		validRec{uuid: "i6", expand: -1, event: "e", dests: []string{"public." + strings.Repeat("t", 128)}, columns: []col{{"a", "1"}}}.body(),
	)
	if r := out.Flush(chunk, "events"); r != flbhost.FlbOK {
		t.Fatalf("flush = %d", r)
	}
	if n := count(t, db, `SELECT count(*) FROM public.y`); n != 1 {
		t.Fatalf("public.y has %d rows", n)
	}
	if got := testenv.QueryRows(t, db, `SELECT uuid, a FROM public.ok`); !reflect.DeepEqual(got, [][]string{{"i5", `'); DROP TABLE public.y; --`}}) {
		t.Errorf("public.ok = %q", got)
	}
	got := testenv.QueryRows(t, db, `SELECT uuid, error_codes FROM failures.events ORDER BY uuid`)
	want := [][]string{{"i1", "MODEL_MISMATCH"}, {"i2", "MODEL_MISMATCH"}, {"i3", "MODEL_MISMATCH"},
		{"i4", "MODEL_MISMATCH"}, {"i6", "MODEL_MISMATCH"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("failures = %q, want %q", got, want)
	}
	if n := count(t, db, `SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`); n != 3 {
		t.Errorf("%d tables exist, want public.y, public.ok, failures.events", n)
	}
}

// With Workers 4, concurrent flushes share transactions (rows of one
// transaction share loaded_at), and a flush returns OK only once its rows
// are committed: they are visible the moment it returns.
func TestGroupCommitSharesTransactionsAndAnswersAfterCommit(t *testing.T) {
	dsn := testenv.Postgres(t)
	db := openPG(t, dsn)
	out := startPlugin(t, flbhost.Config{"dsn": dsn, "dialect": "postgres", "load_method": "pg_copy",
		"auto_create": "on", "workers": "4", "batch_max_wait": "200ms"})
	const workers, perWorker, perChunk = 4, 6, 50
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for c := 0; c < perWorker; c++ {
				var bodies [][]byte
				for i := 0; i < perChunk; i++ {
					bodies = append(bodies, validRec{uuid: fmt.Sprintf("w%d-c%d-%d", w, c, i), expand: -1, event: "tick",
						dests: []string{"game.ticks"}, columns: []col{{"n", i}}}.body())
				}
				if r := out.Flush(chunkOf(bodies...), "events"); r != flbhost.FlbOK {
					t.Errorf("flush = %d", r)
					return
				}
				var n int // not count: it fails the test, and this is not the test's goroutine
				q := fmt.Sprintf(`SELECT count(*) FROM game.ticks WHERE uuid LIKE 'w%d-c%d-%%'`, w, c)
				if err := db.QueryRow(q).Scan(&n); err != nil {
					t.Errorf("%s: %v", q, err)
					return
				}
				if n != perChunk {
					t.Errorf("after OK, %d of %d rows of the chunk are visible", n, perChunk)
				}
			}
		}(w)
	}
	wg.Wait()
	if n := count(t, db, `SELECT count(*) FROM game.ticks`); n != workers*perWorker*perChunk {
		t.Errorf("game.ticks has %d rows", n)
	}
	txns := count(t, db, `SELECT count(DISTINCT loaded_at) FROM game.ticks`)
	if txns >= workers*perWorker {
		t.Errorf("%d flushes took %d transactions: no flushes shared one", workers*perWorker, txns)
	}
	t.Logf("%d flushes, %d transactions", workers*perWorker, txns)
}

// auto_create makes the schema and table with the model's types (a column
// of the model even when only NULLs came), adds a column when a record
// brings a new one, and makes the failures table.
func TestAutoCreateTablesAndColumns(t *testing.T) {
	dsn := testenv.Postgres(t)
	db := openPG(t, dsn)
	out := startPlugin(t, flbhost.Config{"dsn": dsn, "dialect": "postgres", "load_method": "insert",
		"auto_create": "on", "batch_max_wait": "50ms"})
	first := chunkOf(validRec{uuid: "a1", expand: -1, event: "e", dests: []string{"stats.daily"},
		columns: []col{{"name", "x"}, {"n", 1}, {"f", 1.5}, {"ok", true}, {"nothing", nil}}}.body())
	second := chunkOf(validRec{uuid: "a2", expand: -1, event: "e", dests: []string{"stats.daily"},
		columns: []col{{"name", "y"}, {"extra", 7}}}.body(), envelopeBody("a3", "{}"))
	for _, c := range [][]byte{first, second} {
		if r := out.Flush(c, "events"); r != flbhost.FlbOK {
			t.Fatalf("flush = %d", r)
		}
	}
	got := testenv.QueryRows(t, db, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = 'stats' AND table_name = 'daily' ORDER BY ordinal_position`)
	want := [][]string{{"uuid", "character varying"}, {"fired_ts", "timestamp without time zone"}, {"game", "text"}, {"version", "text"},
		{"event", "text"}, {"definition_version", "text"}, {"expand_index", "integer"}, {"loaded_at", "timestamp without time zone"},
		{"name", "text"}, {"n", "bigint"}, {"f", "double precision"}, {"ok", "boolean"}, {"nothing", "text"}, {"extra", "bigint"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats.daily columns = %q", got)
	}
	if got := testenv.QueryRows(t, db, `SELECT uuid, name, n, extra FROM stats.daily ORDER BY uuid`); !reflect.DeepEqual(got, [][]string{{"a1", "x", "1", "NULL"}, {"a2", "y", "NULL", "7"}}) {
		t.Errorf("stats.daily = %q", got)
	}
	if n := count(t, db, `SELECT count(*) FROM failures.events WHERE uuid = 'a3' AND error_codes = 'UNKNOWN_EVENT'`); n != 1 {
		t.Errorf("failure row of a3: %d", n)
	}
}

// The failures table never blocks the pipeline: text is made loadable
// (invalid UTF-8 and NUL), a failure row the table refuses is stored
// without its raw event (LOAD_REJECTED added), and one refused even so is
// dropped with an error log, while the rest of the batch loads.
func TestFailureRowsTheTableRefuses(t *testing.T) {
	dsn := testenv.Postgres(t)
	db := openPG(t, dsn)
	mustExec(t, db, `CREATE SCHEMA failures`, `CREATE TABLE failures.events (uuid text, expand_index integer, fired_ts timestamp,
		game text CHECK (game <> 'banned'), version text, event text, definition_version text,
		raw_event text CHECK (raw_event NOT LIKE '%forbidden%'), errors text, error_codes text, failed_at timestamp, loaded_at timestamp)`)
	o, log := newOutput(t, testenv.Config{"dsn": dsn, "dialect": "postgres", "load_method": "pg_copy", "batch_max_wait": "10ms"})
	e := []map[string]string{{"code": "PAYLOAD_NOT_JSON", "message": "m"}}
	chunk := chunkOf(
		failureBody("f1", "bad \x00 bytes \xff here", e),
		failureBody("f2", `{"word":"forbidden"}`, e),
		envelopeBody("f4", "{}"),
	)
	// f3's game is "banned": build it by hand
	chunk = append(chunk, chunkOf(bannedFailure())...)
	if r := o.Flush(chunk, "events"); r != plugin.OK {
		t.Fatalf("flush = %v", r)
	}
	got := testenv.QueryRows(t, db, `SELECT uuid, raw_event, error_codes FROM failures.events ORDER BY uuid`)
	want := [][]string{
		{"f1", "bad \uFFFD bytes \uFFFD here", "PAYLOAD_NOT_JSON"},
		{"f2", "NULL", "PAYLOAD_NOT_JSON,LOAD_REJECTED"},
		{"f4", "{}", "UNKNOWN_EVENT"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("failures = %q\nwant %q", got, want)
	}
	if o.Stats.FailuresDropped.Load() != 1 || log.Count(`refused the failure row of event "f3"`) != 1 {
		t.Errorf("f3 not dropped with a log line (dropped %d)", o.Stats.FailuresDropped.Load())
	}
}

func bannedFailure() []byte {
	b := failureBody("f3", "x", []map[string]string{{"code": "UNKNOWN_GAME", "message": "m"}})
	return []byte(strings.Replace(string(b), "\xa5space", "\xa6banned", 1))
}
