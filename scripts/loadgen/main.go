// Command loadgen sends game events to a Whirlpool edge: over HTTP to the
// eventing input, and over the Forward protocol (fluent-logger-golang) to
// Fluent Bit's forward input. The events follow conf/model.yaml; a share of
// them (-bad) are valid JSON objects that the edge accepts and that fail
// validation at the processor, one failure code per kind, spread evenly.
// Every event carries "seq" (unique within the run) and "run" fields, so a
// test can find its rows. At the end it prints a JSON summary on stdout.
//
//	go run ./scripts/loadgen -http-events 2000 -forward-events 500 -bad 0.05
//
// Exit status: 0 when every event was accepted, 1 when some were not (the
// summary says which), 2 for a usage error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	URL           string
	HTTPEvents    int64
	Batch         int
	Concurrency   int
	Forward       string
	ForwardEvents int64
	TagPrefix     string
	ForwardAck    bool
	Duration      time.Duration
	Rate          float64
	Bad           float64
	Seed          uint64
	Game          string
	Run           string
	SeqStart      int64
	Timeout       time.Duration
	Retries       int
	APIKey        string
	APIKeyHeader  string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.URL, "url", "http://127.0.0.1:8888/v1/events", "eventing input base URL; events go to URL/{game}/{version}/{event}")
	fs.Int64Var(&o.HTTPEvents, "http-events", 2000, "events to send over HTTP (0: none; -1: no limit, with -duration)")
	fs.IntVar(&o.Batch, "batch", 50, "events per HTTP request (JSON array; all of one event key), 1-1000")
	fs.IntVar(&o.Concurrency, "concurrency", 4, "HTTP requests in flight, and Forward connections, 1-256")
	fs.StringVar(&o.Forward, "forward", "127.0.0.1:24224", "host:port of Fluent Bit's forward input")
	fs.Int64Var(&o.ForwardEvents, "forward-events", 0, "events to send over the Forward protocol (0: none; -1: no limit, with -duration)")
	fs.StringVar(&o.TagPrefix, "tag-prefix", "whirlpool", "Forward tag prefix; the tag is PREFIX.game.event.version (the edge's forward input puts its tag_prefix before it, and the sqs output's tag_regex reads the key from the result)")
	fs.BoolVar(&o.ForwardAck, "forward-ack", false, "ask Fluent Bit to acknowledge each Forward message (chunk option) and count only acknowledged ones as accepted")
	fs.DurationVar(&o.Duration, "duration", 0, "send for this long (e.g. 30s); the event counts become upper limits; 0: send the counts")
	fs.Float64Var(&o.Rate, "rate", 0, "events per second over both transports together; 0: as fast as possible")
	fs.Float64Var(&o.Bad, "bad", 0, "share of bad events, 0-1 (e.g. 0.05): unknown event, missing mandatory field, wrong type, unmapped version, in turn")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed; the same seed, run id and seq give the same event")
	fs.StringVar(&o.Game, "game", "pixel_quest", "game of every event (conf/model.yaml defines pixel_quest)")
	fs.StringVar(&o.Run, "run", "", "run id written into every event's \"run\" field (default: run-<unix seconds>)")
	fs.Int64Var(&o.SeqStart, "seq-start", 0, "seq of the first event")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Second, "timeout of one HTTP request or Forward write")
	fs.IntVar(&o.Retries, "retries", 3, "resends of an HTTP request answered 503 (nothing of it was emitted), 0-100")
	fs.StringVar(&o.APIKey, "api-key", "", "API key sent with every HTTP request (when the edge sets api_keys)")
	fs.StringVar(&o.APIKeyHeader, "api-key-header", "X-API-Key", "header carrying -api-key")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: loadgen [flags]\n\nSends events to a Whirlpool edge and prints a JSON summary.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))
	}
	if o.Run == "" {
		o.Run = "run-" + strconv.FormatInt(time.Now().Unix(), 10)
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case math.IsNaN(o.Bad) || o.Bad < 0 || o.Bad > 1:
		bad("-bad must be from 0 to 1, got %v", o.Bad)
	}
	if o.Batch < 1 || o.Batch > 1000 {
		bad("-batch must be from 1 to 1000, got %d", o.Batch)
	}
	if o.Concurrency < 1 || o.Concurrency > 256 {
		bad("-concurrency must be from 1 to 256, got %d", o.Concurrency)
	}
	if o.Rate < 0 || math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) {
		bad("-rate must be 0 or more, got %v", o.Rate)
	}
	if o.Duration < 0 {
		bad("-duration must be 0 or more, got %v", o.Duration)
	}
	for _, c := range []struct {
		flag string
		n    int64
	}{{"-http-events", o.HTTPEvents}, {"-forward-events", o.ForwardEvents}} {
		if c.n < -1 {
			bad("%s must be -1 or more, got %d", c.flag, c.n)
		}
		if c.n == -1 && o.Duration == 0 {
			bad("%s -1 (no limit) needs -duration", c.flag)
		}
	}
	if o.HTTPEvents == 0 && o.ForwardEvents == 0 {
		bad("nothing to send: -http-events and -forward-events are both 0")
	}
	if o.HTTPEvents != 0 && !strings.HasPrefix(o.URL, "http://") && !strings.HasPrefix(o.URL, "https://") {
		bad("-url must be an http:// or https:// URL, got %q", o.URL)
	}
	o.URL = strings.TrimRight(o.URL, "/")
	if o.Timeout <= 0 {
		bad("-timeout must be more than 0, got %v", o.Timeout)
	}
	if o.Retries < 0 || o.Retries > 100 {
		bad("-retries must be from 0 to 100, got %d", o.Retries)
	}
	if o.SeqStart < 0 {
		bad("-seq-start must be 0 or more, got %d", o.SeqStart)
	}
	if o.Game == "" {
		bad("-game must not be empty")
	}
	if o.APIKey != "" && o.APIKeyHeader == "" {
		bad("-api-key-header must not be empty with -api-key")
	}
	return o, errors.Join(errs...)
}

