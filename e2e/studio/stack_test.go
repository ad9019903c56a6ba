package studio

import (
	"bytes"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	queueName = "whirlpool-events"
	// reloadInterval is the processor's model_reload_interval here (the
	// shipped 30s would make the test wait for it).
	reloadInterval = "1s"
	startTimeout   = 30 * time.Second
)

// process is a child process of the test with its output in a file (or
// buffer); it is killed when the test ends.
type process struct {
	name string
	cmd  *exec.Cmd
	out  func() string
	done chan struct{}
}

func start(t *testing.T, name string, cmd *exec.Cmd, logPath string) *process {
	t.Helper()
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	if logPath != "" {
		f, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = f, f
		p.out = func() string { b, _ := os.ReadFile(logPath); return tail(string(b), 40) }
	} else {
		var buf testenv.SyncBuffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		p.out = func() string { return tail(buf.String(), 40) }
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("--- last lines of %s ---\n%s", name, p.out())
		}
	})
	return p
}

// waitReady polls ready until it holds, the process exits, or startTimeout.
func (p *process) waitReady(t *testing.T, ready func() error) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		err := ready()
		if err == nil {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before it was ready (%v):\n%s", p.name, err, p.out())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within %s: %v\n%s", p.name, startTimeout, err, p.out())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// modelCommand builds cmd/whirlpool-model, the command a team runs.
func modelCommand(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "whirlpool-model")
	cmd := exec.Command(flbhost.GoTool(), "build", "-o", bin, "./cmd/whirlpool-model")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/whirlpool-model: %v\n%s", err, out)
	}
	return bin
}

// addUser makes an account with `whirlpool-model user add`.
func addUser(t *testing.T, bin, dsn, name, password, role, games string) {
	t.Helper()
	cmd := exec.Command(bin, "user", "add", name, "--role", role, "--games", games, "--password-stdin", "--dsn", dsn)
	cmd.Stdin = strings.NewReader(password + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("whirlpool-model user add %s: %v\n%s", name, err, out)
	}
}

// serveStudio runs `whirlpool-model serve` on the model store dsn, with
// the pipeline's database (the same one here) as its target, and returns
// its base URL.
func serveStudio(t *testing.T, bin, dsn string) string {
	t.Helper()
	addr := "127.0.0.1:" + testenv.FreePort(t)
	p := start(t, "whirlpool-model serve", exec.Command(bin, "serve", "--dsn", dsn, "--target", dsn, "--listen", addr), "")
	base := "http://" + addr
	p.waitReady(t, func() error { return testenv.Healthy(base + "/login") })
	return base
}

// pipeline is the shipped edge and processor (conf/edge.conf,
// conf/processor.conf) in the real engine, over a per-test SQS emulator,
// loading into the test's database and validating against its model
// store.
type pipeline struct {
	eventsURL string // the eventing input's /v1/events
}

func startPipeline(t *testing.T, bin, root, dsn string) *pipeline {
	t.Helper()
	dir := testenv.ShortDir(t) // the processor's forward socket lives under it
	q := testenv.SQS(t, queueName)
	endpoint := "http://127.0.0.1:" + strconv.Itoa(q.Port)
	ports := testenv.FreePorts(t, 6)
	vars := testenv.Pipeline{Storage: dir, Endpoint: endpoint, QueueURL: q.QueueURL(queueName), DSN: dsn, Ports: ports}.Vars()
	env := testenv.TierEnv(vars)
	so := testenv.PluginObjects(t, root)
	procConf := filepath.Join(dir, "processor.conf")
	if err := os.WriteFile(procConf, fastReload(t, filepath.Join(root, "conf", "processor.conf")), 0o644); err != nil {
		t.Fatal(err)
	}
	url := func(port, path string) string { return "http://127.0.0.1:" + port + path }

	proc := exec.Command(bin, "-e", so["in_sqs"], "-e", so["out_redshift"], "-c", procConf)
	proc.Env = env
	pp := start(t, "processor", proc, filepath.Join(dir, "processor.log"))
	pp.waitReady(t, func() error { return testenv.Healthy(url(ports[4], "/healthz"), url(ports[5], "/healthz")) })

	edge := exec.Command(bin, "-e", so["in_eventing"], "-e", so["out_sqs"], "-c", filepath.Join(root, "conf", "edge.conf"))
	edge.Env = env
	ep := start(t, "edge", edge, filepath.Join(dir, "edge.log"))
	ep.waitReady(t, func() error { return testenv.Healthy(url(ports[0], "/healthz"), url(ports[3], "/healthz")) })
	return &pipeline{eventsURL: url(ports[0], "/v1/events")}
}

// fastReload returns the shipped processor configuration with both
// plugins re-reading the model store every reloadInterval.
func fastReload(t *testing.T, path string) []byte {
	t.Helper()
	conf, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	conf = regexp.MustCompile(`(?mi)^\s*model_reload_interval\s+\S+\s*\n`).ReplaceAll(conf, nil)
	dsnLine := regexp.MustCompile(`(?mi)^(\s*)model_dsn\s+.*$`)
	if n := len(dsnLine.FindAll(conf, -1)); n != 2 {
		t.Fatalf("%s: %d model_dsn lines, want 2 (the sqs input's and the redshift output's)", path, n)
	}
	return dsnLine.ReplaceAll(conf, []byte("$0\n${1}model_reload_interval "+reloadInterval))
}

// send posts events of one game version and event to the edge, as a game
// client does, and checks that every one is accepted.
func (p *pipeline) send(t *testing.T, game, version, event string, bodies ...string) {
	t.Helper()
	u := p.eventsURL + "/" + game + "/" + version + "/" + event
	resp, err := http.Post(u, "application/json", strings.NewReader("["+strings.Join(bodies, ",")+"]"))
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	want := fmt.Sprintf(`"accepted":%d`, len(bodies))
	if resp.StatusCode != http.StatusOK || !strings.Contains(b.String(), want) {
		t.Fatalf("POST %s: %s %s, want 200 with %s", u, resp.Status, b.String(), want)
	}
}

// waitRows polls query (one row, one column) until it returns want.
func waitRows(t *testing.T, db *sql.DB, timeout time.Duration, what, query string, want int) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var got int
	var err error
	for time.Now().Before(deadline) {
		if err = db.QueryRow(query).Scan(&got); err == nil && got == want {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: %d after %s (last error %v), want %d", what, got, timeout, err, want)
}
