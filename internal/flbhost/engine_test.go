package flbhost_test

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// The tests in this file run a scenario in the real Fluent Bit (skipped
// without one, see testenv.FluentBit) and the same scenario in the host, and
// compare what the probes saw: a difference is a bug in the host.

// section is one [INPUT] or [OUTPUT] of a scenario, keys in file order.
type section struct {
	kind  string // "INPUT" or "OUTPUT"
	name  string
	props [][2]string
}

func (s section) config() flbhost.Config {
	c := flbhost.Config{}
	for _, kv := range s.props {
		c[kv[0]] = kv[1]
	}
	return c
}

// runEngine runs Fluent Bit with the probes and the sections (Grace 1) until
// until matches its output or limit passes, stops it with SIGTERM, and
// returns its output. The process is killed if it does not stop in 10 s.
func runEngine(t *testing.T, sections []section, until *regexp.Regexp, limit time.Duration, dryRun bool) string {
	t.Helper()
	bin := testenv.FluentBit(t)
	var conf strings.Builder
	conf.WriteString("[SERVICE]\n    Flush 1\n    Grace 1\n")
	for _, s := range sections {
		fmt.Fprintf(&conf, "[%s]\n    Name %s\n", s.kind, s.name)
		for _, kv := range s.props {
			fmt.Fprintf(&conf, "    %s %s\n", kv[0], kv[1])
		}
	}
	path := filepath.Join(t.TempDir(), "probe.conf")
	if err := os.WriteFile(path, []byte(conf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-c", path}
	for _, dir := range []string{"internal/flbhost/testdata/probe_in", "internal/flbhost/testdata/probe_out"} {
		so, err := flbhost.Build(dir)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "-e", so)
	}
	if dryRun {
		args = append(args, "--dry-run")
	}
	cmd := exec.Command(bin, args...)
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting fluent-bit: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	deadline := time.After(limit)
wait:
	for {
		select {
		case <-done:
			return out.String()
		case <-deadline:
			break wait
		case <-time.After(50 * time.Millisecond):
			if until != nil && until.MatchString(out.String()) {
				break wait
			}
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Errorf("fluent-bit did not stop within 10 s of SIGTERM:\n%s", out.String())
	}
	return out.String()
}

// facts reduces probe log lines to what must match between host and engine:
// for each event and probe id, the set of thread names it ran on, and each
// init's threaded flag and each property read.
var (
	threadRe   = regexp.MustCompile(`\] (init|collect|acked|paused|resumed|closed|flush) id=(\S+) .*thread=(\S+)`)
	threadedRe = regexp.MustCompile(`\] init id=(\S+) .*threaded=(\S+)`)
	propertyRe = regexp.MustCompile(`\] (property id=\S+ .*)$`)
)

func facts(lines []string) map[string]string {
	sets := map[string]map[string]bool{}
	add := func(k, v string) {
		if sets[k] == nil {
			sets[k] = map[string]bool{}
		}
		sets[k][v] = true
	}
	for _, l := range lines {
		if m := threadRe.FindStringSubmatch(l); m != nil {
			add(m[1]+" id="+m[2]+" thread", m[3])
		}
		if m := threadedRe.FindStringSubmatch(l); m != nil {
			add("init id="+m[1]+" threaded", m[2])
		}
		if m := propertyRe.FindStringSubmatch(l); m != nil {
			add("read", m[1])
		}
	}
	out := map[string]string{}
	for k, set := range sets {
		out[k] = strings.Join(slices.Sorted(maps.Keys(set)), " | ")
	}
	return out
}

func diff(t *testing.T, engine, host map[string]string) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(engine)) {
		if host[k] != engine[k] {
			t.Errorf("%s: engine %q, host %q", k, engine[k], host[k])
		}
	}
	for k, v := range host {
		if _, ok := engine[k]; !ok {
			t.Errorf("%s: host %q, never in the engine", k, v)
		}
	}
}

