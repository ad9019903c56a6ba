package whirlpool_test

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/whirlpool-events/whirlpool/filters/validate"
)

// The README's "Add an event" walkthrough works as written: its event,
// added to conf/model.yaml's game, gives a model the validator accepts
// without a warning, under a definition label the game's mappings use.
func TestAddAnEventWalkthrough(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n## Add an event\n")
	if !ok {
		t.Fatal("README.md has no \"## Add an event\" section")
	}
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	if !ok {
		t.Fatal("README.md: no yaml block in \"Add an event\"")
	}
	snippet, _, _ := strings.Cut(rest, "```")
	var events []validate.Event
	if err := yaml.Unmarshal([]byte(unindent(snippet)), &events); err != nil {
		t.Fatalf("the walkthrough's event: %v", err)
	}
	if len(events) != 1 {
		t.Fatalf("the walkthrough defines %d events, want 1", len(events))
	}
	m, err := validate.LoadFile("conf/model.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g := &m.Games[0]
	g.Events = append(g.Events, events[0])
	warnings, err := m.Check()
	if err != nil || len(warnings) > 0 {
		t.Fatalf("conf/model.yaml with the walkthrough's event: %v, warnings %v", err, warnings)
	}
	labels := map[string]bool{}
	for _, mp := range g.Mappings {
		labels[mp.Definition] = true
	}
	for _, d := range events[0].Definitions {
		if !labels[d.Version] {
			t.Errorf("the walkthrough's definition %q is a label no mapping of %s names", d.Version, g.Name)
		}
	}
}

// unindent removes the indentation common to the block's lines.
func unindent(s string) string {
	lines := strings.Split(s, "\n")
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " "))
		if common < 0 || n < common {
			common = n
		}
	}
	for i, l := range lines {
		if len(l) >= common && common > 0 {
			lines[i] = l[common:]
		}
	}
	return strings.Join(lines, "\n")
}
