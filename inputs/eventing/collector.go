package eventing

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/forward"

	"golang.org/x/net/netutil"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/internal/freelist"
	"github.com/whirlpool-events/whirlpool/internal/metrics"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

// Plugin registers the input with the glue.
var Plugin = plugin.InputPlugin{
	Name:        "eventing",
	Description: "Whirlpool HTTP event collector",
	Properties:  Properties.Declared(),
	New:         New,
}

// Collector is one eventing input instance: an HTTP server that turns
// accepted events into records for Collect.
type Collector struct {
	cfg *config
	log plugin.Logger
	enr enrich.Enricher
	q   queue
	fwd *shipper // the forward path (forward.go); nil: off

	paused  atomic.Bool
	closing atomic.Bool
	stop    chan struct{} // closed when Close gives up waiting for handlers

	keysStop chan struct{} // closed by Close: stop reloading api_keys_file
	keysDone chan struct{} // closed when the reloader stopped (nil: none runs)

	ln        net.Listener
	srv       *http.Server
	served    chan struct{}
	closeOnce sync.Once
	closeErr  error

	// Request bodies and record batches: up to keptBuffers of each, of at
	// most maxKept bytes, are kept across garbage collections (writing into
	// fresh buffers cost page faults in the real engine), more in a
	// sync.Pool until the next collection.
	keptBodies  *freelist.List[*[]byte]
	keptRecords *freelist.List[*[]byte]
	bodies      sync.Pool // *[]byte request bodies
	records     sync.Pool // *[]byte record batches
	gzips       sync.Pool // *gzip.Reader
	splits      sync.Pool // *splitter
	maxPool     int       // largest buffer kept in a pool

	metrics *metrics.Instance
	stats   stats
}

// stats are the counts the metric table reads at scrape time. Label values
// are bounded where they are counted (finish).
type stats struct {
	latency   *metrics.Histogram // seconds from request to answer
	accepted  atomic.Int64
	forwarded atomic.Int64 // of accepted, through the forward input
	mu        sync.Mutex
	requests  map[[2]string]int64 // by status and code
	rejected  map[string]int64    // events, by code
}

func (s *stats) request(status, code string) {
	s.mu.Lock()
	if s.requests == nil {
		s.requests = map[[2]string]int64{}
	}
	s.requests[[2]string{status, code}]++
	s.mu.Unlock()
}

func (s *stats) reject(code string) {
	s.mu.Lock()
	if s.rejected == nil {
		s.rejected = map[string]int64{}
	}
	s.rejected[code]++
	s.mu.Unlock()
}

var _ plugin.Input = (*Collector)(nil)

// New reads the properties, listens and starts the HTTP server.
func New(env plugin.Env) (plugin.Input, error) {
	c, err := newCollector(env)
	if err != nil {
		return nil, err
	}
	if err := c.start(); err != nil {
		return nil, err
	}
	if env.Threaded && c.cfg.ackBuffered {
		c.log.Warnf("%s", threadedAckWarning)
	}
	return c, nil
}

// threadedAckWarning is logged at start when the input runs threaded with
// ack buffered: the engine's cleanup then fires when the records reach the
// input's ring buffer, up to 250 ms (longer while paused) before a chunk
// holds them, so a 200 does not mean what the README promises.
const threadedAckWarning = "runs threaded: a 200 (ack buffered) is answered when events reach Fluent Bit's ring buffer, " +
	"before they are in a chunk, and a crash then loses events already answered. " +
	"Set 'threaded off' on this input so that a 200 means the events are in a chunk (on disk with storage.type filesystem)"

func newCollector(env plugin.Env) (*Collector, error) {
	cfg, err := parseConfig(env.Config)
	if err != nil {
		return nil, err
	}
	cfg.goMemory.Apply()
	lg := env.Log
	if lg == nil {
		lg = plugin.NopLogger{}
	}
	m, err := cfg.metrics.Start("eventing", env.Name, lg)
	if err != nil {
		return nil, err
	}
	c := &Collector{cfg: cfg, log: lg, stop: make(chan struct{}), served: make(chan struct{}), metrics: m, keysStop: make(chan struct{})}
	c.stats.latency = metrics.NewHistogram(metrics.LatencyBuckets)
	m.Register(c.metricTable())
	c.q.max = cfg.maxBuffered
	c.maxPool = 1 << 20
	c.keptBodies, c.keptRecords = freelist.New[*[]byte](keptBuffers), freelist.New[*[]byte](keptBuffers)
	c.q.release = c.putRecords
	return c, nil
}

