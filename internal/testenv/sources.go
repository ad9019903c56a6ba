package testenv

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
)

// pluginSourceTrees are the folders the plugins are built from (e2e/ and
// scripts/ are not among them).
var pluginSourceTrees = []string{"plugins", "internal", "inputs", "outputs", "filters"}

// NewestPluginSource returns the modification time and path of the newest
// file a plugin is built from under the module root (go.mod, go.sum and
// the non-test .go, .h and .c files of the plugin trees), so a test can
// tell a stale build/<plugin>.so from a fresh one.
func NewestPluginSource(root string) (time.Time, string) {
	newest, newestFile := time.Time{}, ""
	consider := func(path string) {
		if fi, err := os.Stat(path); err == nil && fi.ModTime().After(newest) {
			newest, newestFile = fi.ModTime(), path
		}
	}
	consider(filepath.Join(root, "go.mod"))
	consider(filepath.Join(root, "go.sum"))
	for _, dir := range pluginSourceTrees {
		_ = filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !strings.HasSuffix(path, "_test.go") &&
				(strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".h") || strings.HasSuffix(path, ".c")) {
				consider(path)
			}
			return nil
		})
	}
	return newest, newestFile
}

// PluginObjects returns the .so of each of the four plugins the pipeline
// runs, by name (in_eventing, out_sqs, in_sqs, out_redshift):
// build/<name>.so as make builds it, unless it is missing or older than a
// Go source of the module, in which case a fresh copy is built into a
// temporary directory (so the tests never run stale code).
func PluginObjects(t testing.TB, root string) map[string]string {
	t.Helper()
	newest, newestFile := NewestPluginSource(root)
	out := map[string]string{}
	for _, name := range []string{"in_eventing", "out_sqs", "in_sqs", "out_redshift"} {
		so := filepath.Join(root, "build", name+".so")
		fi, err := os.Stat(so)
		if err == nil && !fi.ModTime().Before(newest) {
			out[name] = so
			continue
		}
		why := "missing"
		if err == nil {
			why = "older than " + newestFile
		}
		fresh, berr := flbhost.Build("plugins/" + name)
		if berr != nil {
			t.Fatalf("build/%s.so is %s (run make), and building it failed: %v", name, why, berr)
		}
		t.Logf("build/%s.so is %s: using a fresh build (%s)", name, why, fresh)
		out[name] = fresh
	}
	return out
}
