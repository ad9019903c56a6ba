package redshift

import (
	"io"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/metrics"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// labelValues lists the values of label in the series of metric in a
// Prometheus text exposition, sorted.
func labelValues(body, metric, label string) []string {
	re := regexp.MustCompile(`(?m)^` + metric + `\{[^}]*` + label + `="([^"]*)"`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return out
}

// Records choose their error codes and name their tables, but only codes
// filters/validate declares and tables the data model names (and the
// failures table) become label values: anything else counts as OTHER, so a
// sender cannot add series.
func TestMetricLabelsOnlyFromKnownValues(t *testing.T) {
	dsn := testenv.Postgres(t)
	port := testenv.FreePort(t)
	p, err := newPlugin(plugin.Env{Log: &testenv.Log{}, Name: "redshift.0", Config: testenv.Config{"dsn": dsn, "dialect": "postgres",
		"load_method": "pg_copy", "auto_create": "on", "batch_max_wait": "10ms", "model_file": testModelFile(t),
		"metrics_port": port, "metrics_listen": "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	code := func(c string) []map[string]string { return []map[string]string{{"code": c, "message": "m"}} }
	chunk := chunkOf(
		validRec{uuid: "v1", expand: -1, event: "buy", dests: []string{"game.purchase"}, columns: []col{{"item", "sword"}}}.body(),
		forged{uuid: "v2", game: "space", event: "buy", def: "3", dests: []string{"evil.table"}, columns: []col{{"item", "x"}}}.body(),
		failureBody("f1", "{}", code("FIELD_TYPE_MISMATCH")),
		failureBody("f2", "{}", code("EVIL_CODE_1")),
		failureBody("f3", "{}", code("EVIL_\xff")),
		failureBody("f4", "{}", []map[string]string{{"message": "no code at all"}}),
		failureBody("f5", "{}", code("EVIL_CODE_2")),
	)
	if r := p.Flush(chunk, "events"); r != plugin.OK {
		t.Fatalf("flush = %v", r)
	}
	o := p.(*pluginOutput).Output
	if got, want := o.Stats.FailuresByCode(), map[string]int64{"FIELD_TYPE_MISMATCH": 1, "MODEL_MISMATCH": 1, metrics.Other: 4}; !reflect.DeepEqual(got, want) {
		t.Errorf("failures by code = %v, want %v", got, want)
	}
	if got, want := o.Stats.RowsLoaded(), map[string]int64{"game.purchase": 1, "failures.events": 6}; !reflect.DeepEqual(got, want) {
		t.Errorf("rows by table = %v, want %v", got, want)
	}
	resp, err := http.Get("http://127.0.0.1:" + port + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s\n%s", resp.Status, b)
	}
	for _, tc := range []struct {
		metric, label string
		want          []string
	}{
		{"whirlpool_redshift_failures_total", "code", []string{"FIELD_TYPE_MISMATCH", "MODEL_MISMATCH", metrics.Other}},
		{"whirlpool_redshift_rows_loaded_total", "table", []string{"failures.events", "game.purchase"}},
	} {
		if got := labelValues(string(b), tc.metric, tc.label); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s{%s} series %q, want %q", tc.metric, tc.label, got, tc.want)
		}
	}
}

// A table the model does not name (no model at all, or one dropped from
// the model between a record's check and the commit) is never a label.
func TestTableLabelsOnlyForTablesOfTheModel(t *testing.T) {
	withModel, _ := newOutput(t, testenv.Config{"dsn": "postgres://127.0.0.1:1/x", "dialect": "postgres"})
	noModel, _ := newOutput(t, testenv.Config{"dsn": "postgres://127.0.0.1:1/x", "dialect": "postgres"}, WithValidator(nil))
	for _, tc := range []struct {
		name   string
		o      *Output
		tables []string
		want   map[string]int64
	}{
		{"model tables and others", withModel, []string{"game.purchase", "evil.table", "pg_catalog.pg_class"},
			map[string]int64{"game.purchase": 1, metrics.Other: 2}},
		{"without a model", noModel, []string{"game.purchase"}, map[string]int64{metrics.Other: 1}},
		{"the failures table", noModel, []string{"failures.events"}, map[string]int64{"failures.events": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Stats.init()
			b := &batch{}
			for _, s := range tc.tables {
				n, err := parseTableName(s)
				if err != nil {
					t.Fatal(err)
				}
				b.tables = append(b.tables, &tableLoad{name: n, loaded: 1})
			}
			tc.o.committed(b)
			if got := tc.o.Stats.RowsLoaded(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rows by table = %v, want %v", got, tc.want)
			}
		})
	}
}
