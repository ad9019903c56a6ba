// Package metrics lets each plugin instance count what it does and serve the
// counts in Prometheus text format, with /healthz, on a port set by the
// instance's metrics_port property (off by default). Instances of plugins in
// one shared object that name the same port share one server; each series
// carries plugin and instance labels.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/whirlpool-events/whirlpool/internal/props"
)

// Properties are appended to every plugin's own property set.
var Properties = props.Set{
	{Name: "metrics_port", Default: "0", Meaning: "Serve Prometheus metrics at /metrics and /healthz on this TCP port; 0 turns it off."},
	{Name: "metrics_listen", Default: "127.0.0.1", Meaning: "Address of the metrics server; the default keeps it on this host (set 0.0.0.0 for a Prometheus elsewhere, e.g. a pod IP scrape)."},
}

// Other is the label value that stands for every value a label does not
// know. A label's values come from a fixed list (error codes, the data
// model's tables), never from what a record or request carries: each value
// is a series a Prometheus server keeps, and a sender who could choose them
// could add series without bound (or, with invalid UTF-8, break a scrape).
const Other = "OTHER"

// Bounded returns v when it is one of a label's known values, else Other.
func Bounded(v string, known bool) string {
	if known {
		return v
	}
	return Other
}

// Instance holds one plugin instance's metrics.
type Instance struct {
	reg    prometheus.Registerer
	cols   []prometheus.Collector
	server *server
}

// Read reads the metrics properties (the reader's set must include
// Properties) and returns the instance's metrics, serving them when a port
// is set. plugin is the Fluent Bit plugin name ("eventing"), instance the
// instance's name ("eventing.0").
func Read(r *props.Reader, plugin, instance string) (*Instance, error) {
	port := r.Int("metrics_port", 0, 65535)
	listen := r.String("metrics_listen")
	if err := r.Err(); err != nil {
		return nil, err
	}
	labels := prometheus.Labels{"plugin": plugin, "instance": instance}
	if port == 0 {
		// Off: count anyway (cheap), into a registry nobody serves.
		return &Instance{reg: prometheus.WrapRegistererWith(labels, prometheus.NewRegistry())}, nil
	}
	s, err := acquire(net.JoinHostPort(listen, strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("property \"metrics_port\": %w", err)
	}
	return &Instance{reg: prometheus.WrapRegistererWith(labels, s.reg), server: s}, nil
}

// Counter registers a counter whose name is prefixed with whirlpool_.
func (i *Instance) Counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "whirlpool_" + name, Help: help})
	i.register(c)
	return c
}

// CounterVec registers a counter with labels.
func (i *Instance) CounterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "whirlpool_" + name, Help: help}, labels)
	i.register(c)
	return c
}

// Gauge registers a gauge.
func (i *Instance) Gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "whirlpool_" + name, Help: help})
	i.register(g)
	return g
}

// GaugeFunc registers a gauge read from f at scrape time.
func (i *Instance) GaugeFunc(name, help string, f func() float64) {
	i.register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "whirlpool_" + name, Help: help}, f))
}

// CounterFunc registers a counter read from f at scrape time, for counts a
// package already keeps.
func (i *Instance) CounterFunc(name, help string, f func() float64) {
	i.register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "whirlpool_" + name, Help: help}, f))
}

// CounterMapFunc registers a counter with one label whose series are read
// from f at scrape time (e.g. rows loaded per table).
func (i *Instance) CounterMapFunc(name, help, label string, f func() map[string]int64) {
	i.register(&mapCollector{desc: prometheus.NewDesc("whirlpool_"+name, help, []string{label}, nil), f: f})
}

type mapCollector struct {
	desc *prometheus.Desc
	f    func() map[string]int64
}

func (c *mapCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *mapCollector) Collect(ch chan<- prometheus.Metric) {
	for k, v := range c.f() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(v), k)
	}
}

// Histogram registers a histogram with the given buckets.
func (i *Instance) Histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "whirlpool_" + name, Help: help, Buckets: buckets})
	i.register(h)
	return h
}

func (i *Instance) register(c prometheus.Collector) {
	if err := i.reg.Register(c); err != nil {
		panic("metrics: " + err.Error()) // a programming error: duplicate name
	}
	i.cols = append(i.cols, c)
}

// Close unregisters the instance's metrics and stops the server when no
// other instance uses it.
func (i *Instance) Close() {
	for _, c := range i.cols {
		i.reg.Unregister(c)
	}
	i.cols = nil
	if i.server != nil {
		release(i.server)
		i.server = nil
	}
}

// LatencyBuckets suit receipt-to-row and request latencies, in seconds.
var LatencyBuckets = []float64{.001, .005, .01, .05, .1, .25, .5, 1, 2, 5, 10, 30, 60}

// SizeBuckets suit batch sizes in records.
var SizeBuckets = prometheus.ExponentialBuckets(1, 4, 12)

type server struct {
	addr string
	reg  *prometheus.Registry
	srv  *http.Server
	refs int
}

var (
	mu      sync.Mutex
	servers = map[string]*server{}
)

func acquire(addr string) (*server, error) {
	mu.Lock()
	defer mu.Unlock()
	if s, ok := servers[addr]; ok {
		s.refs++
		return s, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	s := &server{addr: addr, reg: reg, refs: 1, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener is gone; nothing else to do
		}
	}()
	servers[addr] = s
	return s, nil
}

func release(s *server) {
	mu.Lock()
	s.refs--
	last := s.refs == 0
	if last {
		delete(servers, s.addr)
	}
	mu.Unlock()
	if last {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.srv.Shutdown(ctx)
	}
}

// Addr returns the address the instance's metrics are served on, or "".
func (i *Instance) Addr() string {
	if i.server == nil {
		return ""
	}
	return i.server.addr
}
