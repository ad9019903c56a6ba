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

	"github.com/whirlpool-events/whirlpool/internal/forward"
)

// shipper sends the records of waiting requests to the forward input, as
// many as fit one Forward message at a time.
type shipper struct {
	c   *forward.Client
	max int64 // bytes of records waiting or out at once (max_buffered_bytes)

	mu      sync.Mutex
	waiting []*shipment
	bytes   int64 // of the shipments waiting or out
	closed  bool
	kick    chan struct{} // a shipment is waiting (capacity 1)
	done    chan struct{} // closed when the loop returned
}

// shipment is one request's records and the answer to it.
type shipment struct {
	records []byte
	err     chan error // capacity 1
}

func newShipper(c *forward.Client, max int64) *shipper {
	s := &shipper{c: c, max: max, kick: make(chan struct{}, 1), done: make(chan struct{})}
	go s.loop()
	return s
}

// ship sends records and reports whether the forward input acknowledged
// them; false (at once after a failure less than a second ago, or when
// max bytes of records are already waiting or out, which bounds the
// memory requests hold while the forward input is slow) means the caller
// takes the collect path, bounded in its turn. A message sent but not acknowledged in
// time may have been appended all the same: its records then arrive twice,
// with the same uuids, which the loader deduplicates.
func (s *shipper) ship(records []byte) bool {
	if !s.c.Ready() {
		return false
	}
	sh := &shipment{records: records, err: make(chan error, 1)}
	n := int64(len(records))
	s.mu.Lock()
	if s.closed || s.bytes > 0 && s.bytes+n > s.max {
		s.mu.Unlock()
		return false
	}
	s.bytes += n
	s.waiting = append(s.waiting, sh)
	select { // under mu: close closes kick under mu too
	case s.kick <- struct{}{}:
	default:
	}
	s.mu.Unlock()
	return <-sh.err == nil
}

// loop sends the waiting shipments, at most forward.FrameMax of records a
// message (at least one shipment), until close.
func (s *shipper) loop() {
	defer close(s.done)
	var batch []*shipment
	var parts [][]byte
	for range s.kick {
		for {
			s.mu.Lock()
			n, size := 0, 0
			for n < len(s.waiting) && (n == 0 || size+len(s.waiting[n].records) <= forward.FrameMax) {
				size += len(s.waiting[n].records)
				n++
			}
			batch = append(batch[:0], s.waiting[:n]...)
			s.waiting = append(s.waiting[:0], s.waiting[n:]...)
			s.mu.Unlock()
			if n == 0 {
				break
			}
			parts = parts[:0]
			for _, sh := range batch {
				parts = append(parts, sh.records)
			}
			err := s.c.Send(parts...)
			s.mu.Lock()
			s.bytes -= int64(size)
			s.mu.Unlock()
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
