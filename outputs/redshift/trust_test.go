package redshift

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// forged is a record in the valid form with every field chosen by its
// sender, as anyone who can write to the queue or to an input could send.
type forged struct {
	uuid, game, event, def string
	dests                  []string
	columns                []col
}

func (f forged) body() []byte {
	return appendValidated(f.uuid, f.game, f.event, f.def, -1, f.dests, f.columns)
}

// applyStore writes the tests' data model into the model store of dsn
// (schema whirlpool_model), as cmd/whirlpool-model apply does.
func applyStore(t *testing.T, dsn string, m *validate.Model) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := validate.OpenStore(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(ctx, m); err != nil {
		t.Fatal(err)
	}
}

func loadTestModel(t *testing.T) *validate.Model {
	t.Helper()
	m, err := validate.LoadFile(testModelFile(t))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tablesOf lists the user tables of the database, schema.table, sorted.
func tablesOf(t *testing.T, db *sql.DB) []string {
	t.Helper()
	var out []string
	for _, r := range testenv.QueryRows(t, db, `SELECT table_schema || '.' || table_name FROM information_schema.tables
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema', 'whirlpool_model') ORDER BY 1`) {
		out = append(out, r[0])
	}
	return out
}

// failureCodes maps each failure row's uuid to its error codes.
func failureCodes(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, r := range testenv.QueryRows(t, db, `SELECT uuid, error_codes FROM failures.events`) {
		if _, dup := got[r[0]]; dup {
			t.Errorf("failure %s stored twice", r[0])
		}
		got[r[0]] = r[1]
	}
	return got
}

// The security finding, through the output: valid records with forged
// destinations, columns, definitions or values, sent to an output with
// auto_create on, each become one MODEL_MISMATCH failure row before any
// SQL. No table outside the model is created, no column outside the
// definition is written, the model store is unchanged, and the legitimate
// record of the same chunk loads (a forged pg_catalog.pg_class
// destination does not stall the batch).
func TestForgedValidRecordsBecomeFailures(t *testing.T) {
	dsn := testenv.Postgres(t)
	db := openPG(t, dsn)
	applyStore(t, dsn, loadTestModel(t))
	before := testenv.ModelStoreDigest(t, db)
	out := startPlugin(t, flbhost.Config{"dsn": dsn, "dialect": "postgres", "load_method": "insert", "auto_create": "on",
		"batch_max_wait": "50ms", "validate": "on", "model_dsn": dsn})

	legit := forged{uuid: "ok", game: "space", event: "buy", def: "3", dests: []string{"game.purchase"},
		columns: []col{{"item", "sword"}, {"amount", 3}, {"player_id", strings.Repeat("p", 64)}}}
	cases := []struct {
		name string
		rec  forged
	}{
		{"a table of the sender's choosing", forged{game: "space", event: "buy", def: "3", dests: []string{"public.pwned"}, columns: []col{{"evil", "yes"}}}},
		{"the model store", forged{game: "space", event: "buy", def: "3", dests: []string{"whirlpool_model.games"}, columns: []col{{"name", "pwned"}}}},
		{"a system catalog", forged{game: "space", event: "buy", def: "3", dests: []string{"pg_catalog.pg_class"}, columns: []col{{"item", "x"}}}},
		{"the failures table", forged{game: "space", event: "buy", def: "3", dests: []string{"failures.events"}, columns: []col{{"item", "x"}}}},
		{"a model table and a foreign one", forged{game: "space", event: "buy", def: "3", dests: []string{"game.purchase", "public.pwned"}, columns: []col{{"item", "x"}}}},
		{"a destination of another event", forged{game: "space", event: "buy", def: "3", dests: []string{"game.ticks"}, columns: []col{{"item", "x"}}}},
		{"a destination in other case", forged{game: "space", event: "buy", def: "3", dests: []string{"Game.Purchase"}, columns: []col{{"item", "x"}}}},
		{"a column outside the definition", forged{game: "space", event: "buy", def: "3", dests: []string{"game.purchase"}, columns: []col{{"item", "x"}, {"evil", "yes"}}}},
		{"a metadata column", forged{game: "space", event: "buy", def: "3", dests: []string{"game.purchase"}, columns: []col{{"loaded_at", "2000-01-01"}}}},
		{"a value of the wrong type", forged{game: "space", event: "buy", def: "3", dests: []string{"game.purchase"}, columns: []col{{"amount", "'; DROP TABLE x; --"}}}},
		{"a 200-byte player_id where the model says 64", forged{game: "space", event: "buy", def: "3", dests: []string{"game.purchase"}, columns: []col{{"player_id", strings.Repeat("p", 200)}}}},
		{"a definition the event lacks", forged{game: "space", event: "buy", def: "9", dests: []string{"game.purchase"}, columns: []col{{"item", "x"}}}},
		{"an event the game lacks", forged{game: "space", event: "pwn", def: "3", dests: []string{"game.purchase"}, columns: []col{{"item", "x"}}}},
		{"a game the model lacks", forged{game: "evil", event: "buy", def: "3", dests: []string{"public.pwned"}, columns: []col{{"evil", "yes"}}}},
	}
	bodies := [][]byte{legit.body()}
	for i := range cases {
		cases[i].rec.uuid = fmt.Sprintf("f%02d", i)
		bodies = append(bodies, cases[i].rec.body())
	}
	if r := out.Flush(chunkOf(bodies...), "events"); r != flbhost.FlbOK {
		t.Fatalf("flush = %d, want OK", r)
	}

	codes := failureCodes(t, db)
	for i, c := range cases {
		if got := codes[c.rec.uuid]; got != "MODEL_MISMATCH" {
			t.Errorf("%s: failure codes %q, want MODEL_MISMATCH", c.name, got)
		}
		delete(codes, fmt.Sprintf("f%02d", i))
	}
	if len(codes) != 0 {
		t.Errorf("unexpected failures %v", codes)
	}
	if got := testenv.QueryRows(t, db, `SELECT uuid, item, amount FROM game.purchase`); !reflect.DeepEqual(got, [][]string{{"ok", "sword", "3"}}) {
		t.Errorf("game.purchase = %q, want only the legitimate row", got)
	}
	if got := tablesOf(t, db); !reflect.DeepEqual(got, []string{"failures.events", "game.purchase"}) {
		t.Errorf("tables %v, want only game.purchase and failures.events", got)
	}
	// The table has the columns of the legitimate record and nothing a
	// forged record named.
	cols := testenv.QueryRows(t, db, `SELECT column_name FROM information_schema.columns WHERE table_schema = 'game' AND table_name = 'purchase' AND column_name IN ('evil', 'item', 'amount', 'player_id') ORDER BY 1`)
	if fmt.Sprint(cols) != "[[amount] [item] [player_id]]" {
		t.Errorf("game.purchase data columns %v", cols)
	}
	if after := testenv.ModelStoreDigest(t, db); after != before {
		t.Errorf("the model store changed:\n%s\n%s", before, after)
	}
	// The failure keeps the whole forged record and says what was wrong.
	var errs []struct{ Code, Path, Actual string }
	raw := testenv.QueryRows(t, db, `SELECT errors, raw_event FROM failures.events WHERE uuid = 'f00'`)
	if err := json.Unmarshal([]byte(raw[0][0]), &errs); err != nil || len(errs) != 2 ||
		errs[0].Path != "destinations" || errs[0].Actual != "public.pwned" || errs[1].Path != "columns.evil" {
		t.Errorf("f00 errors %s", raw[0][0])
	}
	if !strings.Contains(raw[0][1], `"destinations":["public.pwned"]`) {
		t.Errorf("f00 raw_event %s", raw[0][1])
	}
}

// Without a data model (validate off) the output cannot check a valid
// record, so it trusts none: each becomes a NOT_VERIFIED failure row and
// no table is created, even with auto_create on. Records not validated
// are INTERNAL_ERROR rows, as before.
func TestWithoutAModelNothingIsTrusted(t *testing.T) {
	dsn := testenv.Postgres(t)
	db := openPG(t, dsn)
	out := startPlugin(t, flbhost.Config{"dsn": dsn, "dialect": "postgres", "load_method": "pg_copy", "auto_create": "on",
		"batch_max_wait": "50ms", "validate": "off"})
	chunk := chunkOf(
		validRec{uuid: "v1", expand: -1, event: "buy", dests: []string{"game.purchase"}, columns: []col{{"item", "sword"}}}.body(),
		forged{uuid: "v2", game: "space", event: "buy", def: "3", dests: []string{"public.pwned"}, columns: []col{{"evil", "yes"}}}.body(),
		envelopeBody("v3", `{"a":1}`),
	)
	if r := out.Flush(chunk, "events"); r != flbhost.FlbOK {
		t.Fatalf("flush = %d", r)
	}
	want := map[string]string{"v1": "NOT_VERIFIED", "v2": "NOT_VERIFIED", "v3": "INTERNAL_ERROR"}
	if got := failureCodes(t, db); !reflect.DeepEqual(got, want) {
		t.Errorf("failures %v, want %v", got, want)
	}
	if got := tablesOf(t, db); !reflect.DeepEqual(got, []string{"failures.events"}) {
		t.Errorf("tables %v, want only failures.events", got)
	}
	msg := testenv.QueryRows(t, db, `SELECT errors FROM failures.events WHERE uuid = 'v1'`)[0][0]
	if !strings.Contains(msg, "validate off") {
		t.Errorf("NOT_VERIFIED message does not say why: %s", msg)
	}
}

// auto_create adds columns only to tables it made (marked with a table
// comment): a table made by someone else stays as it is, and a record
// bringing a column it lacks is a DESTINATION_SCHEMA_MISMATCH failure;
// once the table carries the mark, auto_create adds the column.
func TestAutoCreateAltersOnlyItsOwnTables(t *testing.T) {
	dsn := testenv.Postgres(t)
	db := openPG(t, dsn)
	mustExec(t, db, `CREATE SCHEMA game`, `CREATE TABLE game.purchase (uuid text, fired_ts timestamp, game text, version text, event text,
		definition_version text, expand_index integer, item text)`)
	cfg := flbhost.Config{"dsn": dsn, "dialect": "postgres", "load_method": "insert", "auto_create": "on", "batch_max_wait": "50ms"}
	out := startPlugin(t, cfg)
	rec := func(uuid string) []byte {
		return validRec{uuid: uuid, expand: -1, event: "buy", dests: []string{"game.purchase"}, columns: []col{{"item", "x"}, {"note", "n"}}}.body()
	}
	if r := out.Flush(chunkOf(rec("a1")), "events"); r != flbhost.FlbOK {
		t.Fatalf("flush = %d", r)
	}
	colsOf := func() string {
		return fmt.Sprint(testenv.QueryRows(t, db, `SELECT column_name FROM information_schema.columns WHERE table_schema = 'game' AND table_name = 'purchase' ORDER BY ordinal_position`))
	}
	if got := colsOf(); got != "[[uuid] [fired_ts] [game] [version] [event] [definition_version] [expand_index] [item]]" {
		t.Errorf("a table auto_create did not make was altered: %s", got)
	}
	if got := failureCodes(t, db); got["a1"] != "DESTINATION_SCHEMA_MISMATCH" {
		t.Errorf("failures %v", got)
	}
	if got := testenv.QueryRows(t, db, `SELECT obj_description('failures.events'::regclass, 'pg_class')`); got[0][0] != "whirlpool auto_create" {
		t.Errorf("the failures table auto_create made is not marked: %q", got)
	}

	mustExec(t, db, `COMMENT ON TABLE game.purchase IS 'whirlpool auto_create'`)
	out.Exit()
	out = startPlugin(t, cfg) // a new instance: nothing cached
	if r := out.Flush(chunkOf(rec("a2")), "events"); r != flbhost.FlbOK {
		t.Fatalf("flush = %d", r)
	}
	if got := colsOf(); got != "[[uuid] [fired_ts] [game] [version] [event] [definition_version] [expand_index] [item] [loaded_at] [note]]" {
		t.Errorf("a marked table: columns %s", got)
	}
	if got := testenv.QueryRows(t, db, `SELECT uuid, note FROM game.purchase`); !reflect.DeepEqual(got, [][]string{{"a2", "n"}}) {
		t.Errorf("game.purchase = %q", got)
	}
}

// A table whose DDL or load fails for a reason retrying cannot change
// (PostgreSQL refuses to create a table in pg_catalog; a view cannot be
// loaded) fails only its own rows, as failure rows; the other tables' rows
// of the same batch commit and the flush is OK, every time.
func TestOneBrokenTableDoesNotStallTheBatch(t *testing.T) {
	for _, method := range []string{"pg_copy", "insert"} {
		t.Run(method, func(t *testing.T) {
			dsn := testenv.Postgres(t)
			db := openPG(t, dsn)
			mustExec(t, db, `CREATE SCHEMA game`, `CREATE VIEW game.hazard_view AS SELECT DISTINCT 'u'::text AS uuid, now()::timestamp AS fired_ts,
				'g'::text AS game, 'v'::text AS version, 'e'::text AS event, '3'::text AS definition_version, -1 AS expand_index,
				now()::timestamp AS loaded_at, 1::bigint AS n`)
			out := startPlugin(t, flbhost.Config{"dsn": dsn, "dialect": "postgres", "load_method": method, "auto_create": "on", "batch_max_wait": "50ms"})
			hazard := func(uuid string, dests ...string) []byte {
				return forged{uuid: uuid, game: "space", event: "hazard", def: "3", dests: dests, columns: []col{{"n", 1}}}.body()
			}
			chunk := chunkOf(
				hazard("h1", "pg_catalog.whirlpool_trap", "game.hazard_ok"),
				hazard("h2", "game.hazard_view"),
				hazard("h3", "game.hazard_ok"),
				validRec{uuid: "b1", expand: -1, event: "buy", dests: []string{"game.purchase"}, columns: []col{{"item", "x"}}}.body(),
			)
			for i := 0; i < 2; i++ {
				if r := out.Flush(chunk, "events"); r != flbhost.FlbOK {
					t.Fatalf("flush %d = %d, want OK", i, r)
				}
			}
			if got := testenv.QueryRows(t, db, `SELECT uuid FROM game.hazard_ok ORDER BY uuid`); fmt.Sprint(got) != "[[h1] [h3]]" {
				t.Errorf("game.hazard_ok = %v", got)
			}
			if got := testenv.QueryRows(t, db, `SELECT uuid FROM game.purchase`); fmt.Sprint(got) != "[[b1]]" {
				t.Errorf("game.purchase = %v", got)
			}
			want := map[string]string{"h1": "DESTINATION_NOT_FOUND", "h2": "LOAD_REJECTED"}
			if got := failureCodes(t, db); !reflect.DeepEqual(got, want) {
				t.Errorf("failures %v, want %v", got, want)
			}
			msg := testenv.QueryRows(t, db, `SELECT errors FROM failures.events WHERE uuid = 'h1'`)[0][0]
			if !strings.Contains(msg, `"path":"pg_catalog.whirlpool_trap"`) || !strings.Contains(msg, "SQLSTATE 42939") {
				t.Errorf("h1 errors %s", msg)
			}
		})
	}
}

// The output runs as a loader role with no rights on whirlpool_model (the
// README's grants; the model is read through model_dsn as a read-only
// role): it loads normally, and even a model that names a table in
// whirlpool_model cannot make it write there: that table's rows become
// failure rows while the others load. The role itself cannot write the
// model store.
func TestLoaderRoleWithoutRightsOnTheModelStore(t *testing.T) {
	dsn := testenv.Postgres(t)
	db := openPG(t, dsn)
	m := loadTestModel(t)
	m.Games[0].Events = append(m.Games[0].Events, validate.Event{Name: "intrude", Definitions: []validate.Definition{{
		Version: "3", Destinations: []string{"whirlpool_model.pwned", "game.intrude_ok"},
		Fields: []validate.Field{{Name: "n", Path: "n", Type: "integer"}},
	}}})
	applyStore(t, dsn, m)
	before := testenv.ModelStoreDigest(t, db)

	loader, reader := testenv.LoaderRoles(t, db) // the README's statements

	out := startPlugin(t, flbhost.Config{"dsn": dsn + " user=" + loader, "dialect": "postgres", "load_method": "pg_copy",
		"auto_create": "on", "batch_max_wait": "50ms", "validate": "on", "model_dsn": dsn + " user=" + reader})
	chunk := chunkOf(
		validRec{uuid: "b1", expand: -1, event: "buy", dests: []string{"game.purchase"}, columns: []col{{"item", "x"}, {"amount", 2}}}.body(),
		forged{uuid: "i1", game: "space", event: "intrude", def: "3", dests: []string{"whirlpool_model.pwned", "game.intrude_ok"}, columns: []col{{"n", 7}}}.body(),
		forged{uuid: "f1", game: "space", event: "buy", def: "3", dests: []string{"whirlpool_model.games"}, columns: []col{{"item", "x"}}}.body(),
		envelopeBody("e1", `{"a":1}`),
	)
	if r := out.Flush(chunk, "events"); r != flbhost.FlbOK {
		t.Fatalf("flush = %d, want OK", r)
	}
	if got := testenv.QueryRows(t, db, `SELECT uuid, item, amount FROM game.purchase`); !reflect.DeepEqual(got, [][]string{{"b1", "x", "2"}}) {
		t.Errorf("game.purchase = %q", got)
	}
	if got := testenv.QueryRows(t, db, `SELECT uuid, n FROM game.intrude_ok`); !reflect.DeepEqual(got, [][]string{{"i1", "7"}}) {
		t.Errorf("game.intrude_ok = %q", got)
	}
	want := map[string]string{"i1": "DESTINATION_NOT_FOUND", "f1": "MODEL_MISMATCH", "e1": "UNKNOWN_EVENT"}
	if got := failureCodes(t, db); !reflect.DeepEqual(got, want) {
		t.Errorf("failures %v, want %v", got, want)
	}
	if got := testenv.QueryRows(t, db, `SELECT tableowner FROM pg_tables WHERE schemaname = 'game' AND tablename = 'purchase'`); got[0][0] != loader {
		t.Errorf("game.purchase owned by %s, want the loader role", got[0][0])
	}
	if after := testenv.ModelStoreDigest(t, db); after != before {
		t.Errorf("the model store changed")
	}

	// The role cannot write the model store, whatever SQL it is given.
	as := openPG(t, dsn+" user="+loader)
	for _, q := range []string{
		`INSERT INTO whirlpool_model.games (name) VALUES ('pwned')`,
		`CREATE TABLE whirlpool_model.pwned (a text)`,
		`DELETE FROM whirlpool_model.games`,
		`SELECT count(*) FROM whirlpool_model.games`,
	} {
		_, err := as.Exec(q)
		if sqlState(err) != "42501" {
			t.Errorf("as the loader role, %s: %v, want permission denied (42501)", q, err)
		}
	}
}

// Valid records whose columns are their definition's, all and in its
// order (what the validator writes), have their values placed by position;
// records with the columns in another order or only some of them, by
// name. Both load the same values into the same columns, side by side in
// one chunk, and a table that lacks a column of the definition (one
// auto_create did not make, so it is not altered) still takes
// the rows that leave it NULL and fails the one that sets it.
func TestColumnsInAndOutOfTheDefinitionsOrder(t *testing.T) {
	dsn := testenv.Postgres(t)
	db := openPG(t, dsn)
	applyStore(t, dsn, loadTestModel(t))
	meta := `uuid text, fired_ts timestamp, game text, version text, event text, definition_version text, expand_index integer, loaded_at timestamp`
	mustExec(t, db, `CREATE SCHEMA game`,
		`CREATE TABLE game.purchase (`+meta+`, item text, amount bigint, price double precision, gift boolean, note text, player_id text)`,
		`CREATE TABLE game.ledger (`+meta+`, player_id text, gift boolean, item text, amount bigint, price double precision)`) // no note
	out := startPlugin(t, flbhost.Config{"dsn": dsn, "dialect": "postgres", "load_method": "pg_copy", "auto_create": "on",
		"batch_max_wait": "50ms", "validate": "on", "model_dsn": dsn})

	both := []string{"game.purchase", "game.ledger"}
	recs := []forged{
		{uuid: "in-order", dests: both, columns: []col{{"item", "a"}, {"amount", 1}, {"price", 1.5}, {"gift", true}, {"note", nil}, {"player_id", "p1"}}},
		{uuid: "reversed", dests: both, columns: []col{{"player_id", "p2"}, {"note", nil}, {"gift", false}, {"price", 2.5}, {"amount", 2}, {"item", "b"}}},
		{uuid: "some", dests: both, columns: []col{{"amount", 3}, {"item", "c"}}},
		{uuid: "in-order-2", dests: both, columns: []col{{"item", "d"}, {"amount", 4}, {"price", 4.5}, {"gift", true}, {"note", nil}, {"player_id", "p4"}}},
		{uuid: "with-note", dests: both, columns: []col{{"item", "e"}, {"amount", 5}, {"price", 5.5}, {"gift", false}, {"note", "hi"}, {"player_id", "p5"}}},
	}
	var bodies [][]byte
	for _, r := range recs {
		r.game, r.event, r.def = "space", "buy", "3"
		bodies = append(bodies, r.body())
	}
	if r := out.Flush(chunkOf(bodies...), "events"); r != flbhost.FlbOK {
		t.Fatalf("flush = %d, want OK", r)
	}
	purchase := testenv.QueryRows(t, db, `SELECT uuid, item, amount, price, gift, note, player_id FROM game.purchase ORDER BY item`)
	want := [][]string{{"in-order", "a", "1", "1.5", "true", "NULL", "p1"}, {"reversed", "b", "2", "2.5", "false", "NULL", "p2"},
		{"some", "c", "3", "NULL", "NULL", "NULL", "NULL"}, {"in-order-2", "d", "4", "4.5", "true", "NULL", "p4"}, {"with-note", "e", "5", "5.5", "false", "hi", "p5"}}
	if !reflect.DeepEqual(purchase, want) {
		t.Errorf("game.purchase =\n%q\nwant\n%q", purchase, want)
	}
	ledger := testenv.QueryRows(t, db, `SELECT uuid, item, amount, price, gift, player_id FROM game.ledger ORDER BY item`)
	want = [][]string{{"in-order", "a", "1", "1.5", "true", "p1"}, {"reversed", "b", "2", "2.5", "false", "p2"},
		{"some", "c", "3", "NULL", "NULL", "NULL"}, {"in-order-2", "d", "4", "4.5", "true", "p4"}}
	if !reflect.DeepEqual(ledger, want) {
		t.Errorf("game.ledger =\n%q\nwant\n%q", ledger, want)
	}
	if got := failureCodes(t, db); !reflect.DeepEqual(got, map[string]string{"with-note": "DESTINATION_SCHEMA_MISMATCH"}) {
		t.Errorf("failures %v, want with-note's DESTINATION_SCHEMA_MISMATCH (game.ledger has no note)", got)
	}
}