// --- counting -----------------------------------------------------------------

type counts struct {
	Sent     int64 `json:"sent"`
	Accepted int64 `json:"accepted"`
	Rejected int64 `json:"rejected"`
}

type transport struct {
	counts
	Requests int64            `json:"requests,omitempty"`
	Retries  int64            `json:"retries,omitempty"`
	Status   map[string]int64 `json:"requests_by_status,omitempty"`
	Errors   map[string]int64 `json:"rejected_by_error,omitempty"`
}

// Summary is what loadgen prints at the end.
type Summary struct {
	Run             string          `json:"run"`
	Seed            uint64          `json:"seed"`
	Game            string          `json:"game"`
	Bad             float64         `json:"bad"`
	FirstSeq        int64           `json:"first_seq"`
	LastSeq         int64           `json:"last_seq"`
	Seconds         float64         `json:"seconds"`
	EventsPerSecond float64         `json:"events_per_second"`
	Total           counts          `json:"total"`
	HTTP            *transport      `json:"http,omitempty"`
	Forward         *transport      `json:"forward,omitempty"`
	ByKind          map[Kind]counts `json:"by_kind"`
	// ExpectedValid and ExpectedFailures are what the processor should
	// make of the accepted events: valid events (before expansion), and
	// failure rows by code.
	ExpectedValid    int64            `json:"expected_valid_events"`
	ExpectedFailures map[string]int64 `json:"expected_failures_by_code"`
}

type tally struct {
	mu     sync.Mutex
	s      Summary
	byKind map[Kind]*counts
	maxSeq int64
}

func newTally(o *options) *tally {
	t := &tally{byKind: map[Kind]*counts{}, maxSeq: o.SeqStart - 1}
	for _, k := range Kinds {
		t.byKind[k] = &counts{}
	}
	t.s = Summary{Run: o.Run, Seed: o.Seed, Game: o.Game, Bad: o.Bad, FirstSeq: o.SeqStart}
	if o.HTTPEvents != 0 {
		t.s.HTTP = &transport{Status: map[string]int64{}, Errors: map[string]int64{}}
	}
	if o.ForwardEvents != 0 {
		t.s.Forward = &transport{Errors: map[string]int64{}}
	}
	return t
}

// add records the outcome of events sent together.
func (t *tally) add(tr *transport, events []Event, rejected []int, errKey string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rej := map[int]bool{}
	for _, i := range rejected {
		rej[i] = true
	}
	for i := range events {
		e := &events[i]
		k := t.byKind[e.Kind]
		k.Sent++
		tr.Sent++
		if e.Seq > t.maxSeq {
			t.maxSeq = e.Seq
		}
		if rej[i] {
			k.Rejected++
			tr.Rejected++
			tr.Errors[errKey]++
		} else {
			k.Accepted++
			tr.Accepted++
		}
	}
}

func (t *tally) request(status int, retries int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.s.HTTP.Requests++
	t.s.HTTP.Retries += int64(retries)
	key := "none"
	if status != 0 {
		key = strconv.Itoa(status)
	}
	t.s.HTTP.Status[key]++
}

func (t *tally) summary(elapsed time.Duration) Summary {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.s
	s.LastSeq = t.maxSeq
	s.Seconds = math.Round(elapsed.Seconds()*1000) / 1000
	s.ByKind = map[Kind]counts{}
	s.ExpectedFailures = map[string]int64{}
	for k, c := range t.byKind {
		s.ByKind[k] = *c
		s.Total.Sent += c.Sent
		s.Total.Accepted += c.Accepted
		s.Total.Rejected += c.Rejected
		if k == Good {
			s.ExpectedValid = c.Accepted
		} else {
			s.ExpectedFailures[FailureCode[k]] = c.Accepted
		}
	}
	if elapsed > 0 {
		s.EventsPerSecond = math.Round(float64(s.Total.Sent)/elapsed.Seconds()*10) / 10
	}
	return s
}

