package redshift

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

var updateSQL = flag.Bool("update-sql", false, "rewrite testdata/sql/*.sql from the statements the output sends")

// tapExecutor runs the output's SQL on the real database and shows every
// statement to tap first (which may record it, or hold it back: see
// TestConcurrentLoadersLoadEachEventOnce). It is how a test sees the SQL of
// the insert and pg_copy methods, including the Redshift dialect's, run as
// far as PostgreSQL runs it.
type tapExecutor struct {
	db  *dbExecutor
	tap func(session int, q string)

	mu       sync.Mutex
	sessions int
}

// withTap is the test's way in: an Option that opens the configured
// database itself, so New does not, and wraps it in a tapExecutor.
func withTap(tap func(session int, q string)) Option {
	return func(o *Output) error {
		db, err := openDB(o.cfg)
		if err != nil {
			return err
		}
		o.exec = &tapExecutor{db: db, tap: tap}
		return nil
	}
}

func (e *tapExecutor) Session(ctx context.Context) (Session, error) {
	s, err := e.db.Session(ctx)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.sessions++
	n := e.sessions
	e.mu.Unlock()
	return &tapSession{inner: s.(*dbSession), e: e, n: n}, nil
}

func (e *tapExecutor) Close() error { return e.db.Close() }

type tapSession struct {
	inner *dbSession
	e     *tapExecutor
	n     int
}

func (s *tapSession) Exec(ctx context.Context, q string) (int64, error) {
	s.e.tap(s.n, q)
	return s.inner.Exec(ctx, q)
}

func (s *tapSession) Query(ctx context.Context, q string) ([][]string, error) {
	s.e.tap(s.n, q)
	return s.inner.Query(ctx, q)
}

func (s *tapSession) CopyIn(ctx context.Context, q string, rows copyRows) error {
	s.e.tap(s.n, q)
	return s.inner.CopyIn(ctx, q, func(dst []byte) ([]byte, bool) {
		n := len(dst)
		out, more := rows(dst)
		for _, line := range strings.SplitAfter(string(out[n:]), "\n") {
			if line != "" {
				s.e.tap(s.n, "\t"+strings.TrimSuffix(line, "\n"))
			}
		}
		return out, more
	})
}

func (s *tapSession) Close() error { return s.inner.Close() }

// isCatalogue reports the queries that describe tables (their text is
// pinned by the tests of plan and meta, not here).
func isCatalogue(q string) bool {
	return strings.Contains(q, "information_schema") || strings.Contains(q, "pg_catalog.pg_description")
}

// TestStatementsPerDialect pins, statement by statement, what one small
// batch sends (two event tables and a failure row, dedupe on) with each
// dialect and load method, against golden files in testdata/sql: any
// change of the SQL shows up there in review (go test -run
// TestStatementsPerDialect -update-sql rewrites them). The insert and
// pg_copy cases run on PostgreSQL and commit, so their SQL is also SQL
// PostgreSQL accepts; the copy case is recorded (only Redshift runs COPY
// from S3).
func TestStatementsPerDialect(t *testing.T) {
	for _, tc := range []struct{ name, dialect, method string }{
		{"postgres_insert", "postgres", "insert"},
		{"postgres_pg_copy", "postgres", "pg_copy"},
		{"redshift_insert", "redshift", "insert"},
		{"redshift_copy", "redshift", "copy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := testenv.Postgres(t)
			db := openPG(t, dsn)
			mustExec(t, db, `CREATE SCHEMA game`,
				`CREATE TABLE game.purchase (`+eventCols+`, item text, amount bigint)`,
				`CREATE TABLE game.ledger (`+eventCols+`, item text, amount bigint)`,
				`CREATE SCHEMA failures`, `CREATE TABLE failures.events (uuid text, expand_index integer, fired_ts timestamp, game text, version text, event text,
					definition_version text, raw_event text, errors text, error_codes text, failed_at timestamp, loaded_at timestamp)`)
			var mu sync.Mutex
			var got []string
			record := func(_ int, q string) {
				if !isCatalogue(q) {
					mu.Lock()
					got = append(got, q)
					mu.Unlock()
				}
			}
			cfg := testenv.Config{"dsn": dsn, "dialect": tc.dialect, "load_method": tc.method, "batch_max_wait": "10ms"}
			var opt Option
			var rec *recorder
			if tc.method == "copy" {
				srv := testenv.S3(t, "stage")
				srv.SetEnv(t)
				cfg = testenv.Config{"db_host": "redshift.example", "user": "loader", "database": "dev", "load_method": "copy",
					"s3_bucket": "stage", "s3_prefix": "wp/", "s3_region": "us-east-1", "s3_endpoint": srv.Endpoint, "batch_max_wait": "10ms"}
				rec = &recorder{db: db}
				opt = WithExecutor(rec)
			} else {
				opt = withTap(record)
			}
			o, _ := newOutput(t, cfg, opt)
			chunk := chunkOf(
				validRec{uuid: "u1", expand: -1, event: "buy", dests: []string{"game.purchase", "game.ledger"},
					columns: []col{{"item", "sword"}, {"amount", 3}}}.body(),
				validRec{uuid: "u2", expand: 0, event: "buy", dests: []string{"game.purchase"},
					columns: []col{{"item", "it's"}, {"amount", 4}}}.body(),
				failureBody("f1", `{"score":"high"}`, []map[string]string{{"code": "FIELD_TYPE_MISMATCH", "path": "$.score", "message": "m"}}),
			)
			if r := o.Flush(chunk, "events"); r != plugin.OK {
				t.Fatalf("flush = %v", r)
			}
			o.Close()
			if rec != nil {
				got = rec.stmts
			}
			text := normalizeSQL(strings.Join(got, "\n") + "\n")
			golden := filepath.Join("testdata", "sql", tc.name+".sql")
			if *updateSQL {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update-sql to write it)", err)
			}
			gl, wl := strings.Split(text, "\n"), strings.Split(string(want), "\n")
			for i := 0; i < len(gl) || i < len(wl); i++ {
				var g, w string
				if i < len(gl) {
					g = gl[i]
				}
				if i < len(wl) {
					w = wl[i]
				}
				if g != w {
					t.Errorf("%s line %d:\n got %s\nwant %s", golden, i+1, g, w)
				}
			}
		})
	}
}

var (
	s3BatchRe = regexp.MustCompile(`s3://stage/wp/\d{4}/\d\d/\d\d/[0-9a-f-]{36}/`)
	nowRe     = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?`)
)

// normalizeSQL replaces what changes from run to run: the S3 folder of the
// batch (date and batch UUID) and the times taken from the clock
// (loaded_at, failed_at); the records' own fired_ts stays.
func normalizeSQL(s string) string {
	s = s3BatchRe.ReplaceAllString(s, "s3://stage/wp/<day>/<batch>/")
	today := time.Now().UTC()
	return nowRe.ReplaceAllStringFunc(s, func(ts string) string {
		for _, d := range []time.Time{today, today.Add(-24 * time.Hour), today.Add(24 * time.Hour)} {
			if strings.HasPrefix(ts, d.Format("2006-01-02")) {
				return "<now>"
			}
		}
		return ts
	})
}
