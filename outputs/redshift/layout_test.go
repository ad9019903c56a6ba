package redshift

import (
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// pgLayoutConfig is a PostgreSQL output with auto_create.
func pgLayoutConfig(dsn, method string) testenv.Config {
	return testenv.Config{"dsn": dsn, "dialect": "postgres", "load_method": method, "auto_create": "on", "batch_max_wait": "10ms"}
}

// columnsOf lists name, type, nullability and whether a DEFAULT is set.
func columnsOf(t *testing.T, db *sql.DB, schema, table string) [][]string {
	t.Helper()
	return testenv.QueryRows(t, db, `SELECT column_name, data_type, COALESCE(character_maximum_length::text, ''), is_nullable,
		CASE WHEN column_default IS NULL THEN 'no default' ELSE 'default' END
		FROM information_schema.columns WHERE table_schema = '`+schema+`' AND table_name = '`+table+`' ORDER BY ordinal_position`)
}

// The tables auto_create makes: uuid VARCHAR(36) (CHAR(36) on Redshift),
// the keys NOT NULL, loaded_at filled by the database's clock in UTC, and
// the timestamp columns commented as UTC. Failure rows without a usable
// uuid or fired_ts still load: a derived uuid, failed_at for fired_ts.
func TestNewTableLayout(t *testing.T) {
	dsn := testenv.Postgres(t)
	db := openPG(t, dsn)
	// A session zone far from UTC: loaded_at must still be UTC.
	var name string
	if err := db.QueryRow(`SELECT current_database()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `ALTER DATABASE "`+name+`" SET timezone TO 'Pacific/Kiritimati'`)
	o, _ := newOutput(t, pgLayoutConfig(dsn, "insert"))

	long := strings.Repeat("x", 40)
	chunk := chunkOf(
		validRec{uuid: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", expand: 1, event: "buy", dests: []string{"game.purchase"},
			columns: []col{{"item", "sword"}}}.body(),
		failureBody(long, `{"a":1}`, []map[string]string{{"code": "FIELD_TYPE_MISMATCH", "message": "m"}}),
		failureBody("ü-not-ascii", `{"a":2}`, []map[string]string{{"code": "FIELD_TYPE_MISMATCH", "message": "m"}}),
	)
	chunk = append(chunk, 0xc1) // a byte msgpack never uses: the rest of the chunk is undecodable
	if r := o.Flush(chunk, "events"); r != plugin.OK {
		t.Fatalf("flush = %v", r)
	}

	ev := columnsOf(t, db, "game", "purchase")
	wantEv := [][]string{
		{"uuid", "character varying", "36", "NO", "no default"},
		{"fired_ts", "timestamp without time zone", "", "NO", "no default"},
		{"game", "text", "", "YES", "no default"},
		{"version", "text", "", "YES", "no default"},
		{"event", "text", "", "YES", "no default"},
		{"definition_version", "text", "", "YES", "no default"},
		{"expand_index", "integer", "", "NO", "no default"},
		{"loaded_at", "timestamp without time zone", "", "YES", "default"},
		{"item", "text", "", "YES", "no default"},
	}
	if !reflect.DeepEqual(ev, wantEv) {
		t.Errorf("game.purchase columns:\n got %q\nwant %q", ev, wantEv)
	}
	fc := columnsOf(t, db, "failures", "events")
	var notNulls, defaults []string
	for _, c := range fc {
		if c[3] == "NO" {
			notNulls = append(notNulls, c[0])
		}
		if c[4] == "default" {
			defaults = append(defaults, c[0])
		}
	}
	if !reflect.DeepEqual(notNulls, []string{"uuid", "expand_index", "fired_ts", "failed_at"}) || !reflect.DeepEqual(defaults, []string{"loaded_at"}) {
		t.Errorf("failures.events: NOT NULL %q, DEFAULT %q", notNulls, defaults)
	}

	// loaded_at is the database's clock, in UTC whatever the session zone.
	if n := count(t, db, `SELECT count(*) FROM game.purchase
		WHERE abs(extract(epoch FROM (now() AT TIME ZONE 'UTC') - loaded_at)) < 600`); n != 1 {
		t.Errorf("loaded_at of game.purchase is not the database's UTC clock: %q", testenv.QueryRows(t, db, `SELECT loaded_at, now() FROM game.purchase`))
	}
	if n := count(t, db, `SELECT count(*) FROM failures.events
		WHERE abs(extract(epoch FROM (now() AT TIME ZONE 'UTC') - loaded_at)) < 600`); n != 3 {
		t.Errorf("loaded_at of failures.events: %q", testenv.QueryRows(t, db, `SELECT uuid, loaded_at FROM failures.events`))
	}
	// The timestamp columns say they are UTC.
	if got := testenv.QueryRows(t, db, `SELECT col_description('game.purchase'::regclass, attnum) FROM pg_attribute
		WHERE attrelid = 'game.purchase'::regclass AND attname IN ('fired_ts', 'loaded_at') ORDER BY attnum`); len(got) != 2 ||
		!strings.HasPrefix(got[0][0], "UTC: ") || !strings.HasPrefix(got[1][0], "UTC: ") {
		t.Errorf("column comments = %q", got)
	}

	// Failure rows: a uuid that does not fit becomes a derived UUID; an
	// undecodable chunk has no uuid nor fired_ts and still loads.
	got := testenv.QueryRows(t, db, `SELECT uuid, error_codes, fired_ts = '1970-01-01' FROM failures.events ORDER BY error_codes, uuid`)
	if len(got) != 3 {
		t.Fatalf("failure rows = %q", got)
	}
	for _, r := range got {
		if len(r[0]) != 36 || r[0][14] != '7' || r[0] == long {
			t.Errorf("failure uuid %q is not a derived UUIDv7", r[0])
		}
	}
	if got[2][1] != "INTERNAL_ERROR" || got[2][2] != "true" {
		t.Errorf("the undecodable rest's row = %q (want fired_ts 1970-01-01: no time is known, and a re-flush must give the same)", got[2])
	}

	// The same chunk again: the derived uuids are the same, dedupe keeps one row each.
	if r := o.Flush(chunk, "events"); r != plugin.OK {
		t.Fatalf("flush again = %v", r)
	}
	if n := count(t, db, `SELECT count(*) FROM failures.events`); n != 3 {
		t.Errorf("failure rows after a re-flush = %d, want 3", n)
	}
}

// oldLayoutDDL makes an event table and a failures table as auto_create
// made them before the current layout.
var oldLayoutDDL = []string{
	`CREATE SCHEMA game`,
	`CREATE TABLE game.purchase (uuid VARCHAR(64), fired_ts TIMESTAMP, game VARCHAR(128), version VARCHAR(128), event VARCHAR(128),
		definition_version VARCHAR(128), expand_index INTEGER, loaded_at TIMESTAMP, item VARCHAR(65535))`,
	`COMMENT ON TABLE game.purchase IS 'whirlpool auto_create'`,
	`CREATE SCHEMA failures`,
	`CREATE TABLE failures.events (uuid VARCHAR(64), expand_index INTEGER, fired_ts TIMESTAMP, game VARCHAR(128), version VARCHAR(128),
		event VARCHAR(128), definition_version VARCHAR(128), raw_event TEXT, errors TEXT, error_codes VARCHAR(1024),
		failed_at TIMESTAMP, loaded_at TIMESTAMP)`,
	`COMMENT ON TABLE failures.events IS 'whirlpool auto_create'`,
}

// A table of the old layout (uuid VARCHAR(64) nullable, no NOT NULL,
// loaded_at without DEFAULT; a failures table without the raw_event_*
// columns) keeps loading: nothing of it is changed but the failures
// columns auto_create adds (one ALTER TABLE ADD COLUMN each, nullable),
// and the output fills loaded_at itself, as before.
func TestOldLayoutTableKeepsLoading(t *testing.T) {
	for _, method := range []string{"insert", "pg_copy"} {
		t.Run(method, func(t *testing.T) {
			dsn := testenv.Postgres(t)
			db := openPG(t, dsn)
			mustExec(t, db, oldLayoutDDL...)
			beforeEv := columnsOf(t, db, "game", "purchase")
			beforeF := columnsOf(t, db, "failures", "events")

			o, _ := newOutput(t, pgLayoutConfig(dsn, method))
			start := time.Now().UTC().Add(-time.Minute)
			chunk := chunkOf(
				validRec{uuid: "old-1", expand: -1, event: "buy", dests: []string{"game.purchase"}, columns: []col{{"item", "shield"}}}.body(),
				failureBody("old-2", `{"a":1}`, []map[string]string{{"code": "FIELD_TYPE_MISMATCH", "message": "m"}}),
			)
			if r := o.Flush(chunk, "events"); r != plugin.OK {
				t.Fatalf("flush = %v", r)
			}
			if got := columnsOf(t, db, "game", "purchase"); !reflect.DeepEqual(got, beforeEv) {
				t.Errorf("the old event table changed:\n got %q\nwant %q", got, beforeEv)
			}
			afterF := columnsOf(t, db, "failures", "events")
			if !reflect.DeepEqual(afterF[:len(beforeF)], beforeF) {
				t.Errorf("the old failures table's columns changed:\n got %q\nwant %q", afterF[:len(beforeF)], beforeF)
			}
			var added []string
			for _, c := range afterF[len(beforeF):] {
				added = append(added, c[0]+" "+c[3]+" "+c[4])
			}
			if want := []string{"raw_event_bytes YES no default", "raw_event_sha256 YES no default",
				"raw_event_truncated YES no default", "raw_event_s3_uri YES no default", "replayed_at YES no default"}; !reflect.DeepEqual(added, want) {
				t.Errorf("added failures columns = %q, want %q", added, want)
			}
			for _, q := range []string{`SELECT loaded_at FROM game.purchase WHERE uuid = 'old-1'`, `SELECT loaded_at FROM failures.events WHERE uuid = 'old-2'`} {
				got := testenv.QueryRows(t, db, q)
				if len(got) != 1 {
					t.Fatalf("%s: %q", q, got)
				}
				at, err := time.Parse("2006-01-02T15:04:05.999999Z", got[0][0])
				if err != nil || at.Before(start) {
					t.Errorf("%s = %q: the output did not fill loaded_at (%v)", q, got[0][0], err)
				}
			}
		})
	}
}

// The DDL of one column, as CREATE TABLE and ALTER TABLE ADD COLUMN write
// it in each dialect: added columns are nullable and without DEFAULT.
func TestColumnDDL(t *testing.T) {
	for _, c := range []struct {
		d                Dialect
		col, typ         string
		failures, create bool
		want             string
	}{
		{Redshift, "uuid", "CHAR(36)", false, true, `"uuid" CHAR(36) ENCODE ZSTD NOT NULL`},
		{Redshift, "fired_ts", "TIMESTAMP", false, true, `"fired_ts" TIMESTAMP ENCODE RAW NOT NULL`},
		{Redshift, "fired_ts", "TIMESTAMP", false, false, `"fired_ts" TIMESTAMP ENCODE AZ64`},
		{Redshift, "loaded_at", "TIMESTAMP", false, true, `"loaded_at" TIMESTAMP DEFAULT GETDATE() ENCODE AZ64`},
		{Redshift, "loaded_at", "TIMESTAMP", false, false, `"loaded_at" TIMESTAMP ENCODE AZ64`},
		{Redshift, "failed_at", "TIMESTAMP", true, true, `"failed_at" TIMESTAMP ENCODE AZ64 NOT NULL`},
		{Redshift, "failed_at", "TIMESTAMP", false, true, `"failed_at" TIMESTAMP ENCODE AZ64`},
		{Redshift, "score", "BIGINT", false, true, `"score" BIGINT ENCODE AZ64`},
		{Redshift, "name", "VARCHAR(64)", false, false, `"name" VARCHAR(64) ENCODE ZSTD`},
		{Redshift, "price", "DOUBLE PRECISION", false, true, `"price" DOUBLE PRECISION`},
		{Redshift, "raw_event", "SUPER", true, true, `"raw_event" SUPER`},
		{Postgres, "uuid", "VARCHAR(36)", true, true, `"uuid" VARCHAR(36) NOT NULL`},
		{Postgres, "loaded_at", "TIMESTAMP", false, true, `"loaded_at" TIMESTAMP DEFAULT (now() AT TIME ZONE 'UTC')`},
		{Postgres, "expand_index", "INTEGER", false, false, `"expand_index" INTEGER`},
	} {
		if got := c.d.columnDDL(c.col, c.typ, c.failures, c.create); got != c.want {
			t.Errorf("%v %s %s (failures %v, create %v) = %s, want %s", c.d, c.col, c.typ, c.failures, c.create, got, c.want)
		}
	}
}

// A failure row's uuid: the record's own when it fits CHAR(36) in
// single-byte characters, else derived, the same for the same input.
func TestFailureUUID(t *testing.T) {
	fired := time.Date(2026, 11, 21, 23, 45, 27, 0, time.UTC)
	str := func(s string) record.Value { var a arena; return a.str([]byte(s)) }
	for _, c := range []struct {
		name string
		v    record.Value
		keep bool
	}{
		{"uuidv7", str("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), true},
		{"short id", str("u1"), true},
		{"37 chars", str(strings.Repeat("a", 37)), false},
		{"multi-byte", str("ü"), false},
		{"space", str("a b"), false},
		{"empty", str(""), false},
		{"missing", nil, false},
	} {
		got := string(failureUUID(c.v, []byte(`{"a":1}`), fired))
		s, _ := c.v.Str()
		if c.keep != (got == string(s)) {
			t.Errorf("%s: %q -> %q", c.name, s, got)
		}
		if !c.keep {
			ms := fmt.Sprintf("%012x", fired.UnixMilli())
			if len(got) != 36 || !strings.HasPrefix(got, ms[:8]+"-"+ms[8:]) || got[14] != '7' {
				t.Errorf("%s: derived %q is not a UUIDv7 of fired_ts", c.name, got)
			}
			if again := string(failureUUID(c.v, []byte(`{"a":1}`), fired)); again != got {
				t.Errorf("%s: derived %q then %q", c.name, got, again)
			}
			if other := string(failureUUID(c.v, []byte(`{"a":2}`), fired)); other == got {
				t.Errorf("%s: two raw events, one uuid %q", c.name, got)
			}
		}
	}
}

// The same upgrade on Redshift, as the SQL shows it: the only DDL sent to
// an old-layout failures table is one ALTER TABLE ADD COLUMN per missing
// column (nullable, no DEFAULT), nothing to the old event table, and
// loaded_at stays in both COPY column lists since neither has a default.
func TestOldLayoutOnRedshiftOnlyAddsColumns(t *testing.T) {
	srv := testenv.S3(t, "stage")
	srv.SetEnv(t)
	dsn := testenv.Postgres(t)
	db := openPG(t, dsn)
	mustExec(t, db, oldLayoutDDL...)
	rec := &recorder{db: db}
	o, _ := newOutput(t, autoCreateCopyConfig(srv.Endpoint), WithExecutor(rec))
	chunk := chunkOf(
		validRec{uuid: "old-1", expand: -1, event: "buy", dests: []string{"game.purchase"}, columns: []col{{"item", "shield"}}}.body(),
		failureBody("old-2", `{"a":1}`, []map[string]string{{"code": "FIELD_TYPE_MISMATCH", "message": "m"}}),
	)
	if r := o.Flush(chunk, "events"); r != plugin.OK {
		t.Fatalf("flush = %v", r)
	}
	var ddl, copies []string
	for _, s := range rec.stmts {
		switch {
		case strings.HasPrefix(s, "CREATE TABLE"), strings.HasPrefix(s, "ALTER"), strings.HasPrefix(s, "COMMENT"), strings.HasPrefix(s, "DROP TABLE \"game"), strings.HasPrefix(s, "DROP TABLE \"failures"):
			ddl = append(ddl, s)
		case strings.HasPrefix(s, "COPY"):
			copies = append(copies, s)
		}
	}
	want := []string{
		`ALTER TABLE "failures"."events" ADD COLUMN "raw_event_bytes" BIGINT ENCODE AZ64`,
		`ALTER TABLE "failures"."events" ADD COLUMN "raw_event_sha256" VARCHAR(64) ENCODE ZSTD`,
		`ALTER TABLE "failures"."events" ADD COLUMN "raw_event_truncated" BOOLEAN`,
		`ALTER TABLE "failures"."events" ADD COLUMN "raw_event_s3_uri" VARCHAR(1024) ENCODE ZSTD`,
		`ALTER TABLE "failures"."events" ADD COLUMN "replayed_at" TIMESTAMP ENCODE AZ64`,
	}
	if !reflect.DeepEqual(ddl, want) {
		t.Errorf("DDL sent to the old tables:\n got %q\nwant %q", ddl, want)
	}
	if len(copies) != 2 || !strings.Contains(copies[0], `"expand_index", "loaded_at", "item")`) || !strings.Contains(copies[1], `"failed_at", "loaded_at"`) {
		t.Errorf("COPY column lists without the output's loaded_at: %q", copies)
	}
}
