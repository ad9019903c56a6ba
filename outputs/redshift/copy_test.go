package redshift

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/lib/pq"

	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// recorder captures the SQL of load_method copy, which only Amazon Redshift
// can run. Catalogue queries (information_schema, pg_description) go to a real PostgreSQL
// database so table metadata is real; every other statement is recorded.
type recorder struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts []string
	// fail, when set, is the error of a statement (as Redshift would
	// answer it); stl answers the sys_load_error_detail query.
	fail func(q string) error
	stl  func() [][]string
}

func (r *recorder) Session(context.Context) (Session, error) { return recSession{r}, nil }
func (r *recorder) Close() error                             { return nil }

type recSession struct{ r *recorder }

func (s recSession) Exec(_ context.Context, q string) (int64, error) {
	s.r.mu.Lock()
	s.r.stmts = append(s.r.stmts, q)
	fail := s.r.fail
	s.r.mu.Unlock()
	if fail != nil {
		return 0, fail(q)
	}
	return 0, nil
}

func (s recSession) Query(ctx context.Context, q string) ([][]string, error) {
	if !strings.Contains(q, "information_schema") && !strings.Contains(q, "pg_catalog.pg_description") {
		s.Exec(ctx, q)
		if strings.Contains(q, "sys_load_error_detail") && s.r.stl != nil {
			return s.r.stl(), nil
		}
		return nil, nil
	}
	return (&dbSession{}).queryDB(ctx, s.r.db, q)
}

func (recSession) Close() error { return nil }

func (*dbSession) queryDB(ctx context.Context, db *sql.DB, q string) ([][]string, error) {
	c, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return (&dbSession{conn: c}).Query(ctx, q)
}

func gunzipLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestCopyModeStagesFilesAndIssuesRedshiftSQL(t *testing.T) {
	srv := testenv.S3(t, "stage")
	srv.SetEnv(t)
	dsn := testenv.Postgres(t)
	rec := &recorder{db: openPG(t, dsn)}
	o, _ := newOutput(t, testenv.Config{"db_host": "redshift.example", "user": "loader", "database": "dev", "password": "s3cret",
		"load_method": "copy", "auto_create": "on", "s3_bucket": "stage", "s3_prefix": "wp", "s3_region": "us-east-1",
		"s3_endpoint": srv.Endpoint, "iam_role": "arn:aws:iam::123456789012:role/loader", "batch_max_wait": "10ms"},
		WithExecutor(rec))

	chunk := chunkOf(
		validRec{uuid: "u1", expand: -1, event: "buy", dests: []string{"game.purchase"},
			columns: []col{{"item", "sword\n\"x\""}, {"amount", 3}}}.body(),
		validRec{uuid: "u2", expand: 2, event: "buy", dests: []string{"game.purchase"},
			columns: []col{{"item", nil}, {"amount", 4}}}.body(),
		failureBody("u5", `{"score":"high"}`, []map[string]string{{"code": "FIELD_TYPE_MISMATCH", "path": "$.score", "message": "m"}}),
	)
	if r := o.Flush(chunk, "events"); r != plugin.OK {
		t.Fatalf("flush = %v", r)
	}

	keys := srv.Keys(t, "stage", "wp/")
	if len(keys) != 6 {
		t.Fatalf("staged objects = %q", keys)
	}
	// wp/YYYY/MM/DD/<batch uuid>/<schema>.<table>/...
	base := keys[0][:strings.LastIndex(keys[0], "/failures.events/")+1]
	want := []string{
		base + "failures.events/jsonpaths.json", base + "failures.events/manifest.json", base + "failures.events/part-00000.json.gz",
		base + "game.purchase/jsonpaths.json", base + "game.purchase/manifest.json", base + "game.purchase/part-00000.json.gz",
	}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys = %q\nwant %q", keys, want)
	}
	url := "s3://stage/" + base

	// The data files: gzip'd JSON lines, one object per row.
	lines := gunzipLines(t, srv.Get(t, "stage", base+"game.purchase/part-00000.json.gz"))
	if len(lines) != 2 || lines[0]["uuid"] != "u1" || lines[0]["item"] != "sword\n\"x\"" || lines[0]["amount"] != json.Number("3") ||
		lines[0]["expand_index"] != json.Number("-1") || lines[0]["fired_ts"] != "2026-11-21T23:45:27.123Z" ||
		lines[1]["uuid"] != "u2" || lines[1]["item"] != nil || lines[1]["expand_index"] != json.Number("2") {
		t.Errorf("game.purchase rows = %v", lines)
	}
	fl := gunzipLines(t, srv.Get(t, "stage", base+"failures.events/part-00000.json.gz"))
	if len(fl) != 1 || fl[0]["uuid"] != "u5" || fl[0]["error_codes"] != "FIELD_TYPE_MISMATCH" {
		t.Fatalf("failure rows = %v", fl)
	}
	if raw, ok := fl[0]["raw_event"].(map[string]any); !ok || raw["score"] != "high" {
		t.Errorf("raw_event (SUPER) is not embedded as JSON: %#v", fl[0]["raw_event"])
	}
	if errs, ok := fl[0]["errors"].([]any); !ok || len(errs) != 1 {
		t.Errorf("errors (SUPER) is not embedded as JSON: %#v", fl[0]["errors"])
	}

	// The manifest names exactly the data files, mandatory, with sizes.
	var m struct {
		Entries []struct {
			URL       string `json:"url"`
			Mandatory bool   `json:"mandatory"`
			Meta      struct {
				ContentLength int `json:"content_length"`
			} `json:"meta"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(srv.Get(t, "stage", base+"game.purchase/manifest.json"), &m); err != nil {
		t.Fatal(err)
	}
	size := len(srv.Get(t, "stage", base+"game.purchase/part-00000.json.gz"))
	if len(m.Entries) != 1 || m.Entries[0].URL != url+"game.purchase/part-00000.json.gz" || !m.Entries[0].Mandatory || m.Entries[0].Meta.ContentLength != size {
		t.Errorf("manifest = %+v", m)
	}
	var jp struct {
		JSONPaths []string `json:"jsonpaths"`
	}
	if err := json.Unmarshal(srv.Get(t, "stage", base+"game.purchase/jsonpaths.json"), &jp); err != nil {
		t.Fatal(err)
	}
	// loaded_at is left to its DEFAULT: the database's clock fills it.
	evCols := []string{"uuid", "fired_ts", "game", "version", "event", "definition_version", "expand_index", "item", "amount"}
	var wantPaths []string
	for _, c := range evCols {
		wantPaths = append(wantPaths, "$['"+c+"']")
	}
	if !reflect.DeepEqual(jp.JSONPaths, wantPaths) {
		t.Errorf("jsonpaths = %q", jp.JSONPaths)
	}

	// The SQL, statement by statement.
	q := func(cols []string) string { return `"` + strings.Join(cols, `", "`) + `"` }
	fCols := []string{"uuid", "expand_index", "fired_ts", "game", "version", "event", "definition_version", "raw_event", "errors", "error_codes", "failed_at",
		"raw_event_bytes", "raw_event_sha256", "raw_event_truncated", "raw_event_s3_uri"}
	wantSQL := []string{
		`CREATE SCHEMA IF NOT EXISTS "game"`,
		`CREATE TABLE IF NOT EXISTS "game"."purchase" ("uuid" CHAR(36) ENCODE ZSTD NOT NULL, "fired_ts" TIMESTAMP ENCODE RAW NOT NULL, "game" VARCHAR(128) ENCODE ZSTD, "version" VARCHAR(128) ENCODE ZSTD, "event" VARCHAR(128) ENCODE ZSTD, "definition_version" VARCHAR(128) ENCODE ZSTD, "expand_index" INTEGER ENCODE AZ64 NOT NULL, "loaded_at" TIMESTAMP DEFAULT GETDATE() ENCODE AZ64, "item" VARCHAR(256) ENCODE ZSTD, "amount" BIGINT ENCODE AZ64) DISTSTYLE KEY DISTKEY ("uuid") SORTKEY ("fired_ts")`,
		`COMMENT ON TABLE "game"."purchase" IS 'whirlpool auto_create'`,
		`COMMENT ON COLUMN "game"."purchase"."fired_ts" IS 'UTC: when the event reached the edge (the eventing input''s receipt time)'`,
		`COMMENT ON COLUMN "game"."purchase"."loaded_at" IS 'UTC: when the row was loaded (the database''s clock)'`,
		`CREATE SCHEMA IF NOT EXISTS "failures"`,
		`CREATE TABLE IF NOT EXISTS "failures"."events" ("uuid" CHAR(36) ENCODE ZSTD NOT NULL, "expand_index" INTEGER ENCODE AZ64 NOT NULL, "fired_ts" TIMESTAMP ENCODE RAW NOT NULL, "game" VARCHAR(128) ENCODE ZSTD, "version" VARCHAR(128) ENCODE ZSTD, "event" VARCHAR(128) ENCODE ZSTD, "definition_version" VARCHAR(128) ENCODE ZSTD, "raw_event" SUPER, "errors" SUPER, "error_codes" VARCHAR(1024) ENCODE ZSTD, "failed_at" TIMESTAMP ENCODE AZ64 NOT NULL, "loaded_at" TIMESTAMP DEFAULT GETDATE() ENCODE AZ64, "raw_event_bytes" BIGINT ENCODE AZ64, "raw_event_sha256" VARCHAR(64) ENCODE ZSTD, "raw_event_truncated" BOOLEAN, "raw_event_s3_uri" VARCHAR(1024) ENCODE ZSTD, "replayed_at" TIMESTAMP ENCODE AZ64) DISTSTYLE KEY DISTKEY ("uuid") SORTKEY ("fired_ts")`,
		`COMMENT ON TABLE "failures"."events" IS 'whirlpool auto_create'`,
		`COMMENT ON COLUMN "failures"."events"."fired_ts" IS 'UTC: when the event reached the edge (the eventing input''s receipt time)'`,
		`COMMENT ON COLUMN "failures"."events"."failed_at" IS 'UTC: when the redshift output received the failure'`,
		`COMMENT ON COLUMN "failures"."events"."loaded_at" IS 'UTC: when the row was loaded (the database''s clock)'`,
		`COMMENT ON COLUMN "failures"."events"."replayed_at" IS 'UTC: when replay loaded the failure''s event as rows (NULL: not replayed)'`,
		`BEGIN`,
		`CREATE TEMP TABLE "whirlpool_stage_1" (LIKE "game"."purchase")`,
		`COPY "whirlpool_stage_1" (` + q(evCols) + `) FROM '` + url + `game.purchase/manifest.json' IAM_ROLE 'arn:aws:iam::123456789012:role/loader' MANIFEST FORMAT AS JSON '` + url + `game.purchase/jsonpaths.json' GZIP TIMEFORMAT 'auto' REGION 'us-east-1' COMPUPDATE OFF STATUPDATE OFF`,
		`CREATE TEMP TABLE "whirlpool_stage_2" (LIKE "failures"."events")`,
		`COPY "whirlpool_stage_2" (` + q(fCols) + `) FROM '` + url + `failures.events/manifest.json' IAM_ROLE 'arn:aws:iam::123456789012:role/loader' MANIFEST FORMAT AS JSON '` + url + `failures.events/jsonpaths.json' GZIP TIMEFORMAT 'auto' REGION 'us-east-1' COMPUPDATE OFF STATUPDATE OFF`,
		`COMMIT`,
		`BEGIN`,
		`LOCK "failures"."events"`,
		`LOCK "game"."purchase"`,
		`DELETE FROM "whirlpool_stage_2" USING "failures"."events" WHERE "whirlpool_stage_2"."uuid" = "failures"."events"."uuid" AND "whirlpool_stage_2"."expand_index" = "failures"."events"."expand_index" AND "failures"."events"."fired_ts" BETWEEN '2026-11-21 23:45:27' AND '2026-11-21 23:45:28'`,
		`INSERT INTO "failures"."events" (` + q(fCols) + `) SELECT ` + q(fCols) + ` FROM "whirlpool_stage_2"`,
		`DROP TABLE "whirlpool_stage_2"`,
		`DELETE FROM "whirlpool_stage_1" USING "game"."purchase" WHERE "whirlpool_stage_1"."uuid" = "game"."purchase"."uuid" AND "whirlpool_stage_1"."expand_index" = "game"."purchase"."expand_index" AND "game"."purchase"."fired_ts" BETWEEN '2026-11-21 23:45:27' AND '2026-11-21 23:45:28'`,
		`INSERT INTO "game"."purchase" (` + q(evCols) + `) SELECT ` + q(evCols) + ` FROM "whirlpool_stage_1"`,
		`DROP TABLE "whirlpool_stage_1"`,
		`COMMIT`,
	}
	rec.mu.Lock()
	got := append([]string(nil), rec.stmts...)
	rec.mu.Unlock()
	for i := 0; i < len(got) || i < len(wantSQL); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(wantSQL) {
			w = wantSQL[i]
		}
		if g != w {
			t.Errorf("statement %d:\n got %s\nwant %s", i+1, g, w)
		}
	}
	for _, s := range got {
		u := strings.ToUpper(s)
		if strings.Contains(u, "STDIN") || strings.Contains(u, "ON CONFLICT") || strings.Contains(u, "JSONB") || len(s) > MaxStatement {
			t.Errorf("not Redshift SQL: %s", s)
		}
	}
}

func TestConfigErrorsNameThePropertyAndHideSecrets(t *testing.T) {
	for _, tc := range []struct {
		cfg  testenv.Config
		want string
	}{
		{testenv.Config{"dsn": "host=h user=u password=hunter2", "load_method": "pg_copy"}, `property "load_method": pg_copy (COPY FROM STDIN) does not exist on Amazon Redshift`},
		{testenv.Config{"dsn": "host=h user=u password=hunter2", "dialect": "postgres", "load_method": "copy"}, `property "load_method"`},
		{testenv.Config{"dsn": "host=h password=hunter2", "load_method": "copy"}, `property "s3_bucket": is required with load_method copy`},
		{testenv.Config{"db_host": "h", "user": "u", "database": "d", "password": "hunter2", "sslmode": "maybe", "load_method": "insert"}, `property "sslmode": invalid value "maybe"`},
		{testenv.Config{"dsn": "postgres://u:hunter2@h/d", "dialect": "postgres", "failures_table": `f."x;"`}, `property "failures_table"`},
		{testenv.Config{"dialect": "postgres"}, `property "db_host" is required`},
	} {
		_, err := New(plugin.Env{Config: tc.cfg, Log: &testenv.Log{}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.cfg, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestPasswordFromEnvAndFile(t *testing.T) {
	t.Setenv("WP_TEST_PW", "from-env")
	c, err := parseConfig(testenv.Config{"db_host": "h", "user": "u", "database": "d", "password_env": "WP_TEST_PW", "dialect": "postgres"})
	if err != nil || !strings.Contains(c.dsn, "password=from-env") || strings.Contains(c.redacted, "from-env") {
		t.Fatalf("password_env: %v %v", c, err)
	}
	f := t.TempDir() + "/pw"
	if err := writeFile(f, "it's\n"); err != nil {
		t.Fatal(err)
	}
	c, err = parseConfig(testenv.Config{"db_host": "h", "user": "u", "database": "d", "password_file": f, "dialect": "postgres"})
	if err != nil || !strings.Contains(c.dsn, `password='it\'s'`) || !strings.Contains(c.dsn, "port=5432") {
		t.Fatalf("password_file: dsn %q err %v", c.dsn, err)
	}
}

// A password read from password_env or password_file is one DSN value,
// whatever it holds: whitespace, quotes, backslashes or "sslmode=disable"
// in it never change sslmode, and the redacted DSN shows none of it.
func TestPasswordCannotChangeSSLMode(t *testing.T) {
	pw := "a\tsslmode=disable b c' sslmode=disable \\' x\\"
	t.Setenv("WP_TEST_PW", pw)
	f := t.TempDir() + "/pw"
	if err := writeFile(f, pw+"\n"); err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []testenv.Config{
		{"db_host": "h", "user": "u", "database": "d", "password_env": "WP_TEST_PW", "sslmode": "verify-full", "dialect": "postgres"},
		{"db_host": "h", "user": "u", "database": "d", "password_file": f, "sslmode": "require", "dialect": "postgres"},
		{"dsn": "host=h user=u dbname=d", "password_env": "WP_TEST_PW", "sslmode": "verify-ca", "dialect": "postgres"},
		{"dsn": "postgres://u@h/d", "password_file": f, "sslmode": "verify-full", "dialect": "postgres"},
	} {
		c, err := parseConfig(cfg)
		if err != nil {
			t.Fatalf("%v: %v", cfg, err)
		}
		got, err := pq.NewConfig(c.dsn)
		if err != nil {
			t.Fatalf("%v: lib/pq cannot parse the DSN: %v", cfg, err)
		}
		if got.Password != pw || string(got.SSLMode) != cfg["sslmode"] {
			t.Errorf("%v: lib/pq reads password %q and sslmode %q, want %q and %s", cfg, got.Password, got.SSLMode, pw, cfg["sslmode"])
		}
		if strings.Contains(c.redacted, "disable") || strings.Contains(c.redacted, "x\\") {
			t.Errorf("%v: redacted DSN %q shows the password", cfg, c.redacted)
		}
	}
}

// When Redshift's COPY refuses a row (with the message of a provisioned
// cluster, which names stl_load_errors, or of Serverless, which names
// sys_load_error_detail), the output reads SYS_LOAD_ERROR_DETAIL for the
// files of that COPY, turns the named row into a LOAD_REJECTED failure row
// and loads the batch again without it.
func TestCopyModeTurnsLoadErrorsIntoLoadRejected(t *testing.T) {
	for _, tc := range []struct{ cluster, table string }{
		{"provisioned", "stl_load_errors"},
		{"serverless", "sys_load_error_detail"},
	} {
		t.Run(tc.cluster, func(t *testing.T) {
			testCopyLoadError(t, "Load into table 'whirlpool_stage_1' failed.  Check '"+tc.table+"' system table for details.")
		})
	}
}

func testCopyLoadError(t *testing.T, message string) {
	srv, _, rec := scoreCopyFixture(t)
	var part string
	copies := 0
	rec.fail = func(q string) error {
		if strings.HasPrefix(q, "COPY ") && strings.Contains(q, "game.score/manifest.json") {
			copies++
			if copies == 1 {
				part = q[strings.Index(q, "s3://"):strings.Index(q, "manifest.json")] + "part-00000.json.gz"
				return &pq.Error{Code: "XX000", Message: message}
			}
		}
		return nil
	}
	rec.stl = func() [][]string {
		return [][]string{{part + "   ", "2", "points", "1207", "Invalid digit, Value 'l', Pos 0, Type: Integer"}}
	}
	o, log := newOutput(t, testenv.Config{"db_host": "redshift.example", "user": "loader", "database": "dev",
		"load_method": "copy", "s3_bucket": "stage", "s3_endpoint": srv.Endpoint, "batch_max_wait": "10ms"}, WithExecutor(rec))
	var bodies [][]byte
	for i := 0; i < 3; i++ {
		bodies = append(bodies, validRec{uuid: fmt.Sprintf("s%d", i), expand: -1, event: "score", dests: []string{"game.score"},
			columns: []col{{"points", i}}}.body())
	}
	if r := o.Flush(chunkOf(bodies...), "events"); r != plugin.OK {
		t.Fatalf("flush = %v", r)
	}
	rec.mu.Lock()
	stmts := append([]string(nil), rec.stmts...)
	rec.mu.Unlock()
	var seq []string
	for _, s := range stmts {
		seq = append(seq, strings.SplitN(s, " ", 2)[0])
	}
	want := "BEGIN CREATE COPY ROLLBACK SELECT BEGIN CREATE COPY CREATE COPY COMMIT BEGIN LOCK LOCK DELETE INSERT DROP DELETE INSERT DROP COMMIT"
	if strings.Join(seq, " ") != want {
		t.Errorf("statements: %s\nwant        %s", strings.Join(seq, " "), want)
	}
	if want := loadErrorsSQL(part[:strings.Index(part, "/0/game.score/")+1] + "%/game.score/%"); stmts[4] != want {
		t.Errorf("statement 5 = %s\nwant %s", stmts[4], want)
	}
	if !strings.Contains(stmts[2], "IAM_ROLE default") {
		t.Errorf("COPY without IAM_ROLE default: %s", stmts[2])
	}
	// The second attempt staged, in a folder of its own, the two good
	// rows and the failure row.
	var staged []string
	for _, k := range srv.Keys(t, "stage", "whirlpool/") {
		if strings.HasSuffix(k, ".json.gz") && strings.Contains(k, "/1/") {
			staged = append(staged, k)
		}
	}
	if len(staged) != 2 {
		t.Fatalf("staged files %q", staged)
	}
	for _, k := range staged {
		lines := gunzipLines(t, srv.Get(t, "stage", k))
		switch {
		case strings.Contains(k, "/game.score/"):
			if len(lines) != 2 || lines[0]["uuid"] != "s0" || lines[1]["uuid"] != "s2" {
				t.Errorf("game.score rows %v", lines)
			}
		default:
			if len(lines) != 1 || lines[0]["uuid"] != "s1" || lines[0]["error_codes"] != "LOAD_REJECTED" ||
				!strings.Contains(fmt.Sprint(lines[0]["errors"]), "Invalid digit") {
				t.Errorf("failure rows %v", lines)
			}
		}
	}
	if log.Count("rejected by game.score (sys_load_error_detail)") != 1 {
		t.Errorf("the rejection was not logged")
	}
	if got := o.Stats.FailuresByCode()[string(failcode.LoadRejected)]; got != 1 {
		t.Errorf("LOAD_REJECTED counter = %d", got)
	}
}

func TestStartupLogHidesThePassword(t *testing.T) {
	_, log := newOutput(t, testenv.Config{"dsn": "host=127.0.0.1 port=1 user=u password=hunter2 dbname=d sslmode=disable",
		"dialect": "postgres", "load_method": "insert"})
	lines := log.Lines()
	if len(lines) == 0 {
		t.Fatal("nothing logged at start")
	}
	for _, l := range lines {
		if strings.Contains(l, "hunter2") {
			t.Errorf("log shows the password: %s", l)
		}
	}
	if !strings.Contains(lines[0], "password=(hidden)") {
		t.Errorf("start-up line = %s", lines[0])
	}
}

// TestSSLModeDefaultsByDialect: Amazon Redshift is verified by default (its
// endpoints carry publicly trusted certificates); PostgreSQL is encrypted
// without verification; an explicit sslmode wins either way.
func TestSSLModeDefaultsByDialect(t *testing.T) {
	for _, tc := range []struct {
		cfg  testenv.Config
		want string
	}{
		{testenv.Config{"db_host": "h", "user": "u", "database": "d", "password": "p", "dialect": "redshift", "load_method": "insert"}, "verify-full"},
		{testenv.Config{"db_host": "h", "user": "u", "database": "d", "password": "p", "dialect": "postgres"}, "require"},
		{testenv.Config{"db_host": "h", "user": "u", "database": "d", "password": "p", "dialect": "redshift", "load_method": "insert", "sslmode": "require"}, "require"},
	} {
		c, err := parseConfig(tc.cfg)
		if err != nil {
			t.Fatalf("%v: %v", tc.cfg, err)
		}
		got, err := pq.NewConfig(c.dsn)
		if err != nil {
			t.Fatalf("%v: lib/pq cannot parse the DSN: %v", tc.cfg, err)
		}
		if string(got.SSLMode) != tc.want {
			t.Errorf("%v: sslmode %q, want %q", tc.cfg, got.SSLMode, tc.want)
		}
	}
}

// jsonEqual reports whether a and b are JSON texts of equal values.
func jsonEqual(a, b string) bool {
	var x, y any
	return json.Unmarshal([]byte(a), &x) == nil && json.Unmarshal([]byte(b), &y) == nil && reflect.DeepEqual(x, y)
}

// profileChunk holds JSON text spread over lines, bound for SUPER columns
// (object and array fields, raw_event), and text that is not JSON.
var (
	prettyPrefs  = "{\n  \"theme\": \"dark\",\n  \"keys\": {\n\t\"jump\": \"space\",\n\t\"note\": \"a\\nb\"\n  }\n}"
	prettyTags   = "[\n  1,\n  \"two\",\n  {\"three\": [3, 3]}\n]"
	prettyEvent  = "{\n    \"score\": \"high\",\n    \"nested\": {\"k\": [1,\n 2]}\n}\n"
	notJSONEvent = "{\"score\":\n  oops"
)

func profileChunk() []byte {
	e := []map[string]string{{"code": "FIELD_TYPE_MISMATCH", "message": "m"}}
	return chunkOf(
		validRec{uuid: "p1", expand: -1, event: "profile", dests: []string{"game.profiles"},
			columns: []col{{"prefs", prettyPrefs}, {"tags", prettyTags}}}.body(),
		validRec{uuid: "p2", expand: -1, event: "profile", dests: []string{"game.profiles"},
			columns: []col{{"prefs", `{"theme":"light"}`}, {"tags", nil}}}.body(),
		failureBody("f1", prettyEvent, e),
		failureBody("f2", notJSONEvent, e),
	)
}

// COPY's load errors name a bad row by its file and line, so a staged
// file holds exactly one line per row: JSON text for a SUPER column that
// spans lines (a client's pretty-printed event, or an object column a
// valid record carries) is compacted, and still loads as the same value.
func TestCopyFilesHoldOneRowPerLine(t *testing.T) {
	srv := testenv.S3(t, "stage")
	srv.SetEnv(t)
	dsn := testenv.Postgres(t)
	rec := &recorder{db: openPG(t, dsn)}
	o, _ := newOutput(t, autoCreateCopyConfig(srv.Endpoint),
		WithExecutor(rec), WithTableSchemas(modelSchemas{testModel(t)}))
	if r := o.Flush(profileChunk(), "events"); r != plugin.OK {
		t.Fatalf("flush = %v", r)
	}
	keys := srv.Keys(t, "stage", "wp/")
	file := func(table string) []byte {
		for _, k := range keys {
			if strings.HasSuffix(k, "/"+table+"/part-00000.json.gz") {
				zr, err := gzip.NewReader(bytes.NewReader(srv.Get(t, "stage", k)))
				if err != nil {
					t.Fatal(err)
				}
				data, err := io.ReadAll(zr)
				if err != nil {
					t.Fatal(err)
				}
				return data
			}
		}
		t.Fatalf("no staged file for %s in %q", table, keys)
		return nil
	}
	for _, tc := range []struct {
		table string
		want  map[string]map[string]string // uuid -> column -> JSON text of the value expected
	}{
		{"game.profiles", map[string]map[string]string{
			"p1": {"prefs": prettyPrefs, "tags": prettyTags},
			"p2": {"prefs": `{"theme":"light"}`, "tags": "null"},
		}},
		{"failures.events", map[string]map[string]string{
			"f1": {"raw_event": prettyEvent},
			"f2": {"raw_event": strconv.Quote(notJSONEvent)}, // not JSON: a SUPER string
		}},
	} {
		t.Run(tc.table, func(t *testing.T) {
			data := file(tc.table)
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			if len(lines) != len(tc.want) || !strings.HasSuffix(string(data), "\n") {
				t.Fatalf("%d lines for %d rows:\n%s", len(lines), len(tc.want), data)
			}
			for i, line := range lines {
				var row map[string]json.RawMessage
				if err := json.Unmarshal([]byte(line), &row); err != nil {
					t.Fatalf("line %d is not one JSON object: %v\n%s", i+1, err, line)
				}
				var uuid string
				json.Unmarshal(row["uuid"], &uuid)
				for c, want := range tc.want[uuid] {
					if !jsonEqual(string(row[c]), want) {
						t.Errorf("%s %s = %s, want the value of %s", uuid, c, row[c], want)
					}
				}
			}
		})
	}
}

// pg_copy's text format escapes newlines itself: one line per row, and
// the text loads as it came.
func TestPgCopyRowsAreOneLineEach(t *testing.T) {
	var data []byte
	for _, v := range []string{prettyEvent, prettyPrefs, notJSONEvent + "\r\n\\."} {
		var a arena
		data = appendCopyRow(data, []record.Value{a.str([]byte(v)), a.str([]byte("x\ty"))})
	}
	if n := bytes.Count(data, []byte{'\n'}); n != 3 {
		t.Errorf("%d lines for 3 rows:\n%s", n, data)
	}

	dsn := testenv.Postgres(t)
	o, _ := newOutput(t, testenv.Config{"dsn": dsn, "dialect": "postgres", "load_method": "pg_copy", "auto_create": "on", "batch_max_wait": "10ms"},
		WithTableSchemas(modelSchemas{testModel(t)}))
	if r := o.Flush(profileChunk(), "events"); r != plugin.OK {
		t.Fatalf("flush = %v", r)
	}
	db := openPG(t, dsn)
	for _, tc := range []struct{ q, want string }{
		{`SELECT prefs FROM game.profiles WHERE uuid = 'p1'`, prettyPrefs},
		{`SELECT tags FROM game.profiles WHERE uuid = 'p1'`, prettyTags},
		{`SELECT raw_event FROM failures.events WHERE uuid = 'f1'`, prettyEvent},
		{`SELECT raw_event FROM failures.events WHERE uuid = 'f2'`, notJSONEvent},
	} {
		if got := testenv.QueryRows(t, db, tc.q); len(got) != 1 || got[0][0] != tc.want {
			t.Errorf("%s = %q, want %q", tc.q, got, tc.want)
		}
	}
}

// scoreCopyFixture is the usual stage of a copy-mode test: an S3 server in
// the environment, a database holding game.score and a failures table of
// plain types, and a recorder over it.
func scoreCopyFixture(t *testing.T) (*testenv.S3Server, *sql.DB, *recorder) {
	t.Helper()
	srv := testenv.S3(t, "stage")
	srv.SetEnv(t)
	db := openPG(t, testenv.Postgres(t))
	mustExec(t, db, `CREATE SCHEMA game`, `CREATE TABLE game.score (`+eventCols+`, points integer)`,
		`CREATE SCHEMA failures`, `CREATE TABLE failures.events (uuid text, expand_index integer, fired_ts timestamp, game text, version text, event text,
			definition_version text, raw_event text, errors text, error_codes text, failed_at timestamp, loaded_at timestamp)`)
	return srv, db, &recorder{db: db}
}

// autoCreateCopyConfig is a copy-mode output on "Redshift" (its SQL
// recorded) with auto_create on, staging under wp/ of the S3 server at
// endpoint.
func autoCreateCopyConfig(endpoint string) testenv.Config {
	return testenv.Config{"db_host": "redshift.example", "user": "loader", "database": "dev",
		"load_method": "copy", "auto_create": "on", "s3_bucket": "stage", "s3_prefix": "wp/", "s3_region": "us-east-1",
		"s3_endpoint": endpoint, "batch_max_wait": "10ms"}
}