// metricTable declares the input's metrics read at scrape time.
func (c *Collector) metricTable() []metrics.Func {
	return []metrics.Func{
		{Name: "eventing_requests_total", Help: "HTTP requests answered, by status and error code.", Labels: []string{"status", "code"}, Series: func(emit func(int64, ...string)) {
			c.stats.mu.Lock()
			defer c.stats.mu.Unlock()
			for k, v := range c.stats.requests {
				emit(v, k[0], k[1])
			}
		}},
		{Name: "eventing_events_accepted_total", Help: "Events accepted (emitted to Fluent Bit).", Value: metrics.Int(c.stats.accepted.Load)},
		{Name: "eventing_events_forwarded_total", Help: "Events of those accepted that the forward input of forward_unix_path acknowledged; the others took the one-second collect.", Value: metrics.Int(c.stats.forwarded.Load)},
		{Name: "eventing_events_rejected_total", Help: "Events rejected, by error code.", Labels: []string{"code"}, Series: func(emit func(int64, ...string)) {
			c.stats.mu.Lock()
			defer c.stats.mu.Unlock()
			for k, v := range c.stats.rejected {
				emit(v, k)
			}
		}},
		{Name: "eventing_request_seconds", Help: "Time from request to answer (with ack buffered: until Fluent Bit holds the events).", Histogram: c.stats.latency},
		{Name: "eventing_queued_bytes", Help: "Record bytes waiting for Fluent Bit's collect.", Gauge: true, Value: func() float64 {
			c.q.mu.Lock()
			defer c.q.mu.Unlock()
			return float64(c.q.bytes)
		}},
	}
}

func (c *Collector) start() error {
	ln, err := net.Listen("tcp", c.cfg.addr)
	if err != nil {
		return fmt.Errorf("properties \"http_listen\" and \"http_port\": cannot listen on %s: %w", c.cfg.addr, err)
	}
	// Each connection costs buffers and a goroutine before any byte of a
	// request has arrived: beyond max_connections, Accept waits for one to
	// close and new clients wait in the kernel's queue.
	c.ln = netutil.LimitListener(ln, c.cfg.maxConns)
	ln = c.ln
	c.srv = &http.Server{
		Handler:           c,
		TLSConfig:         c.cfg.tls,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       readTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(serverLog{c.log}, "", 0),
	}
	go func() {
		defer close(c.served)
		var err error
		if c.cfg.tls != nil {
			err = c.srv.ServeTLS(ln, "", "")
		} else {
			err = c.srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.log.Errorf("HTTP server stopped: %v", err)
		}
	}()
	scheme := "http"
	if c.cfg.tls != nil {
		scheme = "https"
	}
	ack := ackReceived
	if c.cfg.ackBuffered {
		ack = ackBuffered
	}
	if c.cfg.forward.Path != "" {
		c.fwd = newShipper(forward.New(c.cfg.forward, c.log), c.cfg.maxBuffered)
	}
	keys := c.cfg.keys.current()
	c.log.Infof("listening on %s://%s%s/{game}/{version}/{event} (ack %s, %d API keys for %d games)",
		scheme, ln.Addr(), c.cfg.prefix, ack, keys.count(), len(keys))
	if c.cfg.keys.path != "" && c.cfg.keysReload > 0 {
		c.keysDone = make(chan struct{})
		go func() {
			defer close(c.keysDone)
			c.cfg.keys.watch(c.cfg.keysReload, c.log, c.keysStop)
		}()
	}
	return nil
}

// readTimeout bounds a whole request, headers and body, whatever the
// send rate.
const readTimeout = 60 * time.Second

// Addr is the address the server listens on.
func (c *Collector) Addr() net.Addr { return c.ln.Addr() }

