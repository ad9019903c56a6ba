package conf_test

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/props"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// The tests in this file run the shipped pipelines in the real Fluent Bit
// (testenv.FluentBit; skipped without one): the engine reads our config
// maps, so it must accept every key conf/ sets and refuse a misspelt one.

// pipelines are the shipped pipeline files and the plugins each loads.
var pipelines = []struct {
	file    string
	plugins []string
}{
	{"edge.conf", []string{"in_eventing", "out_sqs"}},
	{"edge.yaml", []string{"in_eventing", "out_sqs"}},
	{"processor.conf", []string{"in_sqs", "out_redshift"}},
	{"processor.yaml", []string{"in_sqs", "out_redshift"}},
	{"processor-redshift.conf", []string{"in_sqs", "out_redshift"}},
	{"processor-redshift.yaml", []string{"in_sqs", "out_redshift"}},
	{"demo/edge-stdout.conf", []string{"in_eventing"}},
}

// demoEnv is the environment scripts/demo gives the pipelines: its export
// lines, evaluated by bash in the repository root.
func demoEnv(t *testing.T) []string {
	t.Helper()
	cmd := exec.Command("bash", "-c", `set -e; eval "$(grep '^export ' scripts/demo)"; env -0`)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("evaluating scripts/demo's exports: %v", err)
	}
	return strings.Split(strings.TrimRight(string(out), "\x00"), "\x00")
}

// engineArgs returns -e flags loading freshly built plugins.
func engineArgs(t *testing.T, plugins []string) []string {
	t.Helper()
	var args []string
	for _, p := range plugins {
		so, err := flbhost.Build("plugins/" + p)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "-e", so)
	}
	return args
}

// runEngine runs Fluent Bit to completion (dry runs and -h exit by
// themselves) and returns its combined output and whether it exited 0.
func runEngine(t *testing.T, env []string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(testenv.FluentBit(t), args...)
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting fluent-bit: %v", err)
	}
	timer := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer timer.Stop()
	err := cmd.Wait()
	return out.String(), err == nil
}

// TestShippedPipelinesPassTheEngineCheck: Fluent Bit's --dry-run reads every
// section with the plugins' config maps; each shipped pipeline passes.
func TestShippedPipelinesPassTheEngineCheck(t *testing.T) {
	testenv.FluentBit(t)
	env := demoEnv(t)
	for _, p := range pipelines {
		out, ok := runEngine(t, env, append(engineArgs(t, p.plugins), "-c", p.file, "--dry-run")...)
		if !ok || !strings.Contains(out, "configuration test is successful") {
			t.Errorf("%s: fluent-bit --dry-run failed:\n%s", p.file, out)
		}
	}
}

// TestMisspeltKeyStopsStartUp: a typo in a key of one of our plugins stops
// Fluent Bit at start-up (and under --dry-run), naming the key and listing
// the plugin's properties, in both formats.
func TestMisspeltKeyStopsStartUp(t *testing.T) {
	testenv.FluentBit(t)
	env := demoEnv(t)
	for _, tc := range []struct {
		file, key, typo string
		plugins         []string
	}{
		{"edge.conf", "http_port", "htp_port", []string{"in_eventing", "out_sqs"}},
		{"edge.yaml", "queue_url", "queue_ulr", []string{"in_eventing", "out_sqs"}},
		{"processor.conf", "pollers", "polers", []string{"in_sqs", "out_redshift"}},
		{"processor.yaml", "failures_table", "failure_table", []string{"in_sqs", "out_redshift"}},
	} {
		b, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile(`(?m)^(\s*)` + regexp.QuoteMeta(tc.key) + `(:|\s)`)
		if !re.Match(b) {
			t.Fatalf("%s sets no %s", tc.file, tc.key)
		}
		bad := re.ReplaceAll(b, []byte("${1}"+tc.typo+"${2}"))
		// The copy sits beside the original so that relative paths still hold.
		path := filepath.Join(filepath.Dir(tc.file), ".typo-"+filepath.Base(tc.file))
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Remove(path) })
		out, ok := runEngine(t, env, append(engineArgs(t, tc.plugins), "-c", path, "--dry-run")...)
		want := "unknown configuration property '" + tc.typo + "'. The following properties are allowed: "
		if ok || !strings.Contains(out, want) || !strings.Contains(out, tc.key) {
			t.Errorf("%s with %s misspelt %s: exit ok=%v, want a refusal containing %q and listing %s:\n%s", tc.file, tc.key, tc.typo, ok, want, tc.key, out)
		}
	}
}

var (
	ansiRe    = regexp.MustCompile("\x1b\\[[0-9;]*m")
	helpKeyRe = regexp.MustCompile(`^([A-Za-z0-9_.]+)\s{2,}\S`)
	helpDefRe = regexp.MustCompile(`^\s+> default: (.*), type: (\S+)$`)
)

