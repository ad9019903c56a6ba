package sqs

// This file holds the forward path (forward_unix_path): the records of
// each receive go to Fluent Bit's own forward input, over its unix socket
// in the same Fluent Bit, as soon as they are decoded, instead of waiting
// for the Go input's next collect (fixed at one second by Fluent Bit's Go
// proxy). The forward input appends them to its chunks and acknowledges;
// only then are the messages deleted. Whatever cannot go that way (no
// socket yet, the forward input paused for longer than forward_timeout,
// no acknowledgement in time) takes the collect path, so the forward input
// speeds records up and never holds one back for long.
//
// Under a backlog Fluent Bit pauses the forward input, which closes its
// connections. A receive's records then wait for it, their messages held,
// and the poller receives nothing meanwhile: the backlog stays in SQS. On
// the collect path instead it moved into this input's buffers: in the
// drains of docs/benchmarks/2026-12-02-session14.txt, those whose messages
// a quarter to a third took that path had half again as many page faults
// per record and more memory.

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/forward"
)

// forwarder sends the records of received messages to the forward input
// (internal/forward), consecutive small messages in one Forward message.
type forwarder struct {
	c *forward.Client
	// wait is how long the records of a receive wait for a forward input
	// that took the connection and failed (paused) before they take the
	// collect path: forward_timeout.
	wait time.Duration
	// notListening says the last failure found nothing listening: sends
	// then take the collect path at once rather than wait.
	notListening atomic.Bool
}

// forwardPoll is how often a waiting receive asks whether the client may
// send again (it is unready for 50 ms to a second after a failure).
const forwardPoll = 50 * time.Millisecond

// forward sends the records of msgs, in order, and returns how many of the
// first messages the forward input acknowledged whole; the rest are for
// the collect path. A message larger than forward.FrameMax (this input's
// frame) goes in several Forward messages; consecutive small ones share
// one. After a failure of the forward input (it took the connection:
// paused, or late) sends wait until the client is ready and try again,
// for at most f.wait each time they find it failing, or until ctx is
// done; after a failure that found nothing listening they do not wait.
func (f *forwarder) forward(ctx context.Context, msgs []*held) int {
	done := 0
	var waitingSince time.Time
	for done < len(msgs) {
		if !f.c.Ready() {
			if f.notListening.Load() {
				return done
			}
			if waitingSince.IsZero() {
				waitingSince = time.Now()
			}
			if !f.waitReady(ctx, waitingSince.Add(f.wait)) {
				return done
			}
		}
		end := done + f.c.Fit(len(msgs)-done, func(i int) int { return len(msgs[done+i].records) })
		parts := make([][]byte, 0, end-done)
		for _, h := range msgs[done:end] {
			parts = append(parts, h.records)
		}
		err := f.c.Send(parts...)
		if err == nil {
			done, waitingSince = end, time.Time{}
			continue
		}
		if !errors.Is(err, forward.ErrUnready) { // another send's failure, just now
			f.notListening.Store(errors.Is(err, forward.ErrNotListening))
		}
		if waitingSince.IsZero() {
			waitingSince = time.Now()
		}
	}
	return done
}

// waitReady waits until the client may send again, and reports whether it
// may before deadline and before ctx is done.
func (f *forwarder) waitReady(ctx context.Context, deadline time.Time) bool {
	for !f.c.Ready() {
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(forwardPoll):
		}
	}
	return time.Now().Before(deadline) && ctx.Err() == nil
}

// close drops the connection, once no message is being sent.
func (f *forwarder) close() { f.c.Close() }
