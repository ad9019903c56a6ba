// Package forward sends records to a Fluent Bit forward input of the same
// Fluent Bit over its unix socket, as PackedForward messages that each ask
// for an acknowledgement: the forward input appends them to its chunks,
// then acknowledges. A Go input uses it to put records into a chunk at
// once instead of waiting for its next collect (fixed at one second by
// Fluent Bit's Go proxy). After a failure (no socket, the forward input
// paused, no acknowledgement in time) the client stays unready for 50 ms,
// twice as long after each failure that follows, up to a second, during
// which its caller takes the collect path or waits (the sqs input, unless
// nothing listens: ErrNotListening); the first failure of an outage is
// logged, and so is the first success after it.
package forward

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/props"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// FrameMax bounds the records of one Forward message: below the forward
// input's default buffer_max_size (6144000 bytes), which refuses a larger
// one. It is the frame of an input whose Config names none (the sqs
// input's). A large message costs the forward input more than its size:
// after every read from the socket it parses what it holds from the start
// again, 32 bytes at a time (plugins/in_forward/fw_prot.c,
// fw_prot_process). In Fluent Bit 5.1.1 its CPU per megabyte was 7.7-8.5
// ms in 4 MiB messages and 5.9-6.4 ms in 1 MiB ones (BenchmarkForwardFrames
// in e2e/fluentbit). Yet 1 MiB messages made the shipped processor slower:
// more sends met the forward input paused under a backlog, each failure
// sent a second of receives to the collect path (56-69% of messages
// forwarded against 89-100%), and it took 94-114 k rows per CPU-second
// against 113-142 k, with half again as many page faults (2026-12-02,
// alternated runs). The edge sends 1 MiB messages (the eventing input's
// forwardFrame says why).
const FrameMax = 4 << 20

// ErrNotListening marks a send that could not connect: no socket at the
// path, or nothing listening on it. Any other failure came from a forward
// input that took the connection: one that Fluent Bit pauses under a
// backlog closes it, and one that is busy answers late.
var ErrNotListening = errors.New("nothing listens on the socket")

// ErrUnready is Send's error while the client waits after a failure
// (retryFirst, doubling to retryMax), when it does not try.
var ErrUnready = errors.New("the forward input failed moments ago")

// retryFirst and retryMax bound how long the client stays unready after a
// failure: retryFirst after the first, twice as long after each failure
// that follows, at most retryMax, until a send works. Fluent Bit pauses a
// forward input for as long as its chunks are over storage.max_chunks_up,
// which at 50 k events a second took 60-210 ms in the processor, and it
// closes the input's connections when it does. A client that waited a
// whole second after that held back a second of records each time: the
// sqs input's pollers stop receiving while they wait, and with the second's
// backlog received at once came the next pause (p50 2.4-3.6 s receipt to
// row in runs with three or four pauses, 0.5 s in runs without).
const (
	retryFirst = 50 * time.Millisecond
	retryMax   = time.Second
)

// maxUnixPath is the longest path a unix socket may have on Linux
// (sockaddr_un's 108 bytes, less the terminating NUL).
const maxUnixPath = 107

// pathProperty names the socket's path in an input's properties and in
// the client's log lines.
const pathProperty = "forward_unix_path"

// Config is a forward path as an input's properties set it
// (forward_unix_path, forward_tag, forward_timeout, which each input
// declares with its own texts and tag); Path "" is off.
type Config struct {
	Path, Tag string
	Timeout   time.Duration
	// FrameMax bounds the records of one Forward message (0: FrameMax);
	// the input sets it, not a property.
	FrameMax int
}

// Read reads the forward path's properties from an input's reader,
// recording on r a forward_unix_path too long for a unix socket (refused
// at start rather than failing at every send).
func Read(r *props.Reader) Config {
	c := Config{Path: r.String(pathProperty), Tag: r.String("forward_tag"), Timeout: r.Duration("forward_timeout")}
	if len(c.Path) > maxUnixPath {
		r.Fail(pathProperty, "%s %q is %d bytes; a unix socket's path is at most %d (choose a shorter directory, for the shipped conf a shorter storage path)", pathProperty, c.Path, len(c.Path), maxUnixPath)
	}
	return c
}

