package forward

import (
	"errors"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

// Fit packs record sets into one Forward message up to the client's
// frame, and always takes at least one, so a set larger than the frame is
// sent (split by Send) rather than never. A Config without a frame gets
// FrameMax.
func TestFit(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		m   int
	}{
		{Config{}, FrameMax},
		{Config{FrameMax: 1 << 20}, 1 << 20},
	} {
		client := New(c.cfg, quiet{})
		m := c.m
		for _, tc := range []struct {
			name  string
			sizes []int
			want  int
		}{
			{"none", nil, 0},
			{"all fit", []int{1, 2, 3}, 3},
			{"exactly the frame", []int{m / 2, m / 2, 1}, 2},
			{"one over the rest", []int{m - 1, 2}, 1},
			{"a first set larger than the frame goes alone", []int{m + 1, 1}, 1},
		} {
			if got := client.Fit(len(tc.sizes), func(i int) int { return tc.sizes[i] }); got != tc.want {
				t.Errorf("frame %d, %s: Fit(%v) = %d, want %d", m, tc.name, tc.sizes, got, tc.want)
			}
		}
	}
}

// quiet is a plugin.Logger that drops every line.
type quiet struct{}

func (quiet) Enabled(plugin.Level) bool { return false }
func (quiet) Errorf(string, ...any)     {}
func (quiet) Warnf(string, ...any)      {}
func (quiet) Infof(string, ...any)      {}
func (quiet) Debugf(string, ...any)     {}

// TestWaitAfterAFailure: a failure makes the client unready for
// retryFirst, each failure after it for twice as long up to retryMax, and
// a send that works starts again from retryFirst. A forward input that
// Fluent Bit paused closes the connection without an acknowledgement;
// once it takes messages again the client sends as soon as its wait is
// over, not a second later.
func TestWaitAfterAFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fw.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	paused := make(chan bool, 1)
	paused <- true // the first connection is closed unanswered
	go serveAcks(ln, paused)

	c := New(Config{Path: path, Tag: "t", Timeout: 5 * time.Second}, quiet{})
	defer c.Close()
	records := msgp.AppendArrayHeader(nil, 2) // one record: [0, {}]
	records = msgp.AppendInt(records, 0)
	records = msgp.AppendMapHeader(records, 0)

	before := time.Now()
	if err := c.Send(records); err == nil || errors.Is(err, ErrNotListening) {
		t.Fatalf("send to a paused forward input: %v, want a failure after connecting", err)
	}
	if at := time.Unix(0, c.retryAt.Load()); at.Before(before.Add(retryFirst)) || at.After(time.Now().Add(retryFirst)) {
		t.Fatalf("after the first failure the client waits until %v, want %v after it", at.Sub(before), retryFirst)
	}
	for !c.Ready() {
		time.Sleep(time.Millisecond)
	}
	if err := c.Send(records); err != nil {
		t.Fatalf("send once the forward input answers: %v", err)
	}

	// Failures in a row: the wait doubles up to retryMax, during which
	// the client does not try; a send that works starts it again from
	// retryFirst.
	want := retryFirst
	c.mu.Lock()
	for range 8 {
		c.fail(errors.New("no acknowledgement"))
		if c.backoff != want {
			c.mu.Unlock()
			t.Fatalf("wait %v after failures in a row, want %v", c.backoff, want)
		}
		want = min(2*want, retryMax)
	}
	c.mu.Unlock()
	if c.Ready() {
		t.Fatal("ready while it waits after failures")
	}
	if err := c.Send(records); !errors.Is(err, ErrUnready) {
		t.Fatalf("send while waiting: %v, want ErrUnready", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failing = false // what a send that works does
	c.fail(errors.New("no acknowledgement"))
	if c.backoff != retryFirst {
		t.Fatalf("wait %v after the first failure since a send worked, want %v", c.backoff, retryFirst)
	}
}

// serveAcks accepts connections on ln; while paused yields true it closes
// each unanswered, as a forward input closes its connections when Fluent
// Bit pauses it, and otherwise acknowledges every message.
func serveAcks(ln net.Listener, paused chan bool) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		select {
		case <-paused:
			conn.Close()
			continue
		default:
		}
		go func() {
			defer conn.Close()
			rd := msgp.NewReader(conn)
			for {
				id, err := readMessage(rd)
				if err != nil {
					return
				}
				ack := msgp.AppendString(msgp.AppendString(msgp.AppendMapHeader(nil, 1), "ack"), id)
				if _, err := conn.Write(ack); err != nil {
					return
				}
			}
		}()
	}
}

// readMessage reads one PackedForward message, [tag, records, {"chunk":
// id}], and returns its chunk id.
func readMessage(rd *msgp.Reader) (string, error) {
	if _, err := rd.ReadArrayHeader(); err != nil {
		return "", err
	}
	if _, err := rd.ReadString(); err != nil {
		return "", err
	}
	if _, err := rd.ReadBytes(nil); err != nil {
		return "", err
	}
	n, err := rd.ReadMapHeader()
	if err != nil {
		return "", err
	}
	id := ""
	for ; n > 0; n-- {
		k, err := rd.ReadString()
		if err != nil {
			return "", err
		}
		v, err := rd.ReadString()
		if err != nil {
			return "", err
		}
		if k == "chunk" {
			id = v
		}
	}
	return id, nil
}
