package eventing

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// holdBody opens a raw connection that declares a body of declared bytes
// (Expect: 100-continue), waits for the 100 Continue, which the server sends
// when the handler starts reading the body, then sends sent and stalls. The
// connection is closed at the end of the test.
func holdBody(t *testing.T, addr string, declared int, sent string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(conn, "POST /v1/events/g/v/e HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n", declared)
	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 100 ") {
		t.Fatalf("waiting for 100 Continue: %q, %v", status, err)
	}
	if blank, err := br.ReadString('\n'); err != nil || blank != "\r\n" {
		t.Fatalf("100 Continue: %q, %v", blank, err)
	}
	if _, err := conn.Write([]byte(sent)); err != nil {
		t.Fatalf("write: %v", err)
	}
	return conn, br
}

// TestDeclaredLengthIsNotAllocated: bodies that declare max_body_bytes and
// send a few bytes cost what arrived, not what was declared (once 200 such
// connections held 1 GB of heap).
func TestDeclaredLengthIsNotAllocated(t *testing.T) {
	const conns, declared = 200, 5 << 20
	c, _, _ := start(t, testenv.Config{"ack": "received", "max_body_bytes": "5M"})
	addr := c.Addr().String()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range conns {
		holdBody(t, addr, declared, `{"a":`)
	}
	runtime.ReadMemStats(&after)
	// Everything allocated meanwhile, by the server and this test, is
	// counted; 200 declared bodies would be 1000 MiB.
	got, limit := after.TotalAlloc-before.TotalAlloc, uint64(conns*(256<<10))
	t.Logf("%d connections allocated %d KiB", conns, got>>10)
	if got > limit {
		t.Fatalf("%d connections declaring %d bytes allocated %d MiB, want < %d MiB",
			conns, declared, got>>20, limit>>20)
	}
	if recs := collect(t, c); len(recs) != 0 {
		t.Errorf("unfinished bodies emitted %d records", len(recs))
	}
}

// TestReadLimitedGrowsWithTheBody: the buffer follows the bytes that arrive
// (the size hint only caps a step), and a body over limit stops at limit+1.
func TestReadLimitedGrowsWithTheBody(t *testing.T) {
	for _, tc := range []struct {
		name          string
		body          int
		limit, size   int64
		wantOver      bool
		wantCapAtMost int
	}{
		{"liar: declares the limit, sends 5 bytes", 5, 5 << 20, 5<<20 + 1, false, minBodyBuf},
		{"honest small", 500, 5 << 20, 501, false, 501},
		{"honest large: exact size, no doubling past it", 300 << 10, 5 << 20, 300<<10 + 1, false, 300<<10 + 1},
		{"unknown size grows by doubling", 300 << 10, 5 << 20, 5<<20 + 1, false, 512 << 10},
		{"over limit stops at limit+1", 10 << 10, 6 << 10, 6<<10 + 1, true, 6<<10 + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.NewReader(strings.Repeat("x", tc.body))
			got, over, err := readLimited(make([]byte, 0, max(min(tc.size, minBodyBuf), 1)), src, tc.limit, tc.size)
			if err != nil || over != tc.wantOver {
				t.Fatalf("over=%v err=%v, want over=%v", over, err, tc.wantOver)
			}
			if !over && len(got) != tc.body {
				t.Errorf("read %d bytes, want %d", len(got), tc.body)
			}
			if cap(got) > tc.wantCapAtMost {
				t.Errorf("buffer of %d bytes for %d read, want at most %d", cap(got), len(got), tc.wantCapAtMost)
			}
		})
	}
}

