package main

import (
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
)

var update = flag.Bool("update", false, "rewrite the README's dbt sources.yml example from the command's output")

const (
	demoModel  = "../../conf/model.yaml"
	readmePath = "../../README.md"
	dbtStart   = "<!-- dbt-sources: conf/model.yaml (generated: go test ./cmd/whirlpool-model -run TestDbtSourcesReadmeExample -update) -->\n```yaml\n"
	dbtEnd     = "```\n<!-- end dbt-sources -->"
)

type parsedSources struct {
	Version int `yaml:"version"`
	Sources []struct {
		Name          string `yaml:"name"`
		Schema        string `yaml:"schema"`
		LoadedAtField string `yaml:"loaded_at_field"`
		Freshness     struct {
			WarnAfter  dbtPeriod `yaml:"warn_after"`
			ErrorAfter dbtPeriod `yaml:"error_after"`
		} `yaml:"freshness"`
		Tables []struct {
			Name        string `yaml:"name"`
			Description string `yaml:"description"`
			Columns     []struct {
				Name        string `yaml:"name"`
				Description string `yaml:"description"`
			} `yaml:"columns"`
		} `yaml:"tables"`
	} `yaml:"sources"`
}

// columns returns schema.table -> its column names, and checks every
// source's freshness and every column's description.
func parseSources(t *testing.T, out string) map[string][]string {
	t.Helper()
	var p parsedSources
	if err := yaml.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, out)
	}
	if p.Version != 2 {
		t.Errorf("version = %d", p.Version)
	}
	tables := map[string][]string{}
	for _, s := range p.Sources {
		if s.Schema != s.Name || s.LoadedAtField != "loaded_at" || s.Freshness.WarnAfter != (dbtPeriod{1, "hour"}) || s.Freshness.ErrorAfter != (dbtPeriod{6, "hour"}) {
			t.Errorf("source %s: schema %q, loaded_at_field %q, freshness %+v", s.Name, s.Schema, s.LoadedAtField, s.Freshness)
		}
		for _, tb := range s.Tables {
			if tb.Description == "" {
				t.Errorf("%s.%s has no description", s.Schema, tb.Name)
			}
			for _, c := range tb.Columns {
				if c.Description == "" {
					t.Errorf("%s.%s.%s has no description", s.Schema, tb.Name, c.Name)
				}
				tables[s.Schema+"."+tb.Name] = append(tables[s.Schema+"."+tb.Name], c.Name)
			}
		}
	}
	return tables
}

// dbt-sources over the demo model: YAML naming every destination table of
// the model with the output's metadata columns then every field (but
// expand fields), and the failures table with the output's columns.
func TestDbtSources(t *testing.T) {
	m, err := validate.LoadFile(demoModel)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args     []string
		failures string
	}{
		{[]string{"dbt-sources", demoModel}, "failures.events"},
		{[]string{"dbt-sources", demoModel, "--failures-table", "ops.bad_events"}, "ops.bad_events"},
		{[]string{"dbt-sources", "--failures-table=analytics.failed", demoModel}, "analytics.failed"},
	} {
		code, out, errOut := runCmd(c.args...)
		if code != 0 {
			t.Fatalf("%q: %d %s", c.args, code, errOut)
		}
		tables := parseSources(t, out)
		want := map[string][]string{c.failures: redshift.FailureColumns()}
		for _, g := range m.Games {
			for _, e := range g.Events {
				for _, d := range e.Definitions {
					for _, dest := range d.Destinations {
						if want[dest] == nil {
							want[dest] = redshift.MetaColumns()
						}
						for _, f := range d.Fields {
							if !f.Expand && !contains(want[dest], f.Name) {
								want[dest] = append(want[dest], f.Name)
							}
						}
					}
				}
			}
		}
		if !reflect.DeepEqual(tables, want) {
			t.Errorf("%q: tables and columns\n got %q\nwant %q", c.args, tables, want)
		}
	}
	for _, bad := range [][]string{{"dbt-sources", demoModel, "--failures-table", "events"}, {"dbt-sources", "no-such-file.yaml"}} {
		if code, _, _ := runCmd(bad...); code != 1 {
			t.Errorf("%q: exit %d, want 1", bad, code)
		}
	}
	t.Setenv("WHIRLPOOL_MODEL_DSN", "")
	if code, _, _ := runCmd("dbt-sources"); code != 2 {
		t.Errorf("dbt-sources without FILE or --dsn: exit %d, want 2", code)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// The model in the store gives the same sources.yml as its file.
func TestDbtSourcesFromTheStore(t *testing.T) {
	dsn := testenv.Postgres(t)
	if code, _, errOut := runCmd("apply", demoModel, "--dsn", dsn); code != 0 {
		t.Fatalf("apply: %s", errOut)
	}
	_, fromFile, _ := runCmd("dbt-sources", demoModel)
	code, fromStore, errOut := runCmd("dbt-sources", "--dsn", dsn)
	if code != 0 || fromStore != fromFile {
		t.Errorf("from the store (%d %s):\n%s\nfrom the file:\n%s", code, errOut, fromStore, fromFile)
	}
}

// The README's sources.yml example is the command's output for the demo
// model, so it cannot go stale; -update rewrites it.
func TestDbtSourcesReadmeExample(t *testing.T) {
	code, out, errOut := runCmd("dbt-sources", demoModel)
	if code != 0 {
		t.Fatalf("%d %s", code, errOut)
	}
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i := strings.Index(readme, dbtStart)
	if i < 0 {
		t.Fatalf("README has no %q", dbtStart)
	}
	i += len(dbtStart)
	j := strings.Index(readme[i:], dbtEnd)
	if j < 0 {
		t.Fatalf("README has no %q", dbtEnd)
	}
	if *update {
		if err := os.WriteFile(readmePath, []byte(readme[:i]+out+readme[i+j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := readme[i : i+j]; got != out {
		t.Errorf("the README's sources.yml is not the command's output; run go test ./cmd/whirlpool-model -run TestDbtSourcesReadmeExample -update")
	}
}