// Collect appends the records of every queued request, whole and in arrival
// order, and returns done, which acknowledges exactly those requests.
func (c *Collector) Collect(buf []byte) ([]byte, func()) {
	buf, taken := c.q.collect(buf)
	if len(taken) == 0 {
		return buf, nil
	}
	var once atomic.Bool
	return buf, func() {
		if once.CompareAndSwap(false, true) {
			c.q.ack(taken)
		}
	}
}

// Pause makes new requests fail with 503 until Resume; queued records are
// still collected.
func (c *Collector) Pause() {
	if !c.paused.Swap(true) {
		c.log.Infof("paused by Fluent Bit (buffer limits, or shutting down) or by pause_above_rss: answering 503 to new requests")
	}
}

// MaxBuffered is max_buffered_bytes: a collect returns at most that much
// (plus one request that went into an empty queue alone), which the glue
// sizes its reused collect buffers by.
func (c *Collector) MaxBuffered() int64 { return c.q.max }

// Resume accepts requests again.
func (c *Collector) Resume() {
	if c.paused.Swap(false) {
		c.log.Infof("resumed")
	}
}

// Close stops accepting requests, answers 503 to requests whose events were
// not collected (they are withdrawn, never emitted) and shuts the server
// down, waiting a few seconds at most for requests whose events are on their
// way into Fluent Bit.
func (c *Collector) Close() error {
	c.closeOnce.Do(func() {
		c.closing.Store(true)
		c.q.close()
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.shutdownTimeout)
		defer cancel()
		if err := c.srv.Shutdown(ctx); err != nil {
			close(c.stop)
			c.closeErr = c.srv.Close()
			c.log.Warnf("shutdown: requests still waiting after %s were cut off", c.cfg.shutdownTimeout)
		}
		<-c.served
		if c.fwd != nil {
			c.fwd.close()
		}
		close(c.keysStop)
		if c.keysDone != nil {
			<-c.keysDone
		}
		c.metrics.Close()
	})
	return c.closeErr
}

// ServeHTTP handles GET /healthz and POST {prefix}/{game}/{version}/{event}.
func (c *Collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	defer func() { c.stats.latency.Observe(time.Since(start).Seconds()) }()
	if r.URL.Path == "/healthz" {
		c.serveHealth(w, r)
		return
	}
	key, e := c.route(r.URL.Path)
	if e == nil && r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		e = reqError(http.StatusMethodNotAllowed, codeMethod, "method %s is not allowed; use POST", r.Method)
	}
	if e == nil {
		e = c.authorize(r, key.Game)
	}
	if e == nil {
		switch {
		case c.closing.Load():
			e = reqError(http.StatusServiceUnavailable, codeOverloaded, "the input is shutting down; retry later")
		case c.paused.Load():
			e = reqError(http.StatusServiceUnavailable, codeOverloaded, "the input is paused (back-pressure); retry later")
		case c.q.isFull() && (c.fwd == nil || !c.fwd.open()):
			e = reqError(http.StatusServiceUnavailable, codeOverloaded, "%s", msgQueueFull)
		}
	}
	if e != nil {
		c.finish(w, r, key, e, nil, 0)
		return
	}
	c.serveEvents(w, r, key)
}

func (c *Collector) serveHealth(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, reqError(http.StatusMethodNotAllowed, codeMethod, "method %s is not allowed; use GET", r.Method), nil)
		return
	}
	switch {
	case c.closing.Load():
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"closing"}`))
	case c.paused.Load():
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"paused"}`))
	default:
		writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
	}
}

// route parses {prefix}/{game}/{version}/{event}.
func (c *Collector) route(path string) (enrich.Key, *apiError) {
	var k enrich.Key
	want := c.cfg.prefix + "/{game}/{version}/{event}"
	rest, ok := strings.CutPrefix(path, c.cfg.prefix+"/")
	if !ok {
		return k, reqError(http.StatusNotFound, codeEndpoint, "no such endpoint; events go to POST %s", want)
	}
	// The shape first: a path with a part missing or extra is named as such,
	// not as an empty or invalid part.
	if strings.Count(rest, "/") != 2 {
		return k, reqError(http.StatusNotFound, codeEndpoint, "no such endpoint; events go to POST %s (three path parts after %s/)", want, c.cfg.prefix)
	}
	k.Game, rest, _ = strings.Cut(rest, "/")
	k.Version, k.Event, _ = strings.Cut(rest, "/")
	if err := k.Validate(); err != nil {
		return k, reqError(http.StatusNotFound, codeEndpoint, "%v", err)
	}
	return k, nil
}

