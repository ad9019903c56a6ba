// Package demo_test runs `make demo` (scripts/demo) in the real Fluent Bit,
// as a new user would: the demo sends events through both pipelines and
// checks that the rows and failures in the database are exactly what its
// load generator sent. It runs the classic files; DEMO_FORMATS="conf yaml"
// runs both formats (e2e/fluentbit runs the YAML files under faults).
package demo_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func TestMakeDemo(t *testing.T) {
	fb := testenv.FluentBit(t)
	testenv.SharePostgres(t)
	root, err := flbhost.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	formats := strings.Fields(os.Getenv("DEMO_FORMATS"))
	if len(formats) == 0 {
		formats = []string{"conf"}
	}
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "demo")
			cmd.Dir = root
			logs := testenv.ShortDir(t) // the processor's forward socket lives under its storage
			cmd.Env = append(os.Environ(), "FLUENT_BIT="+fb, "DEMO_FORMAT="+format,
				"WHIRLPOOL_EDGE_STORAGE_PATH="+filepath.Join(logs, "edge-storage"),
				"WHIRLPOOL_PROCESSOR_STORAGE_PATH="+filepath.Join(logs, "processor-storage"))
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "== check: OK") {
				t.Fatalf("make demo (DEMO_FORMAT=%s): %v\n%s", format, err, out)
			}
			for _, line := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(line, "== check") {
					t.Log(line)
				}
			}
		})
	}
}

// TestDemoUpEnvDown: `scripts/demo up` starts both tiers in the background
// and returns, leaving them serving (pids in build/demo/), prints the
// command lines, and writes the exports that `scripts/demo env` prints;
// a second `up` refuses; `scripts/demo down` stops both. Without a Fluent
// Bit binary, `up` says how to get one and fails.
func TestDemoUpEnvDown(t *testing.T) {
	fb := testenv.FluentBit(t)
	testenv.SharePostgres(t)
	root, err := flbhost.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	storage := testenv.ShortDir(t) // the processor's forward socket lives under it
	env := append(os.Environ(), "FLUENT_BIT="+fb,
		"WHIRLPOOL_EDGE_STORAGE_PATH="+filepath.Join(storage, "edge-storage"),
		"WHIRLPOOL_PROCESSOR_STORAGE_PATH="+filepath.Join(storage, "processor-storage"))
	run := func(env []string, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Dir = root
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := run(append(os.Environ(), "FLUENT_BIT=/nonexistent/fluent-bit"), "scripts/demo", "up")
	if err == nil || !strings.Contains(out, "no Fluent Bit binary found") || !strings.Contains(out, "FLUENT_BIT=/path/to/fluent-bit scripts/demo up") {
		t.Errorf("scripts/demo up without Fluent Bit: %v\n%s", err, out)
	}

	if out, err := run(env, "make", "--no-print-directory", "all"); err != nil {
		t.Fatalf("make: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = run(env, "scripts/demo", "down") })
	out, err = run(env, "scripts/demo", "up")
	if err != nil {
		t.Fatalf("scripts/demo up: %v\n%s", err, out)
	}
	for _, want := range []string{"== both tiers run in the background", "-c conf/processor.conf", "-c conf/edge.conf", "build/demo/env.sh"} {
		if !strings.Contains(out, want) {
			t.Errorf("scripts/demo up does not say %q:\n%s", want, out)
		}
	}
	pids := map[string]int{}
	for _, tier := range []string{"edge", "processor"} {
		b, err := os.ReadFile(filepath.Join(root, "build/demo", tier+".pid"))
		if err != nil {
			t.Fatalf("after up: %v", err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || syscall.Kill(pid, 0) != nil {
			t.Fatalf("the %s tier (pid file %q) does not run after up returned", tier, b)
		}
		pids[tier] = pid
	}
	healthz := "http://127.0.0.1:8888/healthz"
	if resp, err := http.Get(healthz); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s after up: %v %v", healthz, resp, err)
	} else {
		resp.Body.Close()
	}

	if out, err := run(env, "scripts/demo", "up"); err == nil || !strings.Contains(out, "already runs") {
		t.Errorf("a second scripts/demo up: %v\n%s", err, out)
	}

	printed, err := run(env, "scripts/demo", "env")
	if err != nil {
		t.Fatalf("scripts/demo env: %v\n%s", err, printed)
	}
	file, err := os.ReadFile(filepath.Join(root, "build/demo/env.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if printed != string(file) || !strings.Contains(printed, "export WHIRLPOOL_EVENTING_PORT=8888\n") || !strings.Contains(printed, "export WHIRLPOOL_EDGE_STORAGE_PATH="+filepath.Join(storage, "edge-storage")+"\n") {
		t.Errorf("scripts/demo env printed\n%s\nbuild/demo/env.sh holds\n%s", printed, file)
	}
	// The file is what the tiers ran with: sourcing it gives the same values.
	if out, err := run(env, "bash", "-c", `. build/demo/env.sh && echo "$WHIRLPOOL_SQS_QUEUE_URL"`); err != nil || !strings.Contains(out, "/whirlpool-events") {
		t.Errorf("sourcing build/demo/env.sh: %v %s", err, out)
	}

	if out, err := run(env, "scripts/demo", "down"); err != nil {
		t.Fatalf("scripts/demo down: %v\n%s", err, out)
	}
	for tier, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("the %s tier (pid %d) still runs after down", tier, pid)
		}
		if _, err := os.Stat(filepath.Join(root, "build/demo", tier+".pid")); err == nil {
			t.Errorf("build/demo/%s.pid is left after down", tier)
		}
	}
	if resp, err := http.Get(healthz); err == nil {
		resp.Body.Close()
		t.Errorf("GET %s answers after down", healthz)
	}
}
