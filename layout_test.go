package whirlpool_test

import (
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/whirlpool-events/whirlpool"

// testOnly are the packages only tests may import: the test host, the model loader and the
// test environment.
var testOnly = []string{module + "/internal/flbhost", module + "/internal/testenv", module + "/internal/testmodel"}

// What users install (the plugins and the commands) never links the test
// host or the test environment.
func TestShippedCodeImportsNoTestHelpers(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./plugins/...", "./cmd/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range testOnly {
			if dep == bad {
				t.Errorf("shipped code depends on %s", bad)
			}
		}
	}
}

// The edge (in_eventing, out_sqs) never links the validator, its model
// store's database driver or YAML: it answers with failure codes from
// internal/failcode, and the processor alone validates.
func TestEdgePluginsLinkNoValidator(t *testing.T) {
	for _, plugin := range []string{"./plugins/in_eventing", "./plugins/out_sqs"} {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", plugin).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", plugin, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			switch dep {
			case module + "/filters/validate", "github.com/lib/pq", "gopkg.in/yaml.v3":
				t.Errorf("%s depends on %s", plugin, dep)
			}
		}
	}
}

// plugins/ holds only what Fluent Bit loads: one folder per plugin, each a
// package main whose only Go file is its shim.
func TestPluginsHoldOnlyTheShims(t *testing.T) {
	entries, err := os.ReadDir("plugins")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
		if !e.IsDir() {
			t.Errorf("plugins/%s is not a plugin folder", e.Name())
			continue
		}
		files, err := os.ReadDir("plugins/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if f.Name() != "main.go" && f.Name() != "README.md" {
				t.Errorf("plugins/%s/%s: a plugin folder holds its shim (main.go) and README only", e.Name(), f.Name())
			}
		}
	}
	sort.Strings(got)
	if want := "in_eventing in_sqs out_redshift out_sqs"; strings.Join(got, " ") != want {
		t.Errorf("plugins/ holds %v, want %s", got, want)
	}
}