// --- running ------------------------------------------------------------------

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadgen: %v\n(see loadgen -h)\n", err)
		return 2
	}
	s, err := send(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "loadgen: %v\n", err)
		return 1
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(s)
	if s.Total.Rejected > 0 {
		fmt.Fprintf(stderr, "loadgen: %d of %d events were not accepted\n", s.Total.Rejected, s.Total.Sent)
		return 1
	}
	return 0
}

// send runs the senders until their counts are sent, -duration has passed
// or ctx ends (events already in flight are finished and counted).
func send(ctx context.Context, o *options, stderr io.Writer) (Summary, error) {
	gen := &Generator{Seed: o.Seed, BadPPM: int64(math.Round(o.Bad * 1e6)), Game: o.Game, Run: o.Run}
	stopCtx := ctx
	if o.Duration > 0 {
		var cancel context.CancelFunc
		stopCtx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	lim := NewLimiter(o.Rate)
	t := newTally(o)
	var seq atomic.Int64
	seq.Store(o.SeqStart)
	nextSeq := func() int64 { return seq.Add(1) - 1 }

	// Connect the Forward senders first, so a wrong -forward fails early.
	var fwd []*ForwardSender
	if o.ForwardEvents != 0 {
		for i := 0; i < o.Concurrency; i++ {
			f, err := NewForwardSender(o.Forward, o.TagPrefix, o.Timeout, o.ForwardAck)
			if err != nil {
				for _, f := range fwd {
					f.Close()
				}
				return Summary{}, fmt.Errorf("-forward %s: %v", o.Forward, err)
			}
			fwd = append(fwd, f)
		}
	}

	start := time.Now()
	var wg sync.WaitGroup
	if o.HTTPEvents != 0 {
		h := &HTTPSender{
			Client:       &http.Client{Timeout: o.Timeout},
			BaseURL:      o.URL,
			APIKey:       o.APIKey,
			APIKeyHeader: o.APIKeyHeader,
			Retries:      o.Retries,
			RetryWait:    time.Second,
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sendHTTP(stopCtx, o, gen, lim, h, t, nextSeq)
		}()
	}
	if o.ForwardEvents != 0 {
		var n atomic.Int64
		for _, f := range fwd {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer f.Close()
				tr := t.s.Forward
				for stopCtx.Err() == nil {
					if c := n.Add(1); o.ForwardEvents >= 0 && c > o.ForwardEvents {
						return
					}
					if lim.Wait(stopCtx, 1) != nil {
						return
					}
					e := gen.Event(nextSeq())
					var rejected []int
					key := ""
					if err := f.Send(&e, time.Now()); err != nil {
						rejected, key = []int{0}, errClass(err)
					}
					t.add(tr, []Event{e}, rejected, key)
				}
			}()
		}
	}
	wg.Wait()
	return t.summary(time.Since(start)), nil
}

// sendHTTP generates events, groups them by event key into batches (a
// request's events share the key of its URL) and posts the batches with
// o.Concurrency workers.
func sendHTTP(stopCtx context.Context, o *options, gen *Generator, lim *Limiter, h *HTTPSender, t *tally, nextSeq func() int64) {
	jobs := make(chan []Event)
	var wg sync.WaitGroup
	for i := 0; i < o.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range jobs {
				bodies := make([][]byte, len(batch))
				for i := range batch {
					bodies[i] = batch[i].JSON
				}
				// In-flight requests finish even after -duration ends.
				r := h.Send(context.Background(), batch[0].Game, batch[0].Version, batch[0].Name, bodies)
				key := r.Code
				if key == "" && r.Err != nil {
					key = errClass(r.Err)
				}
				t.request(r.Status, r.Retries)
				t.add(t.s.HTTP, batch, r.Rejected, key)
			}
		}()
	}
	pending := map[string][]Event{}
	var order []string // keys in first-seen order, for deterministic flushing
	flush := func(k string) {
		b := pending[k]
		if len(b) == 0 {
			return
		}
		// After -duration or an interrupt Wait returns at once: events
		// already generated are still sent (and counted).
		_ = lim.Wait(stopCtx, len(b))
		jobs <- b
		pending[k] = nil
	}
	for n := int64(0); (o.HTTPEvents < 0 || n < o.HTTPEvents) && stopCtx.Err() == nil; n++ {
		e := gen.Event(nextSeq())
		k := e.Key()
		if _, ok := pending[k]; !ok {
			order = append(order, k)
		}
		pending[k] = append(pending[k], e)
		if len(pending[k]) >= o.Batch {
			flush(k)
		}
	}
	for _, k := range order {
		flush(k)
	}
	close(jobs)
	wg.Wait()
}

// errClass turns a transport error into a short summary key.
func errClass(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "connection refused"):
		return "connection_refused"
	case strings.Contains(s, "timeout") || strings.Contains(s, "deadline exceeded"):
		return "timeout"
	case strings.Contains(s, "connection reset") || strings.Contains(s, "broken pipe") || strings.Contains(s, "EOF"):
		return "connection_lost"
	}
	return "error"
}
