package testenv

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
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