// authorize checks the API key when keys are configured (the set current
// when the request arrives: api_keys_file may be reloaded meanwhile).
func (c *Collector) authorize(r *http.Request, game string) *apiError {
	keys := c.cfg.keys.current()
	if len(keys) == 0 {
		return nil
	}
	if given := r.Header.Get(c.cfg.keyHeader); given != "" && keys.allows(game, given) {
		return nil
	}
	return reqError(http.StatusUnauthorized, codeUnauthorized, "missing or invalid API key for this game (header %s)", c.cfg.keyHeader)
}

func (c *Collector) serveEvents(w http.ResponseWriter, r *http.Request, key enrich.Key) {
	b, bad, e := c.admit(w, r, key)
	if e != nil {
		c.finish(w, r, key, e, bad, 0)
		return
	}
	if b.reserved > 0 && c.fwd.ship(b.records, b.reserved) {
		c.putRecords(b.records)
		c.stats.forwarded.Add(int64(b.events))
		c.finish(w, r, key, nil, bad, b.events)
		return
	}
	if e := c.enqueue(b); e != nil {
		c.finish(w, r, key, e, nil, 0)
		return
	}
	if !c.cfg.ackBuffered {
		c.finish(w, r, key, nil, bad, b.events)
		return
	}
	if e := c.awaitAck(r, b); e != nil {
		c.finish(w, r, key, e, nil, 0)
		return
	}
	c.finish(w, r, key, nil, bad, b.events)
}

// msgQueueFull answers a request that max_buffered_bytes has no room for.
const msgQueueFull = "too many events are waiting for Fluent Bit (max_buffered_bytes); retry later"

// admit reads, splits and enriches a request's events into one batch,
// for the forward path (when it reserved room there: b.reserved) or the
// queue. Room is claimed before the records are built, and a request
// that finds none in either place is answered 503 before it allocates
// them. The body and the splitter go back to their pools before it
// returns, so that a request waiting for its ack holds no memory but its
// records (bounded by max_buffered_bytes on each path): with hundreds of
// clients waiting, their bodies would otherwise be most of the heap. bad
// lists the bad events (a rejected request's, or those left out of a
// partial accept); e is the answer when nothing was queued.
func (c *Collector) admit(w http.ResponseWriter, r *http.Request, key enrich.Key) (b *batch, bad []*apiError, e *apiError) {
	body, e := c.readBody(w, r)
	defer c.putBody(body)
	if e != nil {
		return nil, nil, e
	}
	received := time.Now() // the whole body is in

	s := c.getSplitter()
	defer c.putSplitter(s)
	if e := s.split(body, isNDJSON(r.Header.Get("Content-Type"))); e != nil {
		return nil, nil, e
	}
	bad = slices.Clone(s.bad) // s.bad is reused once s is back in the pool
	if len(bad) > 0 && (!c.cfg.acceptPartial || len(s.events) == 0) {
		return nil, bad, bad[0]
	}

	size := 0
	for _, ev := range s.events {
		size += len(ev)
	}
	size += len(s.events) * (enrich.RecordOverhead - 3*enrich.MaxKeyPartBytes + len(key.Game) + len(key.Version) + len(key.Event))
	var reserved int64
	if c.fwd != nil && c.fwd.reserve(int64(size)) {
		reserved = int64(size)
	} else if c.q.isFull() {
		return nil, nil, reqError(http.StatusServiceUnavailable, codeOverloaded, "%s", msgQueueFull)
	}
	recs := c.getRecords(size)
	for _, ev := range s.events {
		recs = c.enr.AppendRecord(recs, key, ev, received)
	}
	b = newBatch(recs, len(s.events))
	b.reserved = reserved
	return b, bad, nil
}