// TestEngineThreadsAndProperties: the threads each call runs on, with and
// without `threaded off`, with Workers 0 and 2, and what the plugin reads
// for core keys, case-insensitive keys and keys left to their default.
func TestEngineThreadsAndProperties(t *testing.T) {
	sections := []section{
		{"INPUT", "probe_in", [][2]string{{"id", "a"}, {"probe", "port,listen,host,tag,threaded,mem_buf_limit,log_level,records,ID"},
			{"port", "8080"}, {"listen", "127.0.0.1"}, {"host", "h"}, {"tag", "t.a"}, {"mem_buf_limit", "1M"}, {"log_level", "info"}}},
		{"INPUT", "probe_in", [][2]string{{"id", "b"}, {"threaded", "off"}, {"tag", "t.b"}}},
		{"OUTPUT", "probe_out", [][2]string{{"id", "o"}, {"match", "t.*"}}},
		{"OUTPUT", "probe_out", [][2]string{{"id", "w"}, {"match", "t.*"}, {"workers", "2"}}},
	}
	// Both inputs collected and both outputs flushed both tags.
	until := regexp.MustCompile(`(?s)(flush id=o tag=t\.a.*flush id=o tag=t\.b|flush id=o tag=t\.b.*flush id=o tag=t\.a).*flush id=w`)
	out := runEngine(t, sections, until, 6*time.Second, false)
	engine := facts(strings.Split(out, "\n"))
	if len(engine) == 0 || !strings.Contains(out, "flush id=w") {
		t.Fatalf("the engine run did not get far enough:\n%s", out)
	}

	pin, pout := load(t, "internal/flbhost/testdata/probe_in"), load(t, "internal/flbhost/testdata/probe_out")
	var ins []*flbhost.InputInstance
	var outs []*flbhost.OutputInstance
	for _, s := range sections {
		var err error
		if s.kind == "INPUT" {
			var in *flbhost.InputInstance
			in, err = pin.NewInput(s.config())
			ins = append(ins, in)
		} else {
			var o *flbhost.OutputInstance
			o, err = pout.NewOutput(s.config())
			outs = append(outs, o)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, in := range ins {
		in.CollectNow()
		in.RingTick()
		for _, a := range in.Drain() {
			for _, o := range outs {
				o.Flush(a.Data, a.Tag)
			}
		}
	}
	if err := flbhost.Shutdown(ins, outs); err != nil {
		t.Error(err)
	}
	pin.Close()
	pout.Close()
	diff(t, engine, facts(flbhost.Logs()))
	if t.Failed() {
		t.Logf("engine output:\n%s", out)
	}
}

// engineError returns the engine's "[config] ..." error line, without its
// timestamp and level.
var configErrRe = regexp.MustCompile(`\[error\] (\[config\] .*)`)

// TestEngineConfigMap: the same keys are refused with the same words, and
// the same accepted.
func TestEngineConfigMap(t *testing.T) {
	for _, tc := range []struct {
		name  string
		props [][2]string
	}{
		{"misspelt", [][2]string{{"id", "a"}, {"recrods", "2"}}},
		{"case-insensitive", [][2]string{{"ID", "a"}, {"Records", "2"}}},
		{"core keys", [][2]string{{"id", "a"}, {"port", "1"}, {"listen", "x"}, {"threaded", "off"}, {"alias", "al"}}},
		{"empty core key", [][2]string{{"id", "a"}, {"tag", "${FLBHOST_UNSET_VARIABLE}"}}},
		{"empty always-consumed key", [][2]string{{"id", "a"}, {"port", "${FLBHOST_UNSET_VARIABLE}"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := section{"INPUT", "probe_in", tc.props}
			out := runEngine(t, []section{s, {"OUTPUT", "null", [][2]string{{"match", "*"}}}}, nil, 10*time.Second, true)
			engineErr := ""
			if m := configErrRe.FindStringSubmatch(out); m != nil {
				engineErr = m[1]
			} else if !strings.Contains(out, "configuration test is successful") {
				t.Fatalf("the engine neither refused nor accepted:\n%s", out)
			}

			p := load(t, "internal/flbhost/testdata/probe_in")
			cfg := s.config()
			for k, v := range cfg { // the host reads no environment
				if strings.HasPrefix(v, "${") {
					cfg[k] = ""
				}
			}
			in, err := p.NewInput(cfg)
			hostErr := ""
			if err != nil {
				hostErr = err.Error()
			} else {
				in.Exit()
			}
			p.Close()
			if hostErr != engineErr {
				t.Errorf("engine: %q\nhost:   %q", engineErr, hostErr)
			}
		})
	}
}

// TestEngineCleanupBeforeChunkWhenThreaded settles, in the real engine, what
// the host's threaded model rests on: a threaded input's cleanup (where a
// Whirlpool input answers 200 or deletes from SQS) comes before its records
// are in a chunk, and with `threaded off` after. The probe kills Fluent Bit
// with SIGKILL inside its first acknowledgement; a second Fluent Bit on the
// same storage.path then prints what the first one had written to disk.
func TestEngineCleanupBeforeChunkWhenThreaded(t *testing.T) {
	bin := testenv.FluentBit(t)
	so, err := flbhost.Build("internal/flbhost/testdata/probe_in")
	if err != nil {
		t.Fatal(err)
	}
	// crashAfterAck runs the probe until its first acknowledgement kills
	// Fluent Bit, then returns how many of its 3 records a second Fluent
	// Bit finds on disk.
	crashAfterAck := func(threaded string) int {
		storage := t.TempDir()
		crash := fmt.Sprintf(`[SERVICE]
    Flush 30
    storage.path %s
[INPUT]
    Name probe_in
    Tag t
    id a
    records 3
    die_on_ack on
    threaded %s
    storage.type filesystem
[OUTPUT]
    Name null
    Match t
`, storage, threaded)
		out := runConfig(t, bin, crash, []string{"-e", so}, regexp.MustCompile(`NEVER`), 20*time.Second)
		if !strings.Contains(out, "probe_in: acknowledged id=a seq=0..3, killing the process") {
			t.Fatalf("threaded %s: the probe was not acknowledged before the process ended:\n%s", threaded, out)
		}
		recover := fmt.Sprintf(`[SERVICE]
    Flush 1
    storage.path %s
[OUTPUT]
    Name stdout
    Match *
    Format json_lines
`, storage)
		out = runConfig(t, bin, recover, nil, regexp.MustCompile(`"seq":2`), 10*time.Second)
		got := strings.Count(out, `"id":"a"`)
		t.Logf("threaded %s: %d of 3 acknowledged records survived kill -9", threaded, got)
		return got
	}
	// threaded off: the chunk is written before the cleanup, every time.
	if got := crashAfterAck("off"); got != 3 {
		t.Errorf("threaded off: %d of the 3 acknowledged records were on disk after kill -9, want all", got)
	}
	// threaded on: the cleanup can come while the records are only in the
	// ring buffer. One crash that loses them shows it; the engine drains
	// the ring buffer every 250 ms on another thread, so a busy machine
	// may let a single attempt write them first: up to three attempts.
	lost := false
	for attempt := 1; attempt <= 3 && !lost; attempt++ {
		lost = crashAfterAck("on") == 0
	}
	if !lost {
		t.Errorf("threaded on: the acknowledged records were on disk after kill -9 in 3 attempts; the engine wrote the chunk before the cleanup, which the host's threaded model does not do")
	}
}

// runConfig runs Fluent Bit with conf (and extra arguments) until the
// process exits, until matches its output, or limit passes; then it is
// killed. It returns the output.
func runConfig(t *testing.T, bin, conf string, extra []string, until *regexp.Regexp, limit time.Duration) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fluent-bit.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append(extra, "-c", path)...)
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting fluent-bit: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() { cmd.Process.Kill(); <-done }()
	for deadline := time.Now().Add(limit); time.Now().Before(deadline) && !until.MatchString(out.String()); {
		select {
		case <-done:
			return out.String()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return out.String()
}
