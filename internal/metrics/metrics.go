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
	"math"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/props"
)

// Properties are appended to every plugin's own property set.
var Properties = props.Set{
	{Name: "metrics_port", Type: props.Int, Min: 0, Max: 65535, Default: "0", Meaning: "Serve Prometheus metrics at /metrics and /healthz on this TCP port; 0 turns it off."},
	{Name: "metrics_listen", Type: props.String, Default: "127.0.0.1", Meaning: "Address of the metrics server; the default keeps it on this host (set 0.0.0.0 for a Prometheus elsewhere, e.g. a pod IP scrape)."},
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

// Settings are what the metrics properties say.
type Settings struct {
	Port   int // 0: not served
	Listen string
}

// Read reads the metrics properties from a plugin's reader (its set must
// include Properties). It only records problems on r, so that the plugin
// reports them with its own in one error; Start then opens the server.
func Read(r *props.Reader) Settings {
	return Settings{Port: r.Int("metrics_port"), Listen: r.String("metrics_listen")}
}

// Start returns the instance's metrics, serving them when a port is set.
// pluginName is the Fluent Bit plugin name ("eventing"), instance the
// instance's name ("eventing.0"); log receives a server that stops
// serving on its own. A port that cannot be listened on fails, naming both
// properties, so that Init fails rather than run without the metrics the
// user asked for.
func (s Settings) Start(pluginName, instance string, log plugin.Logger) (*Instance, error) {
	labels := prometheus.Labels{"plugin": pluginName, "instance": instance}
	if s.Port == 0 {
		// Off: count anyway (cheap), into a registry nobody serves.
		return &Instance{reg: prometheus.WrapRegistererWith(labels, prometheus.NewRegistry())}, nil
	}
	srv, err := acquire(net.JoinHostPort(s.Listen, strconv.Itoa(s.Port)), log)
	if err != nil {
		return nil, fmt.Errorf("properties \"metrics_listen\" and \"metrics_port\": %w", err)
	}
	return &Instance{reg: prometheus.WrapRegistererWith(labels, srv.reg), server: srv}, nil
}

// Func is one metric read at scrape time from counts a plugin already keeps
// in its stats struct. Each plugin declares its metrics as one table of
// Funcs (Register), so the names, help and sources are read in one place
// and the hot paths count into plain atomics or maps, not into Prometheus
// objects.
type Func struct {
	Name, Help string
	Gauge      bool           // else a counter
	Value      func() float64 // one series; or, with Labels,
	Labels     []string       // the label names of
	Series     Series         // one counter series per label values (bounded by the caller)
	Histogram  *Histogram     // or a distribution
}

// Series calls emit once per series with its value and label values.
type Series func(emit func(v int64, labelValues ...string))

// Map adapts a one-label count map (label value to count) to a Series.
func Map(f func() map[string]int64) Series {
	return func(emit func(int64, ...string)) {
		for k, v := range f() {
			emit(v, k)
		}
	}
}

// Register registers a plugin's table of metrics.
func (i *Instance) Register(table []Func) {
	for _, f := range table {
		switch {
		case f.Histogram != nil:
			i.register(&histogramCollector{desc: prometheus.NewDesc("whirlpool_"+f.Name, f.Help, nil, nil), h: f.Histogram})
		case f.Series != nil:
			i.register(&seriesCollector{desc: prometheus.NewDesc("whirlpool_"+f.Name, f.Help, f.Labels, nil), f: f.Series})
		case f.Gauge:
			i.register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "whirlpool_" + f.Name, Help: f.Help}, f.Value))
		default:
			i.register(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "whirlpool_" + f.Name, Help: f.Help}, f.Value))
		}
	}
}

type seriesCollector struct {
	desc *prometheus.Desc
	f    Series
}

func (c *seriesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *seriesCollector) Collect(ch chan<- prometheus.Metric) {
	c.f(func(v int64, labelValues ...string) {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(v), labelValues...)
	})
}

// Histogram is a distribution a plugin observes into on its hot path
// (one atomic add per observation, no lock) and its metric table serves.
type Histogram struct {
	bounds []float64       // upper bounds, ascending
	counts []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sum    atomic.Uint64   // float64 bits
}

// NewHistogram returns a histogram with the given ascending upper bounds.
func NewHistogram(bounds []float64) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// Observe adds v to the distribution.
func (h *Histogram) Observe(v float64) {
	// Prometheus buckets are "less than or equal": v lands in the first
	// bound >= v.
	h.counts[sort.SearchFloat64s(h.bounds, v)].Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// snapshot returns the count, the sum and the cumulative bucket counts.
func (h *Histogram) snapshot() (uint64, float64, map[float64]uint64) {
	buckets := make(map[float64]uint64, len(h.bounds))
	var n uint64
	for i, b := range h.bounds {
		n += h.counts[i].Load()
		buckets[b] = n
	}
	n += h.counts[len(h.bounds)].Load()
	return n, math.Float64frombits(h.sum.Load()), buckets
}

type histogramCollector struct {
	desc *prometheus.Desc
	h    *Histogram
}

func (c *histogramCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *histogramCollector) Collect(ch chan<- prometheus.Metric) {
	n, sum, buckets := c.h.snapshot()
	ch <- prometheus.MustNewConstHistogram(c.desc, n, sum, buckets)
}

// Int adapts a count read as an int64 (an atomic's Load) to Func.Value.
func Int(load func() int64) func() float64 { return func() float64 { return float64(load()) } }

// Uint adapts a count read as a uint64 to Func.Value.
func Uint(load func() uint64) func() float64 { return func() float64 { return float64(load()) } }

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

func acquire(addr string, log plugin.Logger) (*server, error) {
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
	// The Go runtime of this plugin's .so (every .so carries its own): its
	// heap (go_memstats_heap_inuse_bytes) is this plugin's share of the
	// process's memory, which the engine's RSS does not break down.
	reg.MustRegister(collectors.NewGoCollector())
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	s := &server{addr: addr, reg: reg, refs: 1, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	if log == nil {
		log = plugin.NopLogger{}
	}
	go func() {
		// Serve returns only on Shutdown or when the listener fails; the
		// latter leaves Prometheus without metrics, so it is said.
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Errorf("metrics server on %s stopped: %v", addr, err)
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