// enqueue queues b for the collect, or answers why not (503).
func (c *Collector) enqueue(b *batch) *apiError {
	if ok, closed := c.q.push(b); !ok {
		c.putRecords(b.records)
		msg := msgQueueFull
		if closed {
			msg = "the input is shutting down; retry later"
		}
		return reqError(http.StatusServiceUnavailable, codeOverloaded, "%s", msg)
	}
	return nil
}

// awaitAck waits until Fluent Bit holds b's records. Until they are
// collected, a timeout, the client going away or Close withdraws them.
func (c *Collector) awaitAck(r *http.Request, b *batch) *apiError {
	t := time.NewTimer(c.cfg.ackTimeout)
	defer t.Stop()
	select {
	case <-b.settled:
	case <-t.C:
		if c.q.withdraw(b) {
			return reqError(http.StatusServiceUnavailable, codeOverloaded,
				"the events were not taken by Fluent Bit within ack_timeout (%s) and were dropped; retry later", c.cfg.ackTimeout)
		}
		// Collected: the records are on their way into Fluent Bit's buffer.
		select {
		case <-b.settled:
		case <-c.stop:
		case <-r.Context().Done():
		}
	case <-r.Context().Done():
		c.q.withdraw(b) // the client will send them again
	}
	switch c.q.stateOf(b) {
	case stateAcked:
		return nil
	case stateWithdrawn:
		return reqError(http.StatusServiceUnavailable, codeOverloaded, "the input is shutting down; the events were dropped; retry later")
	}
	return reqError(http.StatusServiceUnavailable, codeOverloaded, "the input stopped before Fluent Bit confirmed the events; retry later")
}

// finish writes the response (an error, or the accepted count with the
// rejected events), counts it (code labels only from KnownCode) and logs
// the request at debug level.
func (c *Collector) finish(w http.ResponseWriter, r *http.Request, key enrich.Key, e *apiError, bad []*apiError, accepted int) {
	if e != nil {
		writeError(w, e, bad)
		c.stats.request(strconv.Itoa(e.Status), metrics.Bounded(e.Code, KnownCode(e.Code)))
	} else {
		status := http.StatusOK
		if !c.cfg.ackBuffered {
			status = http.StatusAccepted
		}
		var scratch [128]byte
		writeAccepted(w, status, accepted, bad, scratch[:0])
		c.stats.request(strconv.Itoa(status), "")
		c.stats.accepted.Add(int64(accepted))
	}
	for _, b := range bad {
		c.stats.reject(metrics.Bounded(b.Code, KnownCode(b.Code)))
	}
	if c.log.Enabled(plugin.LevelDebug) {
		if e != nil {
			c.log.Debugf("%s %s/%s/%s from %s: %d %s: %s", r.Method, key.Game, key.Version, key.Event,
				r.RemoteAddr, e.Status, e.Code, e.Message)
		} else {
			c.log.Debugf("%s %s/%s/%s from %s: accepted %d, rejected %d", r.Method, key.Game, key.Version, key.Event,
				r.RemoteAddr, accepted, len(bad))
		}
	}
}

// readBody reads the (possibly gzipped) body within max_body_bytes.
func (c *Collector) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	limit := c.cfg.maxBody
	tooLarge := func(what string) *apiError {
		return reqError(http.StatusRequestEntityTooLarge, codeTooLarge, "%s is larger than max_body_bytes (%d bytes)", what, limit)
	}
	if r.ContentLength > limit {
		return nil, tooLarge("request body")
	}
	raw := r.Body
	if c.cfg.minSendRate > 0 {
		raw = &sendFloor{rc: http.NewResponseController(w), r: r.Body, start: time.Now(),
			rate: c.cfg.minSendRate, grace: c.cfg.sendGrace}
	}
	var src io.Reader = http.MaxBytesReader(w, raw, limit)
	what := "request body"
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := c.getGzip(src)
		if err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return nil, tooLarge(what)
			}
			if e := timeoutError(err); e != nil {
				return nil, e
			}
			return nil, reqError(http.StatusBadRequest, codeNotJSON, "request body is not valid gzip data: %v", err)
		}
		defer c.gzips.Put(zr)
		src, what = zr, "decompressed request body"
	default:
		w.Header().Set("Accept-Encoding", "gzip")
		return nil, reqError(http.StatusUnsupportedMediaType, codeEncoding, "Content-Encoding %q is not supported; send gzip or no encoding", enc)
	}
	// The declared length only caps how far the buffer grows: it grows as
	// bytes arrive, so a client declaring max_body_bytes and sending one byte
	// costs one small buffer, not max_body_bytes.
	size := limit + 1
	if r.ContentLength >= 0 && what == "request body" {
		size = r.ContentLength + 1 // room to see EOF without growing
	}
	body, over, err := readLimited(c.getBody(size), src, limit, size)
	switch {
	case over:
		return body, tooLarge(what)
	case err != nil:
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return body, tooLarge("request body")
		}
		if e := timeoutError(err); e != nil {
			return body, e
		}
		if what != "request body" {
			return body, reqError(http.StatusBadRequest, codeNotJSON, "request body is not valid gzip data or was cut short: %v", err)
		}
		return body, reqError(http.StatusBadRequest, codeNotJSON, "cannot read the request body: %v", err)
	}
	return body, nil
}

