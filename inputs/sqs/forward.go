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
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// forwardFrameMax bounds the records of one Forward message: below the
// forward input's default buffer_max_size (6144000 bytes), which refuses a
// larger one.
const forwardFrameMax = 4 << 20

// forwardRetry is how long the collect path takes every receive after a
// failed send before the socket is tried again.
const forwardRetry = time.Second

// forwarder sends records to the forward input listening on path, one
// PackedForward message at a time, each asking for an acknowledgement.
type forwarder struct {
	path    string
	tag     string
	timeout time.Duration
	log     plugin.Logger

	mu      sync.Mutex // one message at a time on the connection
	conn    net.Conn
	rd      *msgp.Reader
	prefix  string // of the chunk ids: this process's, random
	seq     uint64
	retryAt time.Time // after a failure, the collect path until then
	failing bool      // a failure was logged and no send has worked since
	frame   []byte
}

func newForwarder(path, tag string, timeout time.Duration, log plugin.Logger) *forwarder {
	var id [8]byte
	rand.Read(id[:])
	return &forwarder{path: path, tag: tag, timeout: timeout, log: log, prefix: hex.EncodeToString(id[:]) + "-"}
}

// forward sends the records of msgs, in order, and returns how many of the
// first messages the forward input acknowledged whole; the rest are for
// the collect path. A message larger than forwardFrameMax goes in several
// Forward messages; consecutive small ones share one.
func (f *forwarder) forward(msgs []*held) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Now().Before(f.retryAt) {
		return 0
	}
	done := 0
	for done < len(msgs) {
		// The messages that fit one frame together (at least one).
		end, size := done, 0
		for end < len(msgs) && (end == done || size+len(msgs[end].records) <= forwardFrameMax) {
			size += len(msgs[end].records)
			end++
		}
		var err error
		if end == done+1 && size > forwardFrameMax {
			err = f.sendSplit(msgs[done].records)
		} else {
			parts := make([][]byte, 0, end-done)
			for _, h := range msgs[done:end] {
				parts = append(parts, h.records)
			}
			err = f.send(parts...)
		}
		if err != nil {
			f.fail(err)
			return done
		}
		done = end
	}
	if f.failing {
		f.failing = false
		f.log.Infof("forwarding records to the forward input at %s again", f.path)
	}
	return done
}

// sendSplit sends the records of one message in Forward messages of at
// most forwardFrameMax each (one record larger than that goes alone).
func (f *forwarder) sendSplit(records []byte) error {
	d := record.NewDecoder(records)
	var r record.Record
	start, last := 0, 0
	for d.Next(&r) {
		if d.Offset()-start > forwardFrameMax && last > start {
			if err := f.send(records[start:last]); err != nil {
				return err
			}
			start = last
		}
		last = d.Offset()
	}
	if err := d.Err(); err != nil { // cannot happen: the decoder wrote them
		return fmt.Errorf("splitting a message's records: %w", err)
	}
	if last > start {
		return f.send(records[start:last])
	}
	return nil
}

// send writes one PackedForward message, [tag, records, {"chunk": id}],
// and waits for its acknowledgement, {"ack": id}.
func (f *forwarder) send(parts ...[]byte) error {
	if f.conn == nil {
		c, err := net.DialTimeout("unix", f.path, f.timeout)
		if err != nil {
			return err
		}
		f.conn, f.rd = c, msgp.NewReader(c)
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	f.seq++
	id := fmt.Sprintf("%s%d", f.prefix, f.seq)
	head := msgp.AppendArrayHeader(f.frame[:0], 3)
	head = msgp.AppendString(head, f.tag)
	head = append(head, 0xc6, byte(n>>24), byte(n>>16), byte(n>>8), byte(n)) // bin 32
	f.frame = head
	opts := msgp.AppendString(msgp.AppendString(msgp.AppendMapHeader(nil, 1), "chunk"), id)
	bufs := make(net.Buffers, 0, len(parts)+2)
	bufs = append(bufs, head)
	bufs = append(bufs, parts...)
	bufs = append(bufs, opts)
	f.conn.SetDeadline(time.Now().Add(f.timeout))
	if _, err := bufs.WriteTo(f.conn); err != nil {
		return fmt.Errorf("writing %d bytes: %w", n, err)
	}
	return f.readAck(id)
}

// readAck reads the forward input's answer, which must acknowledge id.
func (f *forwarder) readAck(id string) error {
	n, err := f.rd.ReadMapHeader()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("the forward input closed the connection without acknowledging (paused, or the message refused)")
		}
		return fmt.Errorf("reading the acknowledgement: %w", err)
	}
	acked := false
	for ; n > 0; n-- {
		k, err := f.rd.ReadString()
		if err != nil {
			return fmt.Errorf("reading the acknowledgement: %w", err)
		}
		if k != "ack" {
			if err := f.rd.Skip(); err != nil {
				return fmt.Errorf("reading the acknowledgement: %w", err)
			}
			continue
		}
		v, err := f.rd.ReadString()
		if err != nil {
			return fmt.Errorf("reading the acknowledgement: %w", err)
		}
		acked = acked || v == id
	}
	if !acked {
		return fmt.Errorf("the forward input's answer does not acknowledge %s", id)
	}
	return nil
}

// fail drops the connection and sends the next receives down the collect
// path for forwardRetry; the first failure of an outage is logged.
func (f *forwarder) fail(err error) {
	f.drop()
	f.retryAt = time.Now().Add(forwardRetry)
	if !f.failing {
		f.failing = true
		f.log.Warnf("forward_unix_path %s: %v; records take the one-second collect until the forward input answers", f.path, err)
	}
}

// close drops the connection, once no message is being sent.
func (f *forwarder) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop()
}

// drop closes the connection, if any (under mu).
func (f *forwarder) drop() {
	if f.conn != nil {
		f.conn.Close()
		f.conn, f.rd = nil, nil
	}
}
