package whirlpool_test

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/inputs/eventing"
	sqsin "github.com/whirlpool-events/whirlpool/inputs/sqs"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/props"
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
	sqsout "github.com/whirlpool-events/whirlpool/outputs/sqs"
)

// documented lists every plugin's properties by the name of the README
// table that documents them.
var documented = []struct {
	table string
	set   props.Set
}{
	{"eventing input", eventing.Properties},
	{"sqs output", sqsout.Properties},
	{"sqs input", sqsin.Properties},
	{"redshift output", redshift.PluginProperties},
}

var update = flag.Bool("update", false, "rewrite the README's property tables from the declarations")

const (
	tableStart = "<!-- properties: %s (generated: go test -run TestReadmeProperties -update .) -->\n"
	tableEnd   = "<!-- end properties -->"
)

// propertyTable renders a set as the README shows it: one row per
// property, its type and bounds, default and meaning, all from the
// declaration.
func propertyTable(set props.Set) string {
	var b strings.Builder
	b.WriteString("| name | type | default | meaning |\n|---|---|---|---|\n")
	for _, p := range set {
		typ := p.TypeText()
		if p.Required {
			typ += ", required"
		}
		if p.Secret {
			typ += ", secret"
		}
		def := "—"
		if p.Default != "" {
			def = "`" + p.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", p.Name, typ, def, p.Meaning)
	}
	return b.String()
}

// TestReadmeProperties keeps the README's property tables exactly what the
// declarations the plugins read say, row by row. With -update it rewrites
// the tables between their markers instead.
func TestReadmeProperties(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, d := range documented {
		start := fmt.Sprintf(tableStart, d.table)
		i := strings.Index(readme, start)
		if i < 0 {
			t.Errorf("README has no table %q", start)
			continue
		}
		i += len(start)
		j := strings.Index(readme[i:], tableEnd)
		if j < 0 {
			t.Errorf("README table %q has no %q", d.table, tableEnd)
			continue
		}
		want := propertyTable(d.set)
		if got := readme[i : i+j]; got != want {
			if !*update {
				t.Errorf("README table %q is not what the declarations say; run go test -run TestReadmeProperties -update .\ngot:\n%s\nwant:\n%s", d.table, got, want)
			}
			readme = readme[:i] + want + readme[i+j:]
		}
	}
	if *update && readme != string(b) {
		if err := os.WriteFile("README.md", []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDeclarationsAreConsistent: every plugin's defaults pass their own
// types and bounds, and no bounds are the wrong way round.
func TestDeclarationsAreConsistent(t *testing.T) {
	for _, d := range documented {
		if err := d.set.Check(); err != nil {
			t.Errorf("%s: %v", d.table, err)
		}
	}
}

// TestNoPropertyIsACoreKey: Fluent Bit consumes its core keys (listen, port,
// host, tls, workers, ...) before a plugin reads its configuration, so a
// property named like one would never be set. Every property Fluent Bit is
// told about (the config map) must reach the plugin, be declared once, and
// be the documented one.
func TestNoPropertyIsACoreKey(t *testing.T) {
	for _, tc := range []struct {
		name       string
		input      bool
		registered []plugin.Property
		declared   props.Set
	}{
		{"eventing input", true, eventing.Plugin.Properties, eventing.Properties},
		{"sqs input", true, sqsin.Plugin.Properties, sqsin.Properties},
		{"sqs output", false, sqsout.Plugin.Properties, sqsout.Properties},
		{"redshift output", false, redshift.Plugin.Properties, redshift.PluginProperties},
	} {
		if len(tc.registered) != len(tc.declared) {
			t.Errorf("%s: %d properties registered, %d declared", tc.name, len(tc.registered), len(tc.declared))
		}
		seen := map[string]bool{}
		for i, p := range tc.registered {
			key := strings.ToLower(p.Name)
			if plugin.IsCoreKey(tc.input, key) {
				t.Errorf("%s: property %q is a Fluent Bit core key: the engine keeps it and the plugin never sees it", tc.name, p.Name)
			}
			if seen[key] {
				t.Errorf("%s: property %q declared twice", tc.name, p.Name)
			}
			seen[key] = true
			if i < len(tc.declared) && (tc.declared[i].Name != p.Name || tc.declared[i].Default != p.Default) {
				t.Errorf("%s: registered %+v, declared %+v", tc.name, p, tc.declared[i])
			}
		}
	}
}

// TestCoreKeysAreRecognised guards IsCoreKey itself with keys the engine
// consumes and keys it passes on (Fluent Bit 5.1, flb_input_set_property and
// flb_output_set_property).
func TestCoreKeysAreRecognised(t *testing.T) {
	for _, tc := range []struct {
		input bool
		key   string
		core  bool
	}{
		{true, "listen", true}, {true, "Port", true}, {true, "HOST", true},
		{true, "threaded", true}, {true, "tls.crt_file", true}, {true, "net.keepalive", true},
		{true, "oauth2.enable", true}, {true, "storage.pause_on_chunks_overlimit", true},
		{true, "workers", false}, {true, "http_listen", false}, {true, "tls_cert_file", false},
		{false, "workers", true}, {false, "Retry_Limit", true}, {false, "match", true},
		{false, "host", true}, {false, "db_host", false}, {false, "tag", false},
		{false, "storage.total_limit_size", true}, {false, "threaded", false},
	} {
		if got := plugin.IsCoreKey(tc.input, tc.key); got != tc.core {
			t.Errorf("IsCoreKey(input=%v, %q) = %v, want %v", tc.input, tc.key, got, tc.core)
		}
	}
}
