package fluentbit

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// requestDeadline bounds how long a client keeps retrying one request
// (a SIGTERM'd edge may take its 10 s Grace, then a restart).
const requestDeadline = 90 * time.Second

// maxEvents bounds a load run, whatever the schedule does.
const maxEvents = 200_000

// expect is what one event must leave in the database, per uuid the edge
// gave it: rows rows in table (one per element for an expand event), one
// row in also when set (a second destination), or one failure row with
// code in failures.events.
type expect struct {
	table string
	also  string
	rows  int
	code  string
}

// batch is one request (HTTP) or one Forward message: events with
// consecutive seqs and one event key, and what became of it.
type batch struct {
	phase     int
	transport string // http or forward
	first     int64
	exp       []expect // per event, seq first+i

	attempts   int
	unanswered int  // attempts without a definite answer (cut, timeout, 5xx other than 503)
	ok         bool // answered 2xx / acknowledged
	lastErr    string
}

// load drives the edge like a fleet of game clients and fluent-logger
// clients: steady requests, each retried on 503 or a connection error
// until it is answered 2xx or its deadline passes, as an SDK would.
type load struct {
	httpURL     string // http://127.0.0.1:port/v1/events
	forwardAddr string
	runID       string
	perBatch    int
	pace        time.Duration // pause between a client's requests
	// randomPace draws each pause from an exponential distribution of
	// mean pace, so that requests arrive at random times as a crowd of
	// game clients sends them, instead of in step with the collects that
	// answer them.
	randomPace bool
	// openLoop counts each pause from the start its client planned for
	// the request before, not from that request's answer, so that the
	// offered rate (clients × perBatch / pace) holds however fast the
	// edge answers; a client that falls behind sends at once.
	openLoop bool
	limit    int64 // events of the run, at most (maxEvents unless set)

	// overloaded counts 503 answers: the edge refusing for back-pressure.
	overloaded atomic.Int64

	phase   atomic.Int32
	nextSeq atomic.Int64
	stop    chan struct{}
	wg      sync.WaitGroup

	mu         sync.Mutex
	batches    []*batch
	unexpected []string // answers no retry explains (4xx, a partial accept)
}

func newLoad(httpURL, forwardAddr string) *load {
	return &load{httpURL: httpURL, forwardAddr: forwardAddr, runID: "fb" + randomHex(4),
		perBatch: 10, pace: 50 * time.Millisecond, limit: maxEvents, stop: make(chan struct{})}
}

// run returns the run field of phase: it ties a row to its phase.
func (l *load) run(phase int) string { return fmt.Sprintf("%s-p%02d", l.runID, phase) }

// Start starts the clients; they run until Stop.
func (l *load) Start(httpClients, forwardClients int) {
	for i := 0; i < httpClients; i++ {
		l.wg.Add(1)
		go func() { defer l.wg.Done(); l.httpClient(uint64(i)) }()
	}
	for i := 0; i < forwardClients; i++ {
		l.wg.Add(1)
		go func() { defer l.wg.Done(); l.forwardClient(uint64(1000 + i)) }()
	}
}

// SetPhase tags the requests made from now on with phase.
func (l *load) SetPhase(phase int) { l.phase.Store(int32(phase)) }

// Stop stops making requests and waits for those in flight to be answered
// (or to reach their deadline).
func (l *load) Stop() {
	close(l.stop)
	l.wg.Wait()
}

func (l *load) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

func (l *load) record(b *batch) {
	l.mu.Lock()
	l.batches = append(l.batches, b)
	l.mu.Unlock()
}

func (l *load) unexpectedf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.unexpected) < 50 {
		l.unexpected = append(l.unexpected, fmt.Sprintf(format, args...))
	}
}

// --- events -----------------------------------------------------------------

var (
	v1Versions = []string{"1.2.0", "1.3.4"}
	v2Versions = []string{"1.6.1", "2.0.3"}
	badCodes   = []string{"UNKNOWN_EVENT", "MANDATORY_FIELD_MISSING", "FIELD_TYPE_MISMATCH", "VERSION_UNMAPPED"}
)

