package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/fluent/fluent-logger-golang/fluent"
)

// HTTPSender posts batches of events to the eventing input.
type HTTPSender struct {
	Client       *http.Client
	BaseURL      string // e.g. http://127.0.0.1:8888/v1/events
	APIKey       string
	APIKeyHeader string
	// Retries is how often a request answered 503 (the edge is paused or
	// full; nothing of the request was emitted, so resending is safe) is
	// sent again, after its Retry-After (or RetryWait).
	Retries   int
	RetryWait time.Duration
}

// Result is the outcome of one batch.
type Result struct {
	Status   int // last HTTP status; 0 when no answer came
	Code     string
	Accepted int
	// Rejected lists the indexes (in the batch) of events the edge did not
	// take; every index when the whole request failed.
	Rejected []int
	Retries  int
	Err      error
}

type apiResponse struct {
	Accepted *int `json:"accepted"`
	Rejected []struct {
		Code  string `json:"code"`
		Index *int   `json:"index"`
	} `json:"rejected"`
	Error *struct {
		Code string `json:"code"`
	} `json:"error"`
}

// Send posts one batch, whose events share one key, as a JSON array.
func (s *HTTPSender) Send(ctx context.Context, game, version, event string, events [][]byte) Result {
	u := s.BaseURL + "/" + url.PathEscape(game) + "/" + url.PathEscape(version) + "/" + url.PathEscape(event)
	body := make([]byte, 0, 2+len(events)*256)
	body = append(body, '[')
	for i, e := range events {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, e...)
	}
	body = append(body, ']')
	all := make([]int, len(events))
	for i := range all {
		all[i] = i
	}

	var res Result
	for attempt := 0; ; attempt++ {
		res = Result{Retries: attempt}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			res.Err, res.Rejected = err, all
			return res
		}
		req.Header.Set("Content-Type", "application/json")
		if s.APIKey != "" {
			req.Header.Set(s.APIKeyHeader, s.APIKey)
		}
		resp, err := s.Client.Do(req)
		if err != nil {
			res.Err, res.Rejected = err, all
			return res
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		res.Status = resp.StatusCode
		var r apiResponse
		_ = json.Unmarshal(b, &r)
		if resp.StatusCode/100 == 2 {
			seen := map[int]bool{}
			for _, rj := range r.Rejected {
				if rj.Index != nil && *rj.Index >= 0 && *rj.Index < len(events) && !seen[*rj.Index] {
					seen[*rj.Index] = true
					res.Rejected = append(res.Rejected, *rj.Index)
				}
			}
			res.Accepted = len(events) - len(res.Rejected)
			if r.Accepted != nil && *r.Accepted != res.Accepted {
				res.Err = fmt.Errorf("the edge says accepted %d of %d events, rejected %d", *r.Accepted, len(events), len(res.Rejected))
			}
			return res
		}
		if r.Error != nil {
			res.Code = r.Error.Code
		}
		res.Rejected = all
		res.Err = fmt.Errorf("HTTP %d %s", resp.StatusCode, res.Code)
		if resp.StatusCode != http.StatusServiceUnavailable || attempt >= s.Retries {
			return res
		}
		wait := s.RetryWait
		if sec, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && sec >= 0 {
			wait = time.Duration(sec) * time.Second
		}
		select {
		case <-ctx.Done():
			return res
		case <-time.After(wait):
		}
	}
}

// ForwardSender sends events over the Forward protocol (fluent-logger) to
// Fluent Bit's forward input, one connection per sender. The tag carries the
// event key: TagPrefix.game.event.version. The edge's forward input puts its
// tag_prefix before it (forward., so that no client can use a tag the sqs
// output trusts), and the sqs output turns the result back into the key
// with its tag_regex.
type ForwardSender struct {
	logger    *fluent.Fluent
	TagPrefix string
}

// NewForwardSender connects to host:port.
func NewForwardSender(addr, tagPrefix string, timeout time.Duration, ack bool) (*ForwardSender, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return nil, fmt.Errorf("port %q: %v", p, err)
	}
	l, err := fluent.New(fluent.Config{
		FluentHost:         host,
		FluentPort:         port,
		Timeout:            timeout,
		WriteTimeout:       timeout,
		ReadTimeout:        timeout,
		MaxRetry:           3,
		SubSecondPrecision: true,
		RequestAck:         ack,
	})
	if err != nil {
		return nil, err
	}
	return &ForwardSender{logger: l, TagPrefix: tagPrefix}, nil
}

// Tag is the Forward tag of an event.
func (f *ForwardSender) Tag(e *Event) string {
	return f.TagPrefix + "." + e.Game + "." + e.Name + "." + e.Version
}

// Send writes one event; nil means it was written to the connection (and,
// with ack, acknowledged by Fluent Bit).
func (f *ForwardSender) Send(e *Event, t time.Time) error {
	return f.logger.PostWithTime(f.Tag(e), t, e.Body)
}

// Close flushes and closes the connection.
func (f *ForwardSender) Close() error { return f.logger.Close() }

// Limiter spreads events over time at a fixed rate shared by every sender;
// a nil Limiter does not wait.
type Limiter struct {
	mu    sync.Mutex
	per   time.Duration // time per event
	next  time.Time
	sleep func(context.Context, time.Duration) error
}

// NewLimiter allows rate events per second; rate <= 0 gives nil.
func NewLimiter(rate float64) *Limiter {
	if rate <= 0 {
		return nil
	}
	return &Limiter{per: time.Duration(float64(time.Second) / rate), sleep: sleepCtx}
}

// Wait blocks until n more events may go.
func (l *Limiter) Wait(ctx context.Context, n int) error {
	if l == nil {
		return ctx.Err()
	}
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	at := l.next
	l.next = l.next.Add(time.Duration(n) * l.per)
	l.mu.Unlock()
	return l.sleep(ctx, time.Until(at))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
