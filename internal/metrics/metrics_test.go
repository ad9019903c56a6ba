package metrics

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func get(t *testing.T, url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// start reads cfg as a plugin would and starts the instance's metrics.
func start(c testenv.Config, pluginName, instance string) (*Instance, error) {
	r := Properties.Read(c)
	s := Read(r)
	if err := r.Err(); err != nil {
		return nil, err
	}
	return s.Start(pluginName, instance, nil)
}

func TestInstancesShareAPortWithTheirOwnLabels(t *testing.T) {
	port := testenv.FreePort(t)
	c := testenv.Config{"metrics_port": port, "metrics_listen": "127.0.0.1"}
	a, err := start(c, "sqs", "sqs.0")
	if err != nil {
		t.Fatal(err)
	}
	b, err := start(c, "sqs", "sqs.1")
	if err != nil {
		t.Fatal(err)
	}
	a.Register([]Func{{Name: "events_sent_total", Help: "Events sent.", Value: Int(func() int64 { return 3 })}})
	b.Register([]Func{
		{Name: "events_sent_total", Help: "Events sent.", Value: Int(func() int64 { return 5 })},
		{Name: "failures_total", Help: "Failures by code.", Labels: []string{"code"}, Series: func(emit func(int64, ...string)) { emit(1, "UNKNOWN_GAME") }},
	})
	b.Register([]Func{{Name: "rows_loaded_total", Help: "Rows by table.", Labels: []string{"table"}, Series: Map(func() map[string]int64 { return map[string]int64{"events.level_up": 7} })}})

	status, body := get(t, "http://127.0.0.1:"+port+"/metrics")
	for _, want := range []string{
		`whirlpool_events_sent_total{instance="sqs.0",plugin="sqs"} 3`,
		`whirlpool_events_sent_total{instance="sqs.1",plugin="sqs"} 5`,
		`whirlpool_failures_total{code="UNKNOWN_GAME",instance="sqs.1",plugin="sqs"} 1`,
		`whirlpool_rows_loaded_total{instance="sqs.1",plugin="sqs",table="events.level_up"} 7`,
	} {
		if status != 200 || !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
	if status, body := get(t, "http://127.0.0.1:"+port+"/healthz"); status != 200 || body != `{"status":"ok"}` {
		t.Errorf("healthz %d %s", status, body)
	}
	a.Close()
	if _, body := get(t, "http://127.0.0.1:"+port+"/metrics"); strings.Contains(body, `instance="sqs.0"`) {
		t.Error("a closed instance's series must go")
	}
	b.Close()
	if _, err := http.Get("http://127.0.0.1:" + port + "/metrics"); err == nil {
		t.Error("the server must stop with its last instance")
	}
}

func TestOffByDefaultAndPortErrors(t *testing.T) {
	off, err := start(testenv.Config{}, "eventing", "eventing.0")
	if err != nil || off.Addr() != "" {
		t.Fatalf("default must be off: %v %q", err, off.Addr())
	}
	off.Register([]Func{{Name: "x_total", Help: "x", Value: Int(func() int64 { return 1 })}}) // registering still works
	off.Close()

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	busy := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	if _, err := start(testenv.Config{"metrics_port": busy, "metrics_listen": "127.0.0.1"}, "sqs", "sqs.0"); err == nil || !strings.Contains(err.Error(), `properties "metrics_listen" and "metrics_port": cannot listen on 127.0.0.1:`+busy) {
		t.Errorf("a taken port: %v", err)
	}
	if _, err := start(testenv.Config{"metrics_port": "70000"}, "sqs", "sqs.0"); err == nil || !strings.Contains(err.Error(), "metrics_port") {
		t.Errorf("bad port: %v", err)
	}
}

// TestDefaultListensOnLoopbackOnly: without metrics_listen the server is on
// 127.0.0.1 only, so counters are not published to the network by default.
func TestDefaultListensOnLoopbackOnly(t *testing.T) {
	port := testenv.FreePort(t)
	m, err := start(testenv.Config{"metrics_port": port}, "sqs", "sqs.0")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if status, _ := get(t, "http://127.0.0.1:"+port+"/healthz"); status != 200 {
		t.Fatalf("healthz on 127.0.0.1: %d", status)
	}
	if c, err := net.Dial("tcp", "127.0.0.2:"+port); err == nil {
		c.Close()
		t.Errorf("the metrics server also answers on 127.0.0.2:%s; the default is 127.0.0.1", port)
	}
}

// TestRegisterServesATable: a plugin's table of Funcs becomes counters,
// gauges, labelled counters and histograms read at scrape time.
func TestRegisterServesATable(t *testing.T) {
	port := testenv.FreePort(t)
	m, err := start(testenv.Config{"metrics_port": port}, "sqs", "sqs.0")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var sent int64 = 4
	latency := NewHistogram([]float64{0.001, 0.01, 1})
	m.Register([]Func{
		{Name: "t_sent_total", Help: "Sent.", Value: Int(func() int64 { return sent })},
		{Name: "t_queued", Help: "Queued.", Gauge: true, Value: Uint(func() uint64 { return 2 })},
		{Name: "t_rows_total", Help: "Rows.", Labels: []string{"table"}, Series: Map(func() map[string]int64 { return map[string]int64{"a": 1} })},
		{Name: "t_requests_total", Help: "Requests.", Labels: []string{"status", "code"}, Series: func(emit func(int64, ...string)) { emit(3, "400", "BAD") }},
		{Name: "t_seconds", Help: "Latency.", Histogram: latency},
	})
	sent = 9
	for _, v := range []float64{0.0005, 0.01, 0.01, 3, 100} {
		latency.Observe(v)
	}
	_, body := get(t, "http://127.0.0.1:"+port+"/metrics")
	for _, want := range []string{
		"# TYPE whirlpool_t_sent_total counter", `whirlpool_t_sent_total{instance="sqs.0",plugin="sqs"} 9`,
		"# TYPE whirlpool_t_queued gauge", `whirlpool_t_queued{instance="sqs.0",plugin="sqs"} 2`,
		`whirlpool_t_rows_total{instance="sqs.0",plugin="sqs",table="a"} 1`,
		`whirlpool_t_requests_total{code="BAD",instance="sqs.0",plugin="sqs",status="400"} 3`,
		// Buckets are cumulative and "less than or equal".
		"# TYPE whirlpool_t_seconds histogram",
		`whirlpool_t_seconds_bucket{instance="sqs.0",plugin="sqs",le="0.001"} 1`,
		`whirlpool_t_seconds_bucket{instance="sqs.0",plugin="sqs",le="0.01"} 3`,
		`whirlpool_t_seconds_bucket{instance="sqs.0",plugin="sqs",le="1"} 3`,
		`whirlpool_t_seconds_bucket{instance="sqs.0",plugin="sqs",le="+Inf"} 5`,
		`whirlpool_t_seconds_sum{instance="sqs.0",plugin="sqs"} 103.0205`,
		`whirlpool_t_seconds_count{instance="sqs.0",plugin="sqs"} 5`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}