// newBatch makes the next batch of the current phase: one event key, n
// events following conf/model.yaml (one batch in twenty is bad, each bad
// kind failing validation with one known code), and their bodies.
func (l *load) newBatch(r *mrand.Rand, transport string, number int) (*batch, string, string, []map[string]any) {
	phase := int(l.phase.Load())
	n := l.perBatch
	b := &batch{phase: phase, transport: transport, first: l.nextSeq.Add(int64(n)) - int64(n)}
	run := l.run(phase)
	now := time.Now().UTC()

	event, version, code := "", "", ""
	v2 := r.IntN(2) == 1
	version = v1Versions[r.IntN(2)]
	if v2 {
		version = v2Versions[r.IntN(2)]
	}
	if number%20 == 7 {
		code = badCodes[(number/20)%len(badCodes)]
		v2 = false
		version = v1Versions[0]
	}
	switch p := r.IntN(10); {
	case code != "":
		event = "level_complete"
	case p < 3:
		event = "session_start"
	case p < 8:
		event = "level_complete"
	default:
		event = "purchase"
	}

	bodies := make([]map[string]any, n)
	for i := range bodies {
		seq := b.first + int64(i)
		body := map[string]any{
			"seq": seq, "run": run, "player_id": fmt.Sprintf("p%04d", r.IntN(5000)),
			"ts": now.Add(-time.Duration(r.IntN(60_000)) * time.Millisecond).Format("2006-01-02T15:04:05.000Z"),
		}
		e := expect{table: "pixel_quest." + event, rows: 1}
		switch event {
		case "session_start":
			body["platform"] = []string{"ios", "android", "pc", "web"}[r.IntN(4)]
			if v2 {
				body["device"] = map[string]any{"model": "pixel_8", "os": "android 15", "memory": int64(4096)}
			}
		case "level_complete":
			body["level"] = int64(1 + r.IntN(500))
			body["stars"] = int64(r.IntN(4))
			body["duration_ms"] = int64(5000 + r.IntN(600_000))
			if v2 {
				body["score"] = int64(r.IntN(1_000_000))
				body["mode"] = []string{"casual", "ranked"}[r.IntN(2)]
				e.also = "analytics.progress"
			}
		case "purchase":
			items := make([]any, 1+r.IntN(3))
			for j := range items {
				items[j] = map[string]any{"sku": fmt.Sprintf("sku_%03d", r.IntN(200)), "qty": int64(1 + r.IntN(5)), "price": float64(99+r.IntN(5000)) / 100}
			}
			body["order_id"] = uuid4(r)
			body["items"] = items
			body["currency"] = "EUR"
			if v2 {
				body["store"] = "steam"
			}
			e.table, e.rows = "pixel_quest.purchase_item", len(items)
		}
		if code != "" {
			e = expect{table: "failures.events", rows: 1, code: code}
			switch code {
			case "UNKNOWN_EVENT":
				event = "teleport"
			case "MANDATORY_FIELD_MISSING":
				delete(body, "player_id")
			case "FIELD_TYPE_MISMATCH":
				body["level"] = strconv.FormatInt(body["level"].(int64), 10)
			case "VERSION_UNMAPPED":
				version = "0.9.1"
			}
		}
		bodies[i] = body
		b.exp = append(b.exp, e)
	}
	return b, event, version, bodies
}

// randomHex returns n random bytes as hex: ids unique to a run.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid4(r *mrand.Rand) string {
	var u [16]byte
	for i := range u {
		u[i] = byte(r.Uint32())
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// --- HTTP -----------------------------------------------------------------------

func (l *load) httpClient(seed uint64) {
	r := mrand.New(mrand.NewPCG(seed, 7))
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	planned := time.Now()
	if l.openLoop { // a Poisson process from the start: the first request waits a pause too
		planned = planned.Add(time.Duration(r.ExpFloat64() * float64(l.pace)))
		sleepOrStop(l.stop, time.Until(planned))
	}
	for number := 0; !l.stopped() && l.nextSeq.Load() < l.limit; number++ {
		b, event, version, bodies := l.newBatch(r, "http", number)
		body, err := json.Marshal(bodies)
		if err != nil {
			panic(err) // maps of strings, numbers and slices
		}
		l.post(client, b, l.httpURL+"/pixel_quest/"+version+"/"+event, body)
		l.record(b)
		pause := l.pace
		if l.randomPace {
			pause = time.Duration(r.ExpFloat64() * float64(l.pace))
		}
		if l.openLoop {
			planned = planned.Add(pause)
			pause = time.Until(planned)
		}
		sleepOrStop(l.stop, pause)
	}
}

// post sends one request until it is answered 2xx or its deadline passes.
// 503 means nothing of the request was emitted: retried after Retry-After.
// A connection error or timeout leaves it unknown whether the events were
// taken: retried too, and counted as unanswered.
func (l *load) post(client *http.Client, b *batch, url string, body []byte) {
	deadline := time.Now().Add(requestDeadline)
	for time.Now().Before(deadline) {
		b.attempts++
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			b.unanswered++
			b.lastErr = err.Error()
			time.Sleep(250 * time.Millisecond)
			continue
		}
		ans, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		switch {
		case resp.StatusCode/100 == 2:
			var a struct {
				Accepted int               `json:"accepted"`
				Rejected []json.RawMessage `json:"rejected"`
			}
			if err := json.Unmarshal(ans, &a); err != nil || a.Accepted != len(b.exp) || len(a.Rejected) != 0 {
				l.unexpectedf("POST %s: %d %s, want all %d events accepted", url, resp.StatusCode, ans, len(b.exp))
			}
			b.ok = true
			return
		case resp.StatusCode == http.StatusServiceUnavailable:
			l.overloaded.Add(1)
			b.lastErr = "503 " + string(ans)
			wait := 300 * time.Millisecond
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(min(s, 2)) * time.Second
			}
			time.Sleep(wait)
		case resp.StatusCode >= 500:
			b.unanswered++
			b.lastErr = fmt.Sprintf("%d %s", resp.StatusCode, ans)
			time.Sleep(250 * time.Millisecond)
		default:
			l.unexpectedf("POST %s: %d %s", url, resp.StatusCode, ans)
			b.lastErr = fmt.Sprintf("%d %s", resp.StatusCode, ans)
			return
		}
	}
}

