package flbhost

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]string{}
)

// ModuleRoot returns the repository root (the directory holding go.mod).
func ModuleRoot() (string, error) {
	out, err := exec.Command(GoTool(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the Whirlpool module")
	}
	return filepath.Dir(mod), nil
}

// GoTool returns the go command: the one on PATH, else the toolchain's
// usual place.
func GoTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "/usr/local/go/bin/go"
}

// Build compiles the plugin package dir (relative to the module root, e.g.
// "plugins/out_sqs") with -buildmode=c-shared into a temporary directory,
// once per test process, and returns the .so path. Tests build their own
// copy so they always load the code under test.
func Build(dir string) (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[dir]; ok {
		return p, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	if buildDir == "" {
		if buildDir, err = os.MkdirTemp("", "flbhost-"); err != nil {
			return "", err
		}
	}
	out := filepath.Join(buildDir, filepath.Base(dir)+".so")
	cmd := exec.Command(GoTool(), "build", "-buildmode=c-shared", "-o", out, "./"+filepath.ToSlash(dir))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", dir, err, msg)
	}
	built[dir] = out
	return out, nil
}

// Cleanup removes the temporary build directory; call it from TestMain.
func Cleanup() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
}
