package eventing

import (
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// stalledForwardInput listens on a unix socket like a forward input that
// takes messages but never acknowledges them (a paused or stuck one),
// and returns its path.
func stalledForwardInput(t *testing.T) string {
	t.Helper()
	path := filepath.Join(testenv.ShortDir(t), "fwd.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, conn); conn.Close() }()
		}
	}()
	return path
}

// The forward path's records are bounded by max_buffered_bytes as the
// queue's are, and room is claimed before a request's records are built:
// once neither the forward path nor the queue has room, requests are
// answered 503 before their bodies are read, as with the queue alone
// (TestMaxBufferedBytes). Records the forward input never acknowledges
// take the collect path, so nothing accepted is lost.
func TestForwardPathIsBoundedLikeTheQueue(t *testing.T) {
	sock := stalledForwardInput(t)
	c, base, _ := start(t, testenv.Config{"ack": "buffered", "max_buffered_bytes": "1K",
		"forward_unix_path": sock, "forward_timeout": "2s"})
	url := base + "/v1/events/g/v/e"
	event := func(s string) string { return `{"pad":"` + s + strings.Repeat("x", 500) + `"}` }

	answers := make(chan reply, 2)
	go func() { answers <- post(t, url, event("first")) }() // reserves the forward path's room and waits for an ack
	eventually(t, "the first request's records on the forward path", func() bool {
		c.fwd.mu.Lock()
		defer c.fwd.mu.Unlock()
		return len(c.fwd.waiting) == 0 && c.fwd.bytes > 0
	})
	go func() { answers <- post(t, url, event("second")) }() // no room there: queued for the collect
	waitQueued(t, c, 1)
	if !c.fwd.full.Load() {
		t.Error("the forward path refused a reservation but is not marked full")
	}

	if r := post(t, url, event("third")); r.status != 503 || r.Error == nil || r.Error.Code != "OVERLOADED" {
		t.Fatalf("no room on either path: got %v, want 503 OVERLOADED", r)
	}
	if r := post(t, url, `not json`); r.status != 503 {
		t.Fatalf("broken body with both paths full: got %v, want 503 (body unread)", r)
	}

	if got := bodies(collect(t, c)); len(got) != 1 || !strings.Contains(got[0], "second") {
		t.Fatalf("first collect = %q, want the second request's event", got)
	}
	// The first request's message is never acknowledged: after
	// forward_timeout its records take the collect path.
	waitQueued(t, c, 1)
	if got := bodies(collect(t, c)); len(got) != 1 || !strings.Contains(got[0], "first") {
		t.Fatalf("second collect = %q, want the first request's event", got)
	}
	for range 2 {
		if r := <-answers; r.status != 200 {
			t.Errorf("accepted request answered %v, want 200", r)
		}
	}
	if n := c.stats.forwarded.Load(); n != 0 {
		t.Errorf("%d events counted as forwarded; the forward input acknowledged none", n)
	}
	if c.fwd.full.Load() {
		t.Error("the forward path is still marked full after its room was released")
	}
	// The failure closed the forward path for a moment (the client's
	// wait, internal/forward); it opens again by itself.
	deadline := time.Now().Add(5 * time.Second)
	for !c.fwd.open() {
		if time.Now().After(deadline) {
			t.Fatal("the forward path is still closed 5 s after its failure")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
