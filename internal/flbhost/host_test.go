package flbhost_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func load(t *testing.T, dir string) *flbhost.Plugin {
	t.Helper()
	flbhost.ResetLogs()
	so, err := flbhost.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := flbhost.Load(so)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// cprobe builds the C probe and loads it as kind, logging calls to a file.
func cprobe(t *testing.T, kind string) (*flbhost.Plugin, func() []string) {
	t.Helper()
	flbhost.ResetLogs()
	dir := t.TempDir()
	so := filepath.Join(dir, "cprobe.so")
	if out, err := exec.Command("gcc", "-shared", "-fPIC", "-o", so, "testdata/cprobe/cprobe.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	logf := filepath.Join(dir, "calls.log")
	t.Setenv("CPROBE_LOG", logf)
	t.Setenv("CPROBE_TYPE", kind)
	p, err := flbhost.Load(so)
	if err != nil {
		t.Fatal(err)
	}
	return p, func() []string {
		f, err := os.Open(logf)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var lines []string
		s := bufio.NewScanner(f)
		for s.Scan() {
			lines = append(lines, s.Text())
		}
		return lines
	}
}

var tidRe = regexp.MustCompile(` tid=(\d+)$`)

func split(line string) (string, string) {
	m := tidRe.FindStringSubmatch(line)
	if m == nil {
		return line, ""
	}
	return strings.TrimSuffix(line, m[0]), m[1]
}

func TestCProbeOutputCallOrder(t *testing.T) {
	p, calls := cprobe(t, "output")
	if p.Kind != flbhost.Output || p.Name != "cprobe" {
		t.Fatalf("registered %s %q", p.Kind, p.Name)
	}
	o1, err := p.NewOutput(flbhost.Config{"probe_key": "v1", "log_level": "debug", "workers": "2"})
	if err != nil {
		t.Fatal(err)
	}
	o2, err := p.NewOutput(flbhost.Config{"PROBE_KEY": "v2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.NewOutput(flbhost.Config{"probe_key": "fail"}); err == nil {
		t.Fatal("an init returning 0 must fail the instance")
	}
	if r := o1.Flush([]byte{0x92, 1, 2}, "app.a"); r != flbhost.FlbOK {
		t.Errorf("flush o1 = %d", r)
	}
	if r := o2.Flush([]byte{0x93}, "app.b"); r != flbhost.FlbRetry {
		t.Errorf("flush o2 = %d (the probe retries for context 2)", r)
	}
	if err := p.Close(); err == nil {
		t.Error("unregister must wait for the instances to exit")
	}
	for _, o := range []*flbhost.OutputInstance{o1, o2} {
		if _, err := o.Exit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range calls() {
		c, _ := split(l)
		got = append(got, c)
	}
	want := []string{
		"pre_register hot=0",
		"register",
		// Property keys are case-insensitive; core properties stay with the engine.
		"init name=cprobe id=1 prop=v1 core=(null) debug=1",
		"output_pre_run hot=0",
		"init name=cprobe id=2 prop=v2 core=(null) debug=0",
		"output_pre_run hot=0",
		"init name=cprobe id=3 prop=fail core=(null) debug=0",
		"flush_ctx ctx=1 size=3 tag=app.a first=92",
		"flush_ctx ctx=2 size=1 tag=app.b first=93",
		"output_pre_exit hot=0",
		"exit_ctx ctx=1",
		"output_pre_exit hot=0",
		"exit_ctx ctx=2",
		"unregister name=cprobe",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if l := flbhost.LogsContaining("cprobe init=1"); len(l) != 1 || !strings.HasPrefix(l[0], "[info] ") {
		t.Errorf("log_print with a format and arguments: %q", l)
	}
}

func TestCProbeInputCallOrder(t *testing.T) {
	p, calls := cprobe(t, "input")
	in, err := p.NewInput(flbhost.Config{"probe_key": "x", "tag": "probe.tag"})
	if err != nil {
		t.Fatal(err)
	}
	in.CollectNow() // a record
	in.CollectNow() // nothing: no append, no cleanup
	in.Pause()
	in.Resume()
	in.Start()
	if !in.WaitBytes(2*17, 3*flbhost.CollectInterval) {
		t.Fatal("the 1-second collector did not run")
	}
	in.Pause()
	if _, err := in.Exit(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	apps := in.Drain()
	if len(apps) < 2 || apps[0].Tag != "probe.tag" || len(apps[0].Data) != 17 {
		t.Fatalf("appends: %+v", apps)
	}

	lines := calls()
	var got []string
	collectTID := ""
	var buf string
	for _, l := range lines {
		c, tid := split(l)
		fields := strings.Fields(c)
		switch fields[0] {
		case "collect_ctx", "cleanup_ctx":
			// Go inputs are threaded: every collect and cleanup of an
			// instance runs on that instance's one thread.
			if collectTID == "" {
				collectTID = tid
			} else if tid != collectTID {
				t.Errorf("%s on thread %s, earlier collects on %s", fields[0], tid, collectTID)
			}
			if fields[0] == "collect_ctx" && strings.Contains(c, "buf=") {
				buf = c[strings.Index(c, "buf="):]
			}
			if fields[0] == "cleanup_ctx" && c[strings.Index(c, "buf="):] != buf {
				t.Errorf("cleanup got %s, the collect returned %s", c, buf)
			}
			c = strings.Split(c, " buf=")[0]
		}
		got = append(got, c)
	}
	want := []string{
		"pre_register hot=0",
		"register",
		"init name=cprobe id=1 prop=x core=(null) debug=0",
		"input_pre_run hot=0",
		"collect_ctx ctx=1 size=17",
		"cleanup_ctx ctx=1",
		"collect_ctx ctx=1 size=0",
		"pause",
		"resume",
		"collect_ctx ctx=1 size=17",
		"cleanup_ctx ctx=1",
	}
	if len(got) < len(want) || strings.Join(got[:len(want)], "\n") != strings.Join(want, "\n") {
		t.Fatalf("calls:\n%s\nwant prefix:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	tail := got[len(got)-4:]
	wantTail := []string{"pause", "input_pre_exit hot=0", "exit", "unregister name=cprobe"}
	if strings.Join(tail, "\n") != strings.Join(wantTail, "\n") {
		t.Errorf("shutdown calls %q, want %q", tail, wantTail)
	}
}

func TestGlueOutputInstances(t *testing.T) {
	p := load(t, "internal/flbhost/testdata/probe_out")
	if p.Kind != flbhost.Output || p.Name != "probe_out" || p.EventType != 0 {
		t.Fatalf("registered %s %q event_type %d", p.Kind, p.Name, p.EventType)
	}
	for _, s := range []string{"FLBPluginRegister", "FLBPluginInit", "FLBPluginFlushCtx", "FLBPluginExitCtx"} {
		if !p.Has(s) {
			t.Errorf("missing %s", s)
		}
	}
	if _, err := p.NewOutput(flbhost.Config{"id": "x", "result": "maybe"}); err == nil {
		t.Fatal("bad property value must fail init")
	}
	if l := flbhost.LogsContaining(`property "result": invalid value "maybe": want one of ok, retry, error, invalid`); len(l) != 1 || !regexp.MustCompile(`^\[error\] \[output:probe_out:probe_out\.\d+\] `).MatchString(l[0]) {
		t.Errorf("init error log: %q", l)
	}
	a, err := p.NewOutput(flbhost.Config{"ID": "a", "log_level": "debug"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.NewOutput(flbhost.Config{"id": "b", "result": "retry"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.NewOutput(flbhost.Config{"id": "c", "result": "invalid"})
	if err != nil {
		t.Fatal(err)
	}
	if len(flbhost.LogsContaining("debug line id=a")) != 1 || len(flbhost.LogsContaining("debug line id=b")) != 0 {
		t.Error("debug lines must follow each instance's log_level")
	}
	chunk := chunkOf(3)
	if r := a.Flush(chunk, "t.a"); r != flbhost.FlbOK {
		t.Errorf("a: %d", r)
	}
	if r := b.Flush(chunk, "t.b"); r != flbhost.FlbRetry {
		t.Errorf("b: %d", r)
	}
	if r := flbhost.Result(c.Flush(chunk, "t.c")); r != flbhost.FlbError {
		t.Errorf("c: an invalid return code must count as an error, got %d", r)
	}
	if r, n := b.Deliver(chunk, "t.b", 1); r != flbhost.FlbRetry || n != 2 {
		t.Errorf("Deliver with Retry_Limit 1: result %d after %d flushes", r, n)
	}
	for _, want := range []string{"flush id=a tag=t.a records=3", "flush id=b tag=t.b records=3", "flush id=c tag=t.c records=3"} {
		if len(flbhost.LogsContaining(want)) == 0 {
			t.Errorf("no log %q", want)
		}
	}
	for _, o := range []*flbhost.OutputInstance{a, b, c} {
		if _, err := o.Exit(); err != nil {
			t.Error(err)
		}
	}
	for _, id := range []string{"a", "b", "c"} {
		if len(flbhost.LogsContaining("closed id="+id)) != 1 {
			t.Errorf("instance %s not closed exactly once", id)
		}
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestGlueOutputWorkersFlushConcurrently(t *testing.T) {
	p := load(t, "internal/flbhost/testdata/probe_out")
	for _, tc := range []struct {
		id      string
		workers string
		want    string
	}{
		{"w0", "0", "1"},
		{"w4", "4", "4"},
	} {
		o, err := p.NewOutput(flbhost.Config{"id": tc.id, "workers": tc.workers, "sleep": "150ms"})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); o.Flush(chunkOf(1), "w") }()
		}
		wg.Wait()
		max := "0"
		for _, l := range flbhost.LogsContaining("flush id=" + tc.id + " ") {
			if c := l[strings.LastIndex(l, "=")+1:]; c > max {
				max = c
			}
		}
		if max != tc.want {
			t.Errorf("workers %s: at most %s flushes at once, want %s", tc.workers, max, tc.want)
		}
		o.Exit()
	}
	p.Close()
}

func TestChunkIsOnlyValidDuringFlush(t *testing.T) {
	p := load(t, "internal/flbhost/testdata/probe_out")
	o, err := p.NewOutput(flbhost.Config{"id": "keeper", "retain": "on"})
	if err != nil {
		t.Fatal(err)
	}
	o.Flush(chunkOf(4), "k")
	o.Exit()
	// A plugin that keeps the chunk past the call reads the engine's poison.
	if l := flbhost.LogsContaining("retained id=keeper mid=0xa5"); len(l) != 1 {
		t.Errorf("retained chunk memory not poisoned: %q", flbhost.LogsContaining("retained id=keeper"))
	}
	p.Close()
}

func TestGlueInputCollectCleanupPauseExit(t *testing.T) {
	for _, threaded := range []string{"on", "off"} {
		t.Run("threaded="+threaded, func(t *testing.T) {
			p := load(t, "internal/flbhost/testdata/probe_in")
			if p.Kind != flbhost.Input || p.Name != "probe_in" {
				t.Fatalf("registered %s %q", p.Kind, p.Name)
			}
			a, err := p.NewInput(flbhost.Config{"id": "in-a", "records": "3", "tag": "a", "threaded": threaded})
			if err != nil {
				t.Fatal(err)
			}
			b, err := p.NewInput(flbhost.Config{"id": "in-b", "records": "0", "tag": "b", "threaded": threaded})
			if err != nil {
				t.Fatal(err)
			}
			a.CollectNow()
			b.CollectNow()
			if threaded == "on" {
				// In the ring buffer until the engine's next move.
				if s := a.Snapshot(); len(s.Chunks) != 0 || len(s.Ring) != 1 {
					t.Fatalf("threaded: %d chunks and %d ring entries after a collect, want 0 and 1", len(s.Chunks), len(s.Ring))
				}
				a.RingTick()
			}
			got := a.Drain()
			if len(got) != 1 || got[0].Tag != "a" {
				t.Fatalf("appends %+v", got)
			}
			ids, seqs := decode(t, got[0].Data)
			if strings.Join(ids, ",") != "in-a,in-a,in-a" || fmt.Sprint(seqs) != "[0 1 2]" {
				t.Errorf("records ids %v seqs %v", ids, seqs)
			}
			// The input learns its records are handed over only through the cleanup.
			if l := flbhost.LogsContaining("acked id=in-a seq=0..3 total=3"); len(l) != 1 {
				t.Errorf("ack after cleanup: %q", flbhost.LogsContaining("acked id=in-a"))
			}
			if len(b.Drain()) != 0 {
				t.Error("an empty collect must append nothing")
			}

			// Pause carries no context: every instance hears it.
			a.Pause()
			if len(flbhost.LogsContaining("paused id=in-a")) != 1 || len(flbhost.LogsContaining("paused id=in-b")) != 1 {
				t.Error("pause must reach every instance")
			}
			a.Resume()

			// mem_buf_limit: the engine pauses the input when its chunks
			// fill and resumes it once they are released.
			c, err := p.NewInput(flbhost.Config{"id": "in-c", "records": "10", "mem_buf_limit": "100", "threaded": threaded})
			if err != nil {
				t.Fatal(err)
			}
			c.CollectNow()
			c.RingTick()
			if !c.Paused() {
				t.Error("an input over mem_buf_limit must be paused")
			}
			c.Drain()
			if c.Paused() {
				t.Error("a drained input must be resumed")
			}

			// The real 1-second collector, and the 250 ms ring-buffer timer.
			a.Start()
			if !a.WaitBytes(1, 3*flbhost.CollectInterval) {
				t.Fatal("no chunk within 3 s")
			}
			start := time.Now()
			n0 := a.Collects()
			for a.Collects() < n0+2 {
				time.Sleep(10 * time.Millisecond)
			}
			if d := time.Since(start); d < 900*time.Millisecond {
				t.Errorf("two collects %v apart: the proxy collects once a second", d)
			}

			for _, in := range []*flbhost.InputInstance{a, b, c} {
				if _, err := in.Exit(); err != nil {
					t.Error(err)
				}
				if l := in.Lost(); len(l) != 0 {
					t.Errorf("%s lost %d appends at a graceful exit", in.Name, len(l))
				}
			}
			for _, id := range []string{"in-a", "in-b", "in-c"} {
				if len(flbhost.LogsContaining("closed id="+id+" ")) != 1 {
					t.Errorf("%s not closed exactly once: FLBPluginExit has no context", id)
				}
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestShims runs each Whirlpool plugin through register, init, work and exit.
func TestShims(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		kind flbhost.Kind
		name string
		cfg  flbhost.Config
	}{
		{"plugins/in_eventing", flbhost.Input, "eventing", flbhost.Config{"http_listen": "127.0.0.1", "http_port": "0"}},
		{"plugins/in_sqs", flbhost.Input, "sqs", flbhost.Config{"queue_url": "http://127.0.0.1:9/123456789012/q", "region": "us-east-1", "wait_time_seconds": "0"}},
		{"plugins/out_sqs", flbhost.Output, "sqs", flbhost.Config{"queue_url": "http://127.0.0.1:9/123456789012/q", "region": "us-east-1", "max_retries": "0"}},
		{"plugins/out_redshift", flbhost.Output, "redshift", flbhost.Config{"dialect": "postgres", "auto_create": "on"}},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			if tc.name == "redshift" {
				tc.cfg["dsn"] = testenv.Postgres(t)
			}
			p := load(t, tc.dir)
			if p.Kind != tc.kind || p.Name != tc.name {
				t.Fatalf("registered %s %q, want %s %q", p.Kind, p.Name, tc.kind, tc.name)
			}
			switch tc.kind {
			case flbhost.Output:
				o, err := p.NewOutput(tc.cfg)
				if err != nil {
					t.Fatal(err)
				}
				if r := o.Flush(chunkOf(2), "x"); r != flbhost.FlbOK && r != flbhost.FlbRetry {
					t.Errorf("flush returned %d: a chunk not delivered must be retried, never dropped", r)
				}
				if _, err := o.Exit(); err != nil {
					t.Error(err)
				}
			case flbhost.Input:
				in, err := p.NewInput(tc.cfg)
				if err != nil {
					t.Fatal(err)
				}
				in.CollectNow()
				if _, err := in.Exit(); err != nil {
					t.Error(err)
				}
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func chunkOf(n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		body := msgp.AppendMapHeader(nil, 1)
		body = msgp.AppendString(body, "n")
		body = msgp.AppendInt(body, i)
		b = record.AppendRecord(b, time.Unix(1700000000, 0), nil, body)
	}
	return b
}

// decode reads probe_in records with plain msgp calls.
func decode(t *testing.T, b []byte) (ids []string, seqs []int) {
	t.Helper()
	for len(b) > 0 {
		var err error
		var sz uint32
		if sz, b, err = msgp.ReadArrayHeaderBytes(b); err != nil || sz != 2 {
			t.Fatalf("record header: %v %d", err, sz)
		}
		if b, err = msgp.Skip(b); err != nil { // [ts, meta]
			t.Fatal(err)
		}
		var n uint32
		if n, b, err = msgp.ReadMapHeaderBytes(b); err != nil {
			t.Fatal(err)
		}
		for i := uint32(0); i < n; i++ {
			var k string
			k, b, _ = msgp.ReadStringBytes(b)
			switch k {
			case "id":
				var v string
				v, b, err = msgp.ReadStringBytes(b)
				ids = append(ids, v)
			case "seq":
				var v int
				v, b, err = msgp.ReadIntBytes(b)
				seqs = append(seqs, v)
			default:
				b, err = msgp.Skip(b)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	return ids, seqs
}
