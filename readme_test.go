package whirlpool_test

import (
	"os"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/inputs/eventing"
	sqsin "github.com/whirlpool-events/whirlpool/inputs/sqs"
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
	sqsout "github.com/whirlpool-events/whirlpool/outputs/sqs"
	"github.com/whirlpool-events/whirlpool/plugins/props"
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
// with the declarations the plugins read: every property, with its default.
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
			row := "| `" + p.Name + "` | " + def + " | "
			if !strings.Contains(section, row) {
				t.Errorf("%s: no table row starting %q", heading, row)
			}
		}
	}
}
