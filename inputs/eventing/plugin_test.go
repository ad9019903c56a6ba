package eventing_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// startPlugin loads build of plugins/in_eventing into the test host, the way
// Fluent Bit runs it, and returns the instance and its base URL. It runs
// `threaded off`, as conf/edge.conf does, unless cfg says otherwise.
func startPlugin(t *testing.T, cfg flbhost.Config) (*flbhost.InputInstance, string) {
	t.Helper()
	p := testenv.LoadPlugin(t, "plugins/in_eventing")
	cfg["http_listen"], cfg["http_port"] = "127.0.0.1", "0"
	if _, ok := cfg["threaded"]; !ok {
		cfg["threaded"] = "off"
	}
	in, err := p.NewInput(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Exit() })
	lines := flbhost.LogsContaining("[input:eventing:", "listening on http://127.0.0.1:")
	addr := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(lines[len(lines)-1])
	return in, addr
}

type reply struct {
	status   int
	body     string
	buffered []string // event bodies the engine held when the reply came
}

func post(t *testing.T, in *flbhost.InputInstance, url, body string) <-chan reply {
	ch := make(chan reply, 1)
	go func() {
		resp, err := http.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Error(err)
			ch <- reply{}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		ch <- reply{status: resp.StatusCode, body: string(b), buffered: bodies(t, in.Peek())}
	}()
	return ch
}

// bodies returns the "body" field of every record in the appends.
func bodies(t *testing.T, apps []flbhost.Append) []string {
	var out []string
	for _, a := range apps {
		d := record.NewDecoder(a.Data)
		var r record.Record
		for d.Next(&r) {
			v, _ := r.Body.Get("body")
			s, _ := v.Str()
			out = append(out, string(s))
		}
		if err := d.Err(); err != nil {
			t.Error(err)
		}
	}
	return out
}

func TestPluginAnswersOnlyAfterFluentBitHoldsTheEvents(t *testing.T) {
	for _, tc := range []struct {
		ack          string
		status       int
		heldAtAnswer bool
	}{
		{"buffered", 200, true},
		{"received", 202, false},
	} {
		t.Run(tc.ack, func(t *testing.T) {
			in, base := startPlugin(t, flbhost.Config{"ack": tc.ack, "tag": "edge"})
			in.Start() // Fluent Bit's fixed 1-second collect
			events := `[{"n":1},{"n":2},{"n":3}]`
			r := <-post(t, in, base+"/v1/events/g1/1.0.0/level_up", events)
			if r.status != tc.status {
				t.Fatalf("status %d %s", r.status, r.body)
			}
			held := fmt.Sprint(r.buffered) == `[{"n":1} {"n":2} {"n":3}]`
			if held != tc.heldAtAnswer {
				t.Errorf("ack %s: engine held %q when the answer came", tc.ack, r.buffered)
			}
			if !in.WaitBytes(1, 3*time.Second) {
				t.Fatal("events never reached the engine")
			}
			apps := in.Drain()
			if got := bodies(t, apps); fmt.Sprint(got) != `[{"n":1} {"n":2} {"n":3}]` || apps[0].Tag != "edge" {
				t.Errorf("engine got %q on tag %q", got, apps[0].Tag)
			}
		})
	}
}

func TestPluginBackPressure(t *testing.T) {
	in, base := startPlugin(t, flbhost.Config{"ack": "received"})
	in.Pause() // Fluent Bit hit mem_buf_limit
	resp, err := http.Post(base+"/v1/events/g1/1.0.0/e", "application/json", bytes.NewReader([]byte(`{"a":1}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("paused: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	in.Resume()
	resp, err = http.Post(base+"/v1/events/g1/1.0.0/e", "application/json", bytes.NewReader([]byte(`{"a":1}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Errorf("resumed: %d", resp.StatusCode)
	}
	in.CollectNow()
	if got := bodies(t, in.Drain()); fmt.Sprint(got) != `[{"a":1}]` {
		t.Errorf("engine got %q: the refused request must emit nothing", got)
	}
}

func TestPluginServesMetrics(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	in, base := startPlugin(t, flbhost.Config{"ack": "received", "metrics_port": port, "metrics_listen": "127.0.0.1"})
	for _, body := range []string{`[{"a":1},{"a":2}]`, `{"a":`} {
		resp, err := http.Post(base+"/v1/events/g1/1.0.0/e", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	in.CollectNow()
	resp, err := http.Get("http://127.0.0.1:" + port + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`whirlpool_eventing_events_accepted_total{instance="eventing.`,
		`whirlpool_eventing_requests_total{code="",instance="eventing.`,
		`whirlpool_eventing_requests_total{code="PAYLOAD_NOT_JSON",instance="eventing.`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if !regexp.MustCompile(`whirlpool_eventing_events_accepted_total\{instance="eventing\.\d+",plugin="eventing"\} 2\n`).Match(b) {
		t.Errorf("accepted count wrong:\n%s", b)
	}
}