// readLimited appends src to dst until EOF or until dst holds more than
// limit bytes (over). dst grows by doubling as bytes arrive, to at most size
// bytes until more arrive than that (size is a hint, e.g. the declared
// length plus one, never trusted for an allocation).
func readLimited(dst []byte, src io.Reader, limit, size int64) (_ []byte, over bool, _ error) {
	for {
		if len(dst) == cap(dst) {
			dst = grow(dst, limit, size)
		}
		n, err := src.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if int64(len(dst)) > limit {
			return dst, true, nil
		}
		if err == io.EOF {
			return dst, false, nil
		}
		if err != nil {
			return dst, false, err
		}
	}
}

// sendFloor reads a request body at min_send_rate or faster: before each
// read it sets the connection's read deadline to the moment the body would
// fall below the floor (start + grace + received/rate), so a stalled or
// trickling client is cut off without a timer or goroutine of its own.
type sendFloor struct {
	rc    *http.ResponseController // nil once deadlines are not supported
	r     io.ReadCloser
	start time.Time
	n     int64 // bytes received
	rate  int64 // bytes per second
	grace time.Duration
	eof   bool
}

func (f *sendFloor) Close() error { return f.r.Close() }

// errTooSlow is a body read cut off by sendFloor.
type errTooSlow struct {
	n, rate        int64
	elapsed, grace time.Duration
	err            error
}

func (e *errTooSlow) Error() string {
	return fmt.Sprintf("%d body bytes in %s: %v", e.n, e.elapsed.Round(time.Millisecond), e.err)
}

func (e *errTooSlow) Unwrap() error { return e.err }

func (f *sendFloor) Read(p []byte) (int, error) {
	if f.eof {
		// The server reads the connection in the background after the body's
		// end (to notice a client going away): no deadline of ours after it.
		return 0, io.EOF
	}
	if f.rc != nil {
		due := f.start.Add(f.grace + time.Duration(f.n*int64(time.Second)/f.rate))
		if end := f.start.Add(readTimeout); due.After(end) {
			due = end
		}
		if err := f.rc.SetReadDeadline(due); err != nil {
			f.rc = nil // not a server connection (a test recorder): readTimeout alone holds
		}
	}
	n, err := f.r.Read(p)
	f.n += int64(n)
	var ne net.Error
	switch {
	case err == io.EOF:
		f.eof = true
	case err != nil && f.rc != nil && errors.As(err, &ne) && ne.Timeout():
		err = &errTooSlow{n: f.n, rate: f.rate, elapsed: time.Since(f.start), grace: f.grace, err: err}
	}
	return n, err
}

// timeoutError is the 408 for a body cut off by min_send_rate or the
// request's read timeout, or nil for other errors.
func timeoutError(err error) *apiError {
	var slow *errTooSlow
	if errors.As(err, &slow) {
		return reqError(http.StatusRequestTimeout, codeTimeout,
			"request body sent too slowly: %d bytes in %s; want %d bytes per second after the first %s (min_send_rate, min_send_rate_grace)",
			slow.n, slow.elapsed.Round(time.Millisecond), slow.rate, slow.grace)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return reqError(http.StatusRequestTimeout, codeTimeout, "request body not received within %s", readTimeout)
	}
	return nil
}