// TestHelpListsEveryProperty: `fluent-bit -e X.so -i|-o NAME -h` lists each
// declared property, in order, with its default, as for native plugins.
func TestHelpListsEveryProperty(t *testing.T) {
	testenv.FluentBit(t)
	for _, tc := range []struct {
		so, flag, name string
		set            props.Set
	}{
		{"in_eventing", "-i", "eventing", ourPlugins["input/eventing"]},
		{"in_sqs", "-i", "sqs", ourPlugins["input/sqs"]},
		{"out_sqs", "-o", "sqs", ourPlugins["output/sqs"]},
		{"out_redshift", "-o", "redshift", ourPlugins["output/redshift"]},
	} {
		out, _ := runEngine(t, os.Environ(), append(engineArgs(t, []string{tc.so}), tc.flag, tc.name, "-h")...)
		out = ansiRe.ReplaceAllString(out, "")
		i := strings.Index(out, "\nOPTIONS\n")
		if i < 0 {
			t.Errorf("%s -h: no OPTIONS section:\n%s", tc.name, out)
			continue
		}
		type listed struct{ name, def string }
		var got []listed
		for _, line := range strings.Split(out[i+len("\nOPTIONS\n"):], "\n") {
			if m := helpKeyRe.FindStringSubmatch(line); m != nil {
				got = append(got, listed{name: m[1]})
			} else if m := helpDefRe.FindStringSubmatch(line); m != nil && len(got) > 0 {
				got[len(got)-1].def = m[1]
			}
		}
		if len(got) != len(tc.set) {
			t.Errorf("%s -h lists %d properties, %d declared:\n%v", tc.name, len(got), len(tc.set), got)
			continue
		}
		for j, p := range tc.set {
			def := p.Default
			if def == "" {
				def = "default" // how Fluent Bit's help shows a property without a default
			}
			if got[j].name != p.Name || got[j].def != def {
				t.Errorf("%s -h: property %d is %s (default %q), declared %s (default %q)", tc.name, j, got[j].name, got[j].def, p.Name, def)
			}
			if plugin.IsCoreKey(tc.flag == "-i", p.Name) {
				t.Errorf("%s: %s is a core key", tc.name, p.Name)
			}
		}
	}
}

// startEngine starts Fluent Bit in the background; it is killed at cleanup.
// The returned func reads its output so far.
func startEngine(t *testing.T, env []string, args ...string) (output func() string) {
	t.Helper()
	out := &testenv.SyncBuffer{}
	cmd := exec.Command(testenv.FluentBit(t), args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting fluent-bit: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return out.String
}

// TestEventingListensWhereTold runs conf/demo/edge-stdout.conf in the real
// engine: the eventing input binds exactly http_listen:http_port (Fluent Bit
// keeps listen/port, so these are the names that reach it), an event posted
// there comes out of the stdout output, and the input, run non-threaded as
// conf/ does, says nothing about threading; run threaded, it warns.
func TestEventingListensWhereTold(t *testing.T) {
	testenv.FluentBit(t)
	for _, threaded := range []bool{false, true} {
		b, err := os.ReadFile("demo/edge-stdout.conf")
		if err != nil {
			t.Fatal(err)
		}
		conf := string(b)
		if threaded {
			conf = regexp.MustCompile(`(?m)^\s*threaded\s+off\s*$`).ReplaceAllString(conf, "")
		}
		path := filepath.Join(t.TempDir(), "edge-stdout.conf")
		if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		port := testenv.FreePort(t)
		env := append(os.Environ(), "WHIRLPOOL_EVENTING_LISTEN=127.0.0.1", "WHIRLPOOL_EVENTING_PORT="+port)
		output := startEngine(t, env, append(engineArgs(t, []string{"in_eventing"}), "-c", path)...)

		base := "http://127.0.0.1:" + port
		var resp *http.Response
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			resp, err = http.Post(base+"/v1/events/pixel_quest/1.2/level_up", "application/json", strings.NewReader(`{"level":7}`))
			if err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatalf("threaded=%v: eventing does not answer on 127.0.0.1:%s: %v\n%s", threaded, port, err, output())
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("threaded=%v: POST answered %d", threaded, resp.StatusCode)
		}
		// Bound to 127.0.0.1 only: another loopback address finds nothing.
		if c, err := net.DialTimeout("tcp", "127.0.0.2:"+port, time.Second); err == nil {
			c.Close()
			t.Errorf("threaded=%v: eventing also answers on 127.0.0.2:%s; http_listen is 127.0.0.1", threaded, port)
		}
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(output(), `"body":"{\"level\":7}"`) && time.Now().Before(deadline); {
			time.Sleep(100 * time.Millisecond)
		}
		if !strings.Contains(output(), `"event":"level_up"`) || !strings.Contains(output(), `"body":"{\"level\":7}"`) {
			t.Errorf("threaded=%v: the event did not reach the stdout output:\n%s", threaded, output())
		}
		warned := strings.Contains(output(), "'threaded off'")
		if warned != threaded {
			t.Errorf("threaded=%v: warned about threading: %v:\n%s", threaded, warned, output())
		}
	}
}

// TestTrailingCommentIsPartOfTheValue: the classic format has no trailing
// comments (README); the text after '#' reaches the plugin, which refuses
// the value, naming the property, and Fluent Bit does not start.
func TestTrailingCommentIsPartOfTheValue(t *testing.T) {
	testenv.FluentBit(t)
	b, err := os.ReadFile("demo/edge-stdout.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(b), "    Name         eventing\n", "    Name         eventing\n    partial_batch reject # strict\n", 1)
	if conf == string(b) {
		t.Fatal("demo/edge-stdout.conf has no eventing section to edit")
	}
	path := filepath.Join(t.TempDir(), "edge-stdout.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "WHIRLPOOL_EVENTING_LISTEN=127.0.0.1", "WHIRLPOOL_EVENTING_PORT="+testenv.FreePort(t))
	out, ok := runEngine(t, env, append(engineArgs(t, []string{"in_eventing"}), "-c", path)...)
	want := `property "partial_batch": invalid value "reject # strict"`
	if ok || !strings.Contains(out, want) {
		t.Errorf("exit ok=%v, want a failed start with %q:\n%s", ok, want, out)
	}
}
