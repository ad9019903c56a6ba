package eventing

// This file holds the forward path (forward_unix_path): an accepted
// request's records go to a forward input of the same Fluent Bit over its
// unix socket, and the request is answered once that input has appended
// them to a chunk, instead of waiting for the Go input's next collect
// (fixed at one second by Fluent Bit's Go proxy). Requests that arrive
// while a Forward message is out share the next one (one connection,
// group commit). Whatever the forward input cannot take (no socket yet,
// paused, no acknowledgement within forward_timeout) takes the collect
// path, so the forward input speeds requests up and never holds one back.

import (
	"sync"
	"sync/atomic"

	"github.com/whirlpool-events/whirlpool/internal/forward"
)

// shipper sends the records of waiting requests to the forward input, as
// many as fit one Forward message at a time.
type shipper struct {
	c   *forward.Client
	max int64 // bytes of records reserved, waiting or out at once (max_buffered_bytes)

	mu      sync.Mutex
	waiting []*shipment
	bytes   int64 // reserved for the requests building, waiting or out
	closed  bool
	kick    chan struct{} // a shipment is waiting (capacity 1)
	done    chan struct{} // closed when the loop returned

	// full is set when a reservation is refused for lack of room and
	// cleared when a message's bytes are released: while it is set (and
	// the queue is full too) handlers answer 503 before reading a body,
	// instead of reading, splitting and enriching events only to find no
	// room for them. Without it, under overload every client's request was
	// in memory at once, enriched: 94 MiB of heap with 256 clients.
	full atomic.Bool
}

// shipment is one request's records and the answer to it.
type shipment struct {
	records  []byte
	reserved int64
	err      chan error // capacity 1
}

func newShipper(c *forward.Client, max int64) *shipper {
	s := &shipper{c: c, max: max, kick: make(chan struct{}, 1), done: make(chan struct{})}
	go s.loop()
	return s
}

// open reports whether a request may find room here (the forward input
// answered within the last second and no reservation was refused since
// room was last made); it never waits.
func (s *shipper) open() bool { return !s.full.Load() && s.c.Ready() }

// reserve claims n bytes for a request's records before they are built,
// so that the records of requests on the forward path never hold more
// than max bytes (one request alone may exceed it). false (the forward
// input failed moments ago, no room, or closed) means the
// request takes the collect path, bounded in its turn.
func (s *shipper) reserve(n int64) bool {
	if !s.c.Ready() {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.bytes > 0 && s.bytes+n > s.max {
		if !s.closed {
			s.full.Store(true)
		}
		return false
	}
	s.bytes += n
	return true
}

// release gives back n reserved bytes.
func (s *shipper) release(n int64) {
	s.mu.Lock()
	s.bytes -= n
	s.mu.Unlock()
	s.full.Store(false)
}

// ship sends records, for which reserve claimed reserved bytes, and
// reports whether the forward input acknowledged them; either way the
// bytes are released. false means the caller takes the collect path. A
// message sent but not acknowledged in time may have been appended all
// the same: its records then arrive twice, with the same uuids, which the
// loader deduplicates.
func (s *shipper) ship(records []byte, reserved int64) bool {
	sh := &shipment{records: records, reserved: reserved, err: make(chan error, 1)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.release(reserved)
		return false
	}
	s.waiting = append(s.waiting, sh)
	select { // under mu: close closes kick under mu too
	case s.kick <- struct{}{}:
	default:
	}
	s.mu.Unlock()
	return <-sh.err == nil
}

// forwardFrame bounds the records of one Forward message from the edge:
// 1 MiB rather than forward.FrameMax. The forward input parses what it
// holds from the start after every read from the socket, so a message in
// many reads costs it more than its size; at full load (256 clients ×
// 500 events, BenchmarkEdgeIngest, alternated with 4 MiB in one run) the
// engine's own share of the edge's CPU fell from 26% to 14%
// (fw_prot_process from 11.3% to 3.9%) and the edge took 167-184 k events
// per CPU-second against 145-157 k (0.80-0.92 of the C http input against
// 0.77-0.92). A request whose records are larger goes in several messages
// (Send splits it between records).
const forwardFrame = 1 << 20

// loop sends the waiting shipments, at most the client's frame of records
// a message (forwardFrame; at least one shipment), until close.
func (s *shipper) loop() {
	defer close(s.done)
	var batch []*shipment
	var parts [][]byte
	for range s.kick {
		for {
			s.mu.Lock()
			n := s.c.Fit(len(s.waiting), func(i int) int { return len(s.waiting[i].records) })
			batch = append(batch[:0], s.waiting[:n]...)
			s.waiting = append(s.waiting[:0], s.waiting[n:]...)
			s.mu.Unlock()
			if n == 0 {
				break
			}
			parts = parts[:0]
			var reserved int64
			for _, sh := range batch {
				parts = append(parts, sh.records)
				reserved += sh.reserved
			}
			err := s.c.Send(parts...)
			s.release(reserved)
			for _, sh := range batch {
				sh.err <- err
			}
			clear(batch)
			clear(parts)
		}
	}
}

// close stops the loop once the shipments waiting are sent, and the
// connection with it; later ships take the collect path.
func (s *shipper) close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.kick)
	s.mu.Unlock()
	<-s.done
	s.c.Close()
}