// Fit returns how many of n record sets, the i-th of size(i) bytes, go
// together in one Forward message of f: as many as fit its frame, and at
// least one (Send splits a larger one alone).
func (f *Client) Fit(n int, size func(i int) int) int {
	count, bytes := 0, 0
	for count < n && (count == 0 || bytes+size(count) <= f.frameMax) {
		bytes += size(count)
		count++
	}
	return count
}

// Client sends records to the forward input listening on a unix socket,
// one Forward message at a time. It is safe for concurrent use.
type Client struct {
	path     string
	tag      string
	timeout  time.Duration
	frameMax int
	log      plugin.Logger

	mu      sync.Mutex // one message at a time on the connection
	conn    net.Conn
	rd      *msgp.Reader
	prefix  string // of the chunk ids: this process's, random
	seq     uint64
	retryAt atomic.Int64  // UnixNano after a failure, unready until then; read without mu
	failing bool          // a failure was logged and no send has worked since
	backoff time.Duration // how long the last failure made the client wait
	frame   []byte
}

// New returns a client of the forward input at c.Path that tags its
// messages c.Tag and waits at most c.Timeout to connect and for each
// acknowledgement, and logs where it forwards.
func New(c Config, log plugin.Logger) *Client {
	var id [8]byte
	rand.Read(id[:])
	log.Infof("forwarding records to the forward input at %s", c.Path)
	frameMax := c.FrameMax
	if frameMax <= 0 {
		frameMax = FrameMax
	}
	return &Client{path: c.Path, tag: c.Tag, timeout: c.Timeout, frameMax: frameMax, log: log, prefix: hex.EncodeToString(id[:]) + "-"}
}

// Ready reports whether a send may be tried: false for a moment after a
// failure (retryFirst, doubling to retryMax while failures follow). It
// never waits for a send in progress, so a caller can ask it before doing
// any work for a send.
func (f *Client) Ready() bool {
	return time.Now().UnixNano() >= f.retryAt.Load()
}

// Send sends parts, whole records concatenated, as one Forward message,
// or, when they are one part larger than f's frame, as several. It returns
// once the forward input acknowledged every message; on an error some may
// have been appended (a caller that then takes another path may deliver
// records twice).
func (f *Client) Send(parts ...[]byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Now().UnixNano() < f.retryAt.Load() {
		return ErrUnready
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	var err error
	if len(parts) == 1 && n > f.frameMax {
		err = f.sendSplit(parts[0])
	} else {
		err = f.send(parts...)
	}
	if err != nil {
		f.fail(err)
		return err
	}
	if f.failing {
		f.failing = false
		f.log.Infof("forwarding records to the forward input at %s again", f.path)
	}
	return nil
}

// sendSplit sends the records of one message in Forward messages of at
// most f's frame each (one record larger than that goes alone).
func (f *Client) sendSplit(records []byte) error {
	d := record.NewDecoder(records)
	var r record.Record
	start, last := 0, 0
	for d.Next(&r) {
		if d.Offset()-start > f.frameMax && last > start {
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
func (f *Client) send(parts ...[]byte) error {
	if f.conn == nil {
		c, err := net.DialTimeout("unix", f.path, f.timeout)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrNotListening, err)
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
func (f *Client) readAck(id string) error {
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

// fail drops the connection and makes the client unready for retryFirst,
// or for twice its last wait when no send worked since the last failure
// (at most retryMax); the first failure of an outage is logged (under mu).
func (f *Client) fail(err error) {
	f.drop()
	if f.failing {
		f.backoff = min(2*f.backoff, retryMax)
	} else {
		f.backoff = retryFirst
	}
	f.retryAt.Store(time.Now().Add(f.backoff).UnixNano())
	if !f.failing {
		f.failing = true
		f.log.Warnf("%s %s: %v; until the forward input answers, records take the one-second collect (the sqs input's after waiting for it up to forward_timeout, unless nothing listens)", pathProperty, f.path, err)
	}
}

// Close drops the connection, once no message is being sent.
func (f *Client) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drop()
}

// drop closes the connection, if any (under mu).
func (f *Client) drop() {
	if f.conn != nil {
		f.conn.Close()
		f.conn, f.rd = nil, nil
	}
}
