package whirlpool_test

import (
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

// documented lists every plugin's properties by the README section that
// documents them.
var documented = map[string]props.Set{
	"### `eventing` input":  eventing.Properties,
	"### `sqs` input":       sqsin.Properties,
	"### `sqs` output":      sqsout.Properties,
	"### `redshift` output": redshift.PluginProperties,
}

// TestReadmeDocumentsEveryProperty keeps the README's property tables in step
// with the declarations the plugins read: every property, row by row, with
// its default and meaning.
func TestReadmeDocumentsEveryProperty(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for heading, set := range documented {
		i := strings.Index(readme, "\n"+heading+"\n")
		if i < 0 {
			t.Errorf("README has no section %q", heading)
			continue
		}
		section := readme[i+len(heading)+2:]
		if j := strings.Index(section, "\n### "); j >= 0 {
			section = section[:j]
		}
		if j := strings.Index(section, "\n## "); j >= 0 {
			section = section[:j]
		}
		for _, p := range set {
			def := "—"
			if p.Default != "" {
				def = "`" + p.Default + "`"
			}
			row := "| `" + p.Name + "` | " + def + " | " + p.Meaning + " |"
			if !strings.Contains(section, "\n"+row+"\n") {
				t.Errorf("%s: no table row %s", heading, row)
			}
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