// --- Forward ----------------------------------------------------------------------

// forwardClient sends Forward-mode messages with the chunk option and
// waits for Fluent Bit's ack, as fluent-logger with RequestAck does, but
// without the logger's hidden resends, so that every attempt is counted.
func (l *load) forwardClient(seed uint64) {
	r := mrand.New(mrand.NewPCG(seed, 11))
	var conn net.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for number := 0; !l.stopped() && l.nextSeq.Load() < l.limit; number++ {
		b, event, version, bodies := l.newBatch(r, "forward", number)
		// The shipped edge's forward input makes it forward.whirlpool...
		// (tag_prefix), which its sqs output's tag_regex reads.
		tag := "whirlpool.pixel_quest." + event + "." + version
		deadline := time.Now().Add(requestDeadline)
		for !b.ok && time.Now().Before(deadline) {
			b.attempts++
			var err error
			if conn == nil {
				conn, err = net.DialTimeout("tcp", l.forwardAddr, 5*time.Second)
			}
			if err == nil {
				err = sendForward(conn, tag, bodies, b.attempts)
			}
			if err != nil {
				b.unanswered++
				b.lastErr = err.Error()
				if conn != nil {
					conn.Close()
					conn = nil
				}
				time.Sleep(250 * time.Millisecond)
				continue
			}
			b.ok = true
		}
		l.record(b)
		sleepOrStop(l.stop, l.pace)
	}
}

// sendForward writes [tag, [[time, record]...], {"chunk": id}] and reads
// the {"ack": id} answer.
func sendForward(conn net.Conn, tag string, bodies []map[string]any, attempt int) error {
	var id [12]byte
	_, _ = rand.Read(id[:])
	chunk := hex.EncodeToString(id[:]) + strconv.Itoa(attempt)
	m := msgp.AppendArrayHeader(nil, 3)
	m = msgp.AppendString(m, tag)
	m = msgp.AppendArrayHeader(m, uint32(len(bodies)))
	now := time.Now().Unix()
	for _, body := range bodies {
		m = msgp.AppendArrayHeader(m, 2)
		m = msgp.AppendInt64(m, now)
		var err error
		if m, err = msgp.AppendIntf(m, body); err != nil {
			return fmt.Errorf("encoding a record: %w", err)
		}
	}
	m = msgp.AppendMapHeader(m, 1)
	m = msgp.AppendString(m, "chunk")
	m = msgp.AppendString(m, chunk)
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := conn.Write(m); err != nil {
		return fmt.Errorf("forward write: %w", err)
	}
	ans, err := msgp.NewReader(bufio.NewReader(conn)).ReadIntf()
	if err != nil {
		return fmt.Errorf("forward ack: %w", err)
	}
	if am, ok := ans.(map[string]any); !ok || am["ack"] != chunk {
		return fmt.Errorf("forward ack %v, want chunk %s", ans, chunk)
	}
	return nil
}

func sleepOrStop(stop chan struct{}, d time.Duration) {
	select {
	case <-stop:
	case <-time.After(d):
	}
}
