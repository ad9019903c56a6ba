package eventing

import (
	"sync"
	"sync/atomic"
)

// batchState is where a request's batch of records is.
type batchState int

const (
	stateQueued    batchState = iota // waiting for Collect
	stateCollected                   // handed to Collect, waiting for its done
	stateAcked                       // done was called: Fluent Bit holds the records
	stateWithdrawn                   // taken back before Collect; never emitted
)

// batch is the records of one request. It is emitted whole or not at all.
// Its records belong to the queue from push on.
type batch struct {
	records  []byte
	events   int
	reserved int64         // bytes the forward path reserved for it (0: the queue's)
	state    batchState    // guarded by queue.mu
	settled  chan struct{} // closed when state becomes acked or withdrawn
}

func newBatch(records []byte, events int) *batch {
	return &batch{records: records, events: events, settled: make(chan struct{})}
}

// queue holds batches between the handlers and Collect, FIFO, bounded in
// bytes. All operations are O(1) amortized.
type queue struct {
	mu      sync.Mutex
	items   []*batch // arrival order; may hold withdrawn batches, skipped
	dead    int      // withdrawn batches still in items
	bytes   int64    // records of the queued batches
	max     int64
	closed  bool
	release func([]byte) // takes back a records buffer no longer needed
	// full is set when a batch is refused for lack of room and cleared when
	// room is made (collect, withdraw): while it is set, handlers answer 503
	// before reading a body, instead of reading, splitting and enriching
	// events only to throw them away (under overload most requests would).
	full atomic.Bool
}

// isFull reports whether a batch was refused for lack of room since the
// queue last made room.
func (q *queue) isFull() bool { return q.full.Load() }

// push enqueues b unless the queue is closed or full. A batch larger than the
// whole bound still goes into an empty queue, so no request is refused for
// ever; the queue never holds more than max bytes or that one batch.
func (q *queue) push(b *batch) (ok, closed bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false, true
	}
	n := int64(len(b.records))
	if q.bytes+n > q.max && q.bytes > 0 {
		q.full.Store(true)
		return false, false
	}
	b.state = stateQueued
	q.items = append(q.items, b)
	q.bytes += n
	return true, false
}

// withdraw takes b back if it has not been collected yet and reports whether
// it did. A withdrawn batch is never emitted.
func (q *queue) withdraw(b *batch) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if b.state != stateQueued {
		return false
	}
	q.dropLocked(b)
	q.dead++
	if q.dead > 32 && q.dead*2 > len(q.items) {
		live := q.items[:0]
		for _, it := range q.items {
			if it.state == stateQueued {
				live = append(live, it)
			}
		}
		clear(q.items[len(live):])
		q.items = live
		q.dead = 0
	}
	return true
}

// dropLocked withdraws a queued batch; q.mu is held.
func (q *queue) dropLocked(b *batch) {
	q.bytes -= int64(len(b.records))
	q.full.Store(false)
	b.state = stateWithdrawn
	if q.release != nil {
		q.release(b.records)
	}
	b.records = nil
	close(b.settled)
}

// collect appends the records of every queued batch to buf, FIFO, and
// returns them with the batches, now collected.
func (q *queue) collect(buf []byte) ([]byte, []*batch) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.bytes == 0 && len(q.items) == q.dead {
		clear(q.items)
		q.items, q.dead = q.items[:0], 0
		return buf, nil
	}
	if need := len(buf) + int(q.bytes); cap(buf) < need {
		nb := make([]byte, len(buf), need)
		copy(nb, buf)
		buf = nb
	}
	taken := make([]*batch, 0, len(q.items)-q.dead)
	for _, b := range q.items {
		if b.state != stateQueued {
			continue
		}
		buf = append(buf, b.records...)
		b.state = stateCollected
		if q.release != nil {
			q.release(b.records)
		}
		b.records = nil
		taken = append(taken, b)
	}
	clear(q.items)
	q.items, q.dead, q.bytes = q.items[:0], 0, 0
	q.full.Store(false)
	return buf, taken
}

// ack marks collected batches as held by Fluent Bit.
func (q *queue) ack(bs []*batch) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, b := range bs {
		if b.state == stateCollected {
			b.state = stateAcked
			close(b.settled)
		}
	}
}

// close refuses further batches and withdraws every queued one.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	for _, b := range q.items {
		if b.state == stateQueued {
			q.dropLocked(b)
		}
	}
	clear(q.items)
	q.items, q.dead = nil, 0
}

// stateOf reads b's state.
func (q *queue) stateOf(b *batch) batchState {
	q.mu.Lock()
	defer q.mu.Unlock()
	return b.state
}

// stats returns the queued batch count and bytes.
func (q *queue) stats() (batches int, bytes int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.dead, q.bytes
}
