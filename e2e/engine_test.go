package e2e

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// maxChunkBytes is the size Fluent Bit cuts an input's buffer into before it
// flushes it to an output (its chunks hold up to about 2 MB).
const maxChunkBytes = 2 << 20

// flushInterval is the service's Flush (conf/edge.conf and
// conf/processor.conf say 1): every interval the engine hands the chunks
// that arrived since the last one to the output.
const flushInterval = time.Second

// engine models Fluent Bit's engine between one input instance and one
// output instance, with `storage.type filesystem` on the input and
// `Retry_Limit no_limits` on the output:
//
//   - what the input appends lands in the input's buffer (the "disk"),
//     cut on record boundaries into chunks of at most maxChunkBytes;
//   - every flushInterval the chunks that arrived are dispatched; each is
//     flushed to the output, concurrently on max(1, Workers) threads; OK
//     removes it, RETRY flushes it again after a back-off (100 ms doubling
//     to 500 ms), ERROR drops it (which these tests count as a loss);
//   - the disk outlives the plugin instances: detach stops them as Fluent
//     Bit's shutdown does when its grace period ends (no new flush starts,
//     in-flight flushes finish, the input exits, then the output) and keeps
//     every chunk not yet delivered; attach with new instances delivers
//     those chunks after the restart.
type engine struct {
	t    testing.TB
	name string

	mu       sync.Mutex
	cond     *sync.Cond
	disk     []*chunk
	inflight int
	stopping bool // no new flush starts
	in       *flbhost.InputInstance
	out      *flbhost.OutputInstance
	stop     chan struct{}
	wg       sync.WaitGroup

	appends, chunks, flushes, retries, errors int
}

type chunk struct {
	tag       string
	data      []byte
	busy      bool
	ready     bool // dispatched by a flush tick
	tries     int
	notBefore time.Time
}

func newEngine(t testing.TB, name string) *engine {
	e := &engine{t: t, name: name}
	e.cond = sync.NewCond(&e.mu)
	return e
}

// attach starts the engine with these instances: the input's collector, a
// pump that moves its appends to the disk, and the flush threads. The
// instances are stopped when the test ends if detach was not called.
func (e *engine) attach(in *flbhost.InputInstance, out *flbhost.OutputInstance) {
	e.mu.Lock()
	if e.in != nil {
		e.mu.Unlock()
		e.t.Fatalf("%s: attach while attached", e.name)
	}
	e.in, e.out, e.stop, e.stopping = in, out, make(chan struct{}), false
	e.mu.Unlock()
	e.t.Cleanup(func() {
		e.mu.Lock()
		attached := e.in == in
		e.mu.Unlock()
		if attached {
			e.detach()
		}
	})

	in.Start()
	stop := e.stop
	e.wg.Add(1)
	go func() { // pump: input buffer → disk
		defer e.wg.Done()
		for {
			select {
			case <-stop:
				e.collect(in)
				return
			default:
			}
			in.WaitBytes(1, 100*time.Millisecond)
			e.collect(in)
		}
	}()
	e.wg.Add(1)
	go func() { // the flush timer; also wakes flushers whose back-off has passed
		defer e.wg.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		next := time.Now().Add(flushInterval)
		for {
			select {
			case <-stop:
				e.mu.Lock()
				e.cond.Broadcast()
				e.mu.Unlock()
				return
			case now := <-tick.C:
				e.mu.Lock()
				if !now.Before(next) {
					next = next.Add(flushInterval)
					for _, c := range e.disk {
						c.ready = true
					}
				}
				e.cond.Broadcast()
				e.mu.Unlock()
			}
		}
	}()
	workers := out.Workers
	if workers < 1 {
		workers = 1
	}
	for w := 0; w < workers; w++ {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.flusher(out, stop)
		}()
	}
}

// collect moves what the engine holds for in onto the disk, cut into chunks.
func (e *engine) collect(in *flbhost.InputInstance) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, a := range in.Drain() {
		e.appends++
		for _, part := range e.split(a.Data) {
			e.disk = append(e.disk, &chunk{tag: a.Tag, data: part})
			e.chunks++
		}
	}
	e.cond.Broadcast()
}

