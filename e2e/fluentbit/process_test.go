package fluentbit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a Fluent Bit may take to become ready.
const startTimeout = 60 * time.Second

// fluentBit is one Fluent Bit process of a tier, restartable: every start
// appends to the same log file, so a failure shows the whole history.
type fluentBit struct {
	t       testing.TB
	name    string // edge or processor
	bin     string
	args    []string
	env     []string
	logPath string
	// ready reports nil once the tier serves (its HTTP ports answer).
	ready func() error

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	asked   bool // the running process was told to stop (Kill9, Term)
	starts  int
	crashes []string // unexpected exits
}

func newFluentBit(t testing.TB, name, bin string, args, env []string, logPath string, ready func() error) *fluentBit {
	f := &fluentBit{t: t, name: name, bin: bin, args: args, env: env, logPath: logPath, ready: ready}
	// Registered after the temp dirs and the components it uses, so it
	// runs before they go away.
	t.Cleanup(func() {
		f.Kill9()
		if t.Failed() {
			t.Logf("--- last lines of the %s log (%s) ---\n%s", f.name, f.logPath, f.tail(80))
		}
	})
	return f
}

// Start starts the process and waits until ready reports it serves.
func (f *fluentBit) Start() {
	f.t.Helper()
	if err := f.start(); err != nil {
		f.t.Fatalf("%s: %v\n--- log tail ---\n%s", f.name, err, f.tail(60))
	}
}

func (f *fluentBit) start() error {
	f.mu.Lock()
	if f.cmd != nil {
		f.mu.Unlock()
		return errors.New("start while running")
	}
	f.starts++
	logf, err := os.OpenFile(f.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		f.mu.Unlock()
		return fmt.Errorf("opening log: %w", err)
	}
	fmt.Fprintf(logf, "===== whirlpool test: start %d of %s at %s =====\n", f.starts, f.name, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(f.bin, f.args...)
	cmd.Env = f.env
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		f.mu.Unlock()
		return fmt.Errorf("starting %s: %w", f.bin, err)
	}
	exited := make(chan struct{})
	f.cmd, f.exited, f.asked = cmd, exited, false
	f.mu.Unlock()

	go func() {
		err := cmd.Wait()
		logf.Close()
		f.mu.Lock()
		if !f.asked {
			f.crashes = append(f.crashes, fmt.Sprintf("pid %d exited unasked: %v; its last log lines:\n%s", cmd.Process.Pid, err, f.tail(25)))
		}
		if f.cmd == cmd {
			f.cmd = nil
		}
		f.mu.Unlock()
		close(exited)
	}()
	return f.waitReady(startTimeout)
}

// waitReady polls ready until it holds, the process exits, or timeout.
func (f *fluentBit) waitReady(timeout time.Duration) error {
	f.mu.Lock()
	exited := f.exited
	f.mu.Unlock()
	deadline := time.Now().Add(timeout)
	for {
		err := f.ready()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before it was ready (last check: %v)", err)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %s: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// signal sends sig to the running process and returns its exit channel
// (nil when it is not running); asked marks the exit as expected.
func (f *fluentBit) signal(sig syscall.Signal, asked bool) chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cmd == nil {
		return nil
	}
	if asked {
		f.asked = true
	}
	_ = f.cmd.Process.Signal(sig)
	return f.exited
}

// Kill9 kills the process with SIGKILL, as a crash or an OOM kill would,
// and waits for it to be gone.
func (f *fluentBit) Kill9() {
	if ch := f.signal(syscall.SIGKILL, true); ch != nil {
		<-ch
	}
}

// Term sends SIGTERM (what an orchestrator does first) and waits for the
// exit; Fluent Bit waits up to its Grace (10 s in conf/) for pending
// flushes. After timeout the process is killed and an error returned.
func (f *fluentBit) Term(timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	ch := f.signal(syscall.SIGTERM, true)
	if ch == nil {
		return 0, errors.New("not running")
	}
	select {
	case <-ch:
		return time.Since(start), nil
	case <-time.After(timeout):
		f.Kill9()
		return time.Since(start), fmt.Errorf("still running %s after SIGTERM; killed", timeout)
	}
}

// reloadDone is what Fluent Bit logs when a hot reload has finished.
const reloadDone = "[reload] successful reload done"

// Reload sends SIGHUP (the binary runs with -Y) and waits until Fluent Bit
// logs that the reload is done and the tier serves again. An exit meanwhile
// is a crash, reported by Crashes.
func (f *fluentBit) Reload(timeout time.Duration) error {
	before := strings.Count(f.log(), reloadDone)
	ch := f.signal(syscall.SIGHUP, false)
	if ch == nil {
		return errors.New("not running")
	}
	deadline := time.Now().Add(timeout)
	for strings.Count(f.log(), reloadDone) <= before {
		select {
		case <-ch:
			return errors.New("the process exited during the hot reload")
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %q in the log within %s of SIGHUP", reloadDone, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return f.waitReady(time.Until(deadline))
}

// Running reports whether the process is alive.
func (f *fluentBit) Running() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cmd != nil
}

// PeakRSS returns the running process's peak resident set size (VmHWM).
func (f *fluentBit) PeakRSS() (int64, error) {
	f.mu.Lock()
	cmd := f.cmd
	f.mu.Unlock()
	if cmd == nil {
		return 0, errors.New("not running")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				return 0, fmt.Errorf("VmHWM %q: %w", rest, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no VmHWM in /proc/PID/status")
}

// Crashes returns the unexpected exits so far.
func (f *fluentBit) Crashes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.crashes...)
}

func (f *fluentBit) log() string {
	b, _ := os.ReadFile(f.logPath)
	return string(b)
}

// LogCount returns how many log lines contain s.
func (f *fluentBit) LogCount(s string) int { return strings.Count(f.log(), s) }

// LogLines returns the log lines that contain any of subs, at most n.
func (f *fluentBit) LogLines(n int, subs ...string) []string {
	var out []string
	for _, line := range strings.Split(f.log(), "\n") {
		for _, s := range subs {
			if strings.Contains(line, s) && len(out) < n {
				out = append(out, line)
				break
			}
		}
	}
	return out
}

// tail returns the last n lines of the log.
func (f *fluentBit) tail(n int) string {
	b, err := os.ReadFile(f.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// Pid is the running process's id, or 0.
func (f *fluentBit) Pid() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cmd == nil {
		return 0
	}
	return f.cmd.Process.Pid
}
