package testenv

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/logsafe"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

// Config is a plugin.Config from a map, with Fluent Bit's case-insensitive
// keys.
type Config map[string]string

// Get returns the value of key, "" when unset.
func (c Config) Get(key string) string {
	for k, v := range c {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

// Log is a plugin.Logger that keeps every line, as "[level] message", for
// tests to assert on. Messages are escaped as the cgo glue escapes them
// (logsafe.Escape), so tests see what Fluent Bit would print.
type Log struct {
	mu    sync.Mutex
	lines []string
}

var _ plugin.Logger = (*Log)(nil)

func (l *Log) add(level, format string, args []any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, "["+level+"] "+logsafe.Escape(fmt.Sprintf(format, args...)))
}

// Enabled reports every level as enabled.
func (l *Log) Enabled(plugin.Level) bool { return true }

// Errorf logs at error level.
func (l *Log) Errorf(f string, a ...any) { l.add("error", f, a) }

// Warnf logs at warn level.
func (l *Log) Warnf(f string, a ...any) { l.add("warn", f, a) }

// Infof logs at info level.
func (l *Log) Infof(f string, a ...any) { l.add("info", f, a) }

// Debugf logs at debug level.
func (l *Log) Debugf(f string, a ...any) { l.add("debug", f, a) }

// Lines returns a copy of the lines logged so far.
func (l *Log) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// Containing returns the lines that contain every one of parts.
func (l *Log) Containing(parts ...string) []string {
	var out []string
next:
	for _, line := range l.Lines() {
		for _, p := range parts {
			if !strings.Contains(line, p) {
				continue next
			}
		}
		out = append(out, line)
	}
	return out
}

// Count returns how many lines contain every one of parts.
func (l *Log) Count(parts ...string) int { return len(l.Containing(parts...)) }

// String returns every line, one per line.
func (l *Log) String() string { return strings.Join(l.Lines(), "\n") }

// LoadPlugin builds the plugin in dir (e.g. "plugins/out_sqs") and loads it
// into the test host, as Fluent Bit loads it; it is unregistered when the
// test ends, after the cleanups registered later (the instances' exits).
// The host's log lines so far are forgotten: call it before starting
// instances, not while another plugin of the test runs.
func LoadPlugin(t testing.TB, dir string) *flbhost.Plugin {
	t.Helper()
	flbhost.ResetLogs() // the test counts only its own log lines
	so, err := flbhost.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := flbhost.Load(so)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// Main is TestMain for packages that load plugins into the test host: the
// process runs with AWSTestEnv (see ProcessEnv), and the plugins built for
// the tests are removed at the end.
func Main(m *testing.M) {
	ProcessEnv(AWSTestEnv)
	code := m.Run()
	flbhost.Cleanup()
	os.Exit(code)
}
