package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
)

// FluentBitPath returns the real Fluent Bit binary the tests run the plugins
// in: $FLUENT_BIT when set, else ../shared/bin/fluent-bit beside the
// repository (Fluent Bit 5.1.1, see its README). ok is false when neither is
// an executable file; the reason says what was looked for.
func FluentBitPath() (path string, ok bool, reason string) {
	if p := os.Getenv("FLUENT_BIT"); p != "" {
		if isExecutable(p) {
			return p, true, ""
		}
		return p, false, "FLUENT_BIT=" + p + " is not an executable file"
	}
	root, err := flbhost.ModuleRoot()
	if err != nil {
		return "", false, err.Error()
	}
	p := filepath.Join(filepath.Dir(root), "shared", "bin", "fluent-bit")
	if isExecutable(p) {
		return p, true, ""
	}
	return p, false, "no Fluent Bit 5.1 binary: FLUENT_BIT is not set and " + p + " does not exist"
}

// FluentBit returns the real Fluent Bit binary, or skips the test with a
// message that says how to provide one.
func FluentBit(t testing.TB) string {
	t.Helper()
	p, ok, reason := FluentBitPath()
	if !ok {
		t.Skipf("needs the real engine: %s (set FLUENT_BIT to a Fluent Bit 5.1 binary)", reason)
	}
	return p
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// SyncBuffer collects a process's output while the test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