// split cuts one append into chunks of at most maxChunkBytes on record
// boundaries (a single larger record is a chunk of its own).
func (e *engine) split(data []byte) [][]byte {
	if len(data) <= maxChunkBytes {
		return [][]byte{data}
	}
	var out [][]byte
	d := record.NewDecoder(data)
	var r record.Record
	start, last := 0, 0
	for d.Next(&r) {
		end := d.Offset()
		if end-start > maxChunkBytes && last > start {
			out = append(out, data[start:last])
			start = last
		}
		last = end
	}
	if err := d.Err(); err != nil {
		e.t.Errorf("%s: the input appended a buffer that does not decode: %v", e.name, err)
	}
	return append(out, data[start:])
}

func (e *engine) flusher(out *flbhost.OutputInstance, stop chan struct{}) {
	for {
		e.mu.Lock()
		var c *chunk
		for c == nil {
			select {
			case <-stop:
				e.mu.Unlock()
				return
			default:
			}
			now := time.Now()
			for _, d := range e.disk {
				if !e.stopping && d.ready && !d.busy && !now.Before(d.notBefore) {
					c = d
					break
				}
			}
			if c == nil {
				e.cond.Wait()
			}
		}
		c.busy = true
		e.inflight++
		e.mu.Unlock()

		r := flbhost.Result(out.Flush(c.data, c.tag))

		e.mu.Lock()
		e.inflight--
		e.flushes++
		c.busy = false
		switch r {
		case flbhost.FlbOK:
			e.remove(c)
		case flbhost.FlbRetry:
			e.retries++
			c.tries++
			backoff := 100 * time.Millisecond << min(c.tries-1, 3)
			c.notBefore = time.Now().Add(min(backoff, 500*time.Millisecond))
		default:
			e.errors++
			e.remove(c)
			e.t.Errorf("%s: flush of a %d-byte chunk returned ERROR: Fluent Bit drops the chunk", e.name, len(c.data))
		}
		e.cond.Broadcast()
		e.mu.Unlock()
	}
}

func (e *engine) remove(c *chunk) {
	for i, d := range e.disk {
		if d == c {
			e.disk = append(e.disk[:i], e.disk[i+1:]...)
			return
		}
	}
}

// detach stops the instances as Fluent Bit's shutdown does: the input
// (FLBPluginExit; what it collected stays in the buffer), then the flush
// threads once their current flush returns, then the output. Undelivered
// chunks stay on the disk.
func (e *engine) detach() {
	e.mu.Lock()
	in, out, stop := e.in, e.out, e.stop
	e.stopping = true
	e.mu.Unlock()
	if in == nil {
		return
	}
	if _, err := in.Exit(); err != nil {
		e.t.Errorf("%s: input exit: %v", e.name, err)
	}
	close(stop)
	e.wg.Wait()
	e.collect(in) // anything collected after the pump's last look
	if _, err := out.Exit(); err != nil {
		e.t.Errorf("%s: output exit: %v", e.name, err)
	}
	e.mu.Lock()
	e.in, e.out, e.stop = nil, nil, nil
	e.mu.Unlock()
}

// idle reports whether nothing waits in the input's buffer or on the disk
// and no flush is running.
func (e *engine) idle() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.in != nil && len(e.in.Peek()) > 0 {
		return false
	}
	return len(e.disk) == 0 && e.inflight == 0
}

// pending returns the number of chunks on the disk.
func (e *engine) pending() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.disk)
}

// waitIdle waits until idle, or fails the test after timeout.
func (e *engine) waitIdle(timeout time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for !e.idle() {
		if time.Now().After(deadline) {
			e.t.Fatalf("%s: not idle after %s: %s", e.name, timeout, e.summary())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *engine) summary() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return fmt.Sprintf("appends %d, chunks %d, flushes %d, retries %d, errors %d, on disk %d, in flight %d",
		e.appends, e.chunks, e.flushes, e.retries, e.errors, len(e.disk), e.inflight)
}

// retryCount returns how many flushes have answered RETRY.
func (e *engine) retryCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.retries
}

// stopWithUndispatched starts a stop (no new flush) at a moment when the
// disk holds a chunk not yet dispatched, and reports whether it found one
// within timeout; call detach next either way.
func (e *engine) stopWithUndispatched(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		e.mu.Lock()
		for _, c := range e.disk {
			if !c.ready {
				e.stopping = true
				e.mu.Unlock()
				return true
			}
		}
		e.mu.Unlock()
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
}
