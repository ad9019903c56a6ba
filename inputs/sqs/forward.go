package sqs

// This file holds the forward path (forward_unix_path): the records of
// each receive go to Fluent Bit's own forward input, over its unix socket
// in the same Fluent Bit, as soon as they are decoded, instead of waiting
// for the Go input's next collect (fixed at one second by Fluent Bit's Go
// proxy). The forward input appends them to its chunks and acknowledges;
// only then are the messages deleted. Whatever cannot go that way (no
// socket yet, the forward input paused, no acknowledgement in time) takes
// the collect path, so the forward input speeds records up and never
// holds one back.

import (
	"github.com/whirlpool-events/whirlpool/internal/forward"
)

// forwarder sends the records of received messages to the forward input
// (internal/forward), consecutive small messages in one Forward message.
type forwarder struct {
	c *forward.Client
}

// forward sends the records of msgs, in order, and returns how many of the
// first messages the forward input acknowledged whole; the rest are for
// the collect path. A message larger than forward.FrameMax (this input's
// frame) goes in several Forward messages; consecutive small ones share
// one.
func (f *forwarder) forward(msgs []*held) int {
	if !f.c.Ready() {
		return 0
	}
	done := 0
	for done < len(msgs) {
		end := done + f.c.Fit(len(msgs)-done, func(i int) int { return len(msgs[done+i].records) })
		parts := make([][]byte, 0, end-done)
		for _, h := range msgs[done:end] {
			parts = append(parts, h.records)
		}
		if f.c.Send(parts...) != nil {
			return done
		}
		done = end
	}
	return done
}

// close drops the connection, once no message is being sent.
func (f *forwarder) close() { f.c.Close() }
