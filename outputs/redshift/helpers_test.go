package redshift

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// ---- records of the validated-record contract ----

type col struct {
	name string
	val  any // string, int, float64, bool, nil
}

type validRec struct {
	uuid    string
	expand  int
	event   string
	dests   []string
	columns []col
}

func appendAny(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return msgp.AppendNil(b)
	case string:
		return msgp.AppendString(b, x)
	case int:
		return msgp.AppendInt(b, x)
	case float64:
		return msgp.AppendFloat64(b, x)
	case bool:
		return msgp.AppendBool(b, x)
	case []map[string]string:
		b = msgp.AppendArrayHeader(b, uint32(len(x)))
		for _, m := range x {
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			b = msgp.AppendMapHeader(b, uint32(len(m)))
			for _, k := range keys {
				b = msgp.AppendString(b, k)
				b = msgp.AppendString(b, m[k])
			}
		}
		return b
	}
	panic(fmt.Sprintf("appendAny %T", v))
}

var t0 = time.Date(2026, 11, 21, 23, 45, 27, 123e6, time.UTC)

func (v validRec) body() []byte {
	// unknown keys are ignored
	return appendValidated(v.uuid, "space", v.event, "3", v.expand, v.dests, v.columns, [2]string{"loader_hint", "x"})
}

// appendValidated encodes a record body in the validated-record form, keys
// in the validator's order, then any extra string fields.
func appendValidated(uuid, game, event, def string, expand int, dests []string, columns []col, extra ...[2]string) []byte {
	b := msgp.AppendMapHeader(nil, uint32(9+len(extra)))
	for _, kv := range [][2]string{{"uuid", uuid}, {"fired_ts", "2026-11-21T23:45:27.123Z"}, {"game", game},
		{"version", "1.2"}, {"event", event}, {"definition_version", def}} {
		b = msgp.AppendString(b, kv[0])
		b = msgp.AppendString(b, kv[1])
	}
	b = msgp.AppendString(b, "expand_index")
	b = msgp.AppendInt(b, expand)
	b = msgp.AppendString(b, "destinations")
	b = msgp.AppendArrayHeader(b, uint32(len(dests)))
	for _, d := range dests {
		b = msgp.AppendString(b, d)
	}
	b = msgp.AppendString(b, "columns")
	b = msgp.AppendMapHeader(b, uint32(len(columns)))
	for _, c := range columns {
		b = msgp.AppendString(b, c.name)
		b = appendAny(b, c.val)
	}
	for _, kv := range extra {
		b = msgp.AppendString(b, kv[0])
		b = msgp.AppendString(b, kv[1])
	}
	return b
}

func failureBody(uuid, raw string, errs []map[string]string) []byte {
	b := msgp.AppendMapHeader(nil, 8)
	for _, kv := range [][2]string{{"uuid", uuid}, {"fired_ts", "2026-11-21T23:45:27.123Z"}, {"game", "space"}, {"version", "1.2"}, {"event", "kill"}, {"body", raw}} {
		b = msgp.AppendString(b, kv[0])
		b = msgp.AppendString(b, kv[1])
	}
	b = msgp.AppendString(b, "definition_version")
	b = msgp.AppendNil(b)
	b = msgp.AppendString(b, "errors")
	return appendAny(b, errs)
}

// envelopeBody is a record straight from the eventing input: not validated.
func envelopeBody(uuid, raw string) []byte {
	b := msgp.AppendMapHeader(nil, 6)
	for _, kv := range [][2]string{{"uuid", uuid}, {"fired_ts", "2026-11-21T23:45:27.123Z"}, {"game", "space"}, {"version", "1.2"}, {"event", "login"}, {"body", raw}} {
		b = msgp.AppendString(b, kv[0])
		b = msgp.AppendString(b, kv[1])
	}
	return b
}

func chunkOf(bodies ...[]byte) []byte {
	var c []byte
	for _, b := range bodies {
		c = record.AppendRecord(c, t0, nil, b)
	}
	return c
}

// ---- database ----

func openPG(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t testing.TB, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func count(t testing.TB, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// ---- the pure-Go output ----

// newOutput builds the pure-Go output with the tests' data model
// (testdata/model.yaml), as the plugin runs it with validate on; pass
// WithValidator(nil) for an output without a model.
func newOutput(t testing.TB, cfg testenv.Config, opts ...Option) (*Output, *testenv.Log) {
	t.Helper()
	log := &testenv.Log{}
	opts = append([]Option{WithValidator(testModel(t))}, opts...)
	o, err := New(plugin.Env{Config: cfg, Log: log, Name: "redshift.0"}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o, log
}

// ---- the plugin in the test host ----

// startPlugin loads the built plugin into the test host, with the tests'
// data model (testdata/model.yaml) unless cfg says otherwise: the loader
// tests hand it records in the validated-record contract, which it checks
// against the model.
func startPlugin(t *testing.T, cfg flbhost.Config) *flbhost.OutputInstance {
	t.Helper()
	if _, ok := cfg["validate"]; !ok {
		cfg["validate"] = "on"
	}
	if _, ok := cfg["model_file"]; !ok && cfg["validate"] == "on" && cfg["model_dsn"] == "" {
		cfg["model_file"] = testModelFile(t)
	}
	p := testenv.LoadPlugin(t, "plugins/out_redshift")
	out, err := p.NewOutput(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Exit() })
	return out
}

func pgConfig(dsn, method string) flbhost.Config {
	return flbhost.Config{"dsn": dsn, "dialect": "postgres", "load_method": method, "batch_max_wait": "50ms"}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

// testModelFile is the tests' data model: game space, version 1.2, the
// events and destinations the tests use.
func testModelFile(t testing.TB) string {
	t.Helper()
	// Tests run in their package's directory. Asking the go command for the
	// module root would fork a process, which callgrind (scripts/instructions)
	// cannot follow inside a benchmark.
	p, err := filepath.Abs(filepath.Join("testdata", "model.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testModel is a validator over testModelFile.
func testModel(t testing.TB) *validate.Validator {
	t.Helper()
	m, err := validate.LoadFile(testModelFile(t))
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.NewWithModel(m, validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