// TestMaxConnectionsWait: with max_connections open, another client waits
// until one of them closes, then is served.
func TestMaxConnectionsWait(t *testing.T) {
	const limit = 3
	c, base, _ := start(t, testenv.Config{"ack": "received", "max_connections": fmt.Sprint(limit)})
	var held []net.Conn
	for range limit {
		conn, _ := holdBody(t, c.Addr().String(), 100, `{"a":`)
		held = append(held, conn)
	}
	answered := make(chan reply, 1)
	go func() { answered <- post(t, base+"/v1/events/g/v/e", ev) }()
	select {
	case r := <-answered:
		t.Fatalf("answered %v while %d connections were open, want it to wait", r, limit)
	case <-time.After(300 * time.Millisecond):
	}
	_ = held[0].Close()
	select {
	case r := <-answered:
		if r.status != 202 {
			t.Fatalf("after a connection closed: %v, want 202", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("not answered within 10 s of a connection closing")
	}
	if got := bodies(collect(t, c)); len(got) != 1 || got[0] != ev {
		t.Errorf("emitted %q, want only the waiting client's event", got)
	}
}

// TestSlowSenders: a body below min_send_rate after the grace is cut off
// with 408 and nothing of it is emitted, even when what arrived is a whole
// event; a body slower than the floor only within the grace is accepted.
func TestSlowSenders(t *testing.T) {
	gz := gzipped(ev)
	for _, tc := range []struct {
		name     string
		grace    string
		headers  string
		declared int
		pieces   []string      // sent in order, pause between them
		pause    time.Duration // between pieces
		trickle  bool          // then one space per 20 ms, up to 500
		status   int
		code     string
	}{
		{"stalls after a whole event", "200ms", "", 1000, []string{ev}, 0, false, 408, "REQUEST_TIMEOUT"},
		{"stalls before any byte", "200ms", "", 1000, nil, 0, false, 408, "REQUEST_TIMEOUT"},
		{"trickles 50 bytes/s", "200ms", "", 10000, []string{ev}, 0, true, 408, "REQUEST_TIMEOUT"},
		{"gzip stalls in the header", "200ms", "Content-Encoding: gzip\r\n", len(gz), []string{gz[:4]}, 0, false, 408, "REQUEST_TIMEOUT"},
		{"slow within the grace", "5s", "", len(ev), []string{ev[:5], ev[5:10], ev[10:]}, 100 * time.Millisecond, false, 202, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, _ := start(t, testenv.Config{"ack": "received", "min_send_rate": "1K", "min_send_rate_grace": tc.grace})
			conn, err := net.DialTimeout("tcp", c.Addr().String(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
			fmt.Fprintf(conn, "POST /v1/events/g/v/e HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n\r\n", tc.headers, tc.declared)
			for i, p := range tc.pieces {
				if i > 0 {
					time.Sleep(tc.pause)
				}
				if _, err := conn.Write([]byte(p)); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			if tc.trickle {
				stop := make(chan struct{})
				defer close(stop)
				go func() {
					for range 500 {
						select {
						case <-stop:
							return
						case <-time.After(20 * time.Millisecond):
						}
						if _, err := conn.Write([]byte(" ")); err != nil {
							return
						}
					}
				}()
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(raw), tc.code) {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, raw, tc.status, tc.code)
			}
			want := 0
			if tc.status == 202 {
				want = 1
			}
			if recs := collect(t, c); len(recs) != want {
				t.Errorf("emitted %d records, want %d", len(recs), want)
			}
		})
	}
}

// TestSendFloorEndsWithTheBody: the floor's read deadline must not outlive
// the body, or it would cut the connection while an ack buffered request
// waits for Fluent Bit (its events then withdrawn) or idles in keep-alive.
func TestSendFloorEndsWithTheBody(t *testing.T) {
	c, base, _ := start(t, testenv.Config{"min_send_rate": "1K", "min_send_rate_grace": "100ms"})
	client := &http.Client{Timeout: 10 * time.Second}
	for i := range 2 { // the second request reuses the connection
		answered := make(chan reply, 1)
		go func() { answered <- send(t, client, http.MethodPost, base+"/v1/events/g/v/e", []byte(ev)) }()
		waitQueued(t, c, 1)
		time.Sleep(400 * time.Millisecond) // well past grace + body/rate
		if got := len(collect(t, c)); got != 1 {
			t.Fatalf("request %d: collected %d records, want 1", i, got)
		}
		if r := <-answered; r.status != 200 {
			t.Fatalf("request %d: %v, want 200", i, r)
		}
	}
}