// minBodyBuf is the first allocation for a body of unknown or large size.
const minBodyBuf = 4 << 10

// grow returns full dst with more room: twice its capacity (at least
// minBodyBuf), within size while dst is below it, and never more than
// limit+1, which is enough to see that a body is over limit.
func grow(dst []byte, limit, size int64) []byte {
	n := max(2*int64(cap(dst)), minBodyBuf)
	if int64(cap(dst)) < size {
		n = min(n, size)
	}
	n = min(n, limit+1)
	if n <= int64(cap(dst)) {
		n = int64(cap(dst)) + 1 // a full dst of limit+1 bytes is over; never a 0-byte read
	}
	b := make([]byte, len(dst), n)
	copy(b, dst)
	return b
}

// isNDJSON reports whether the Content-Type declares newline-delimited JSON.
func isNDJSON(ct string) bool {
	if ct == "" || ct == "application/json" {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines":
		return true
	}
	return false
}

func (c *Collector) getGzip(src io.Reader) (*gzip.Reader, error) {
	if zr, ok := c.gzips.Get().(*gzip.Reader); ok {
		if err := zr.Reset(src); err != nil {
			c.gzips.Put(zr)
			return nil, err
		}
		return zr, nil
	}
	return gzip.NewReader(src)
}

func (c *Collector) getSplitter() *splitter {
	if s, ok := c.splits.Get().(*splitter); ok {
		return s
	}
	return &splitter{maxEvent: int(c.cfg.maxEvent), maxEvents: c.cfg.maxEvents}
}

func (c *Collector) putSplitter(s *splitter) {
	s.reset()
	c.splits.Put(s)
}

// getBody returns a pooled buffer, or a new one of at most minBodyBuf
// bytes (less when size, the expected body size plus one, is smaller):
// readLimited grows it as the body arrives.
func (c *Collector) getBody(size int64) []byte {
	if p, ok := c.keptBodies.Get(); ok {
		return (*p)[:0]
	}
	if p, ok := c.bodies.Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return make([]byte, 0, max(min(size, minBodyBuf), 1))
}

func (c *Collector) putBody(b []byte) {
	c.putBuffer(b, c.keptBodies, &c.bodies)
}

func (c *Collector) getRecords(size int) []byte {
	if p, ok := c.keptRecords.Get(); ok {
		if cap(*p) >= size {
			return (*p)[:0]
		}
		c.keptRecords.Put(p) // for a smaller batch
	}
	if p, ok := c.records.Get().(*[]byte); ok && cap(*p) >= size {
		return (*p)[:0]
	}
	return make([]byte, 0, size)
}

func (c *Collector) putRecords(b []byte) {
	c.putBuffer(b, c.keptRecords, &c.records)
}

// putBuffer keeps b for reuse: in kept when it has room and b is at most
// maxKept bytes, else in pool when b is at most maxPool bytes.
func (c *Collector) putBuffer(b []byte, kept *freelist.List[*[]byte], pool *sync.Pool) {
	if b == nil || cap(b) > c.maxPool {
		return
	}
	b = b[:0]
	if cap(b) <= maxKept && kept.Put(&b) {
		return
	}
	pool.Put(&b)
}

// Buffers kept across garbage collections: keptBuffers bodies and as many
// record batches, of at most maxKept bytes each (at most 16 MiB in all; a
// 500-event request of 200-byte events needs about 100 KiB of body and
// 170 KiB of records).
const (
	keptBuffers = 32
	maxKept     = 256 << 10
)

// serverLog routes net/http's own messages (TLS handshake errors and the
// like) to Fluent Bit's log at debug level, accept errors at warn.
type serverLog struct{ l plugin.Logger }

func (s serverLog) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	if strings.Contains(msg, "Accept error") {
		s.l.Warnf("http server: %s", msg)
	} else if s.l.Enabled(plugin.LevelDebug) {
		s.l.Debugf("http server: %s", msg)
	}
	return len(p), nil
}
