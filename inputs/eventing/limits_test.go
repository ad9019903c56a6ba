package eventing

import (
	"bufio"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/plugins/testenv"
)

// holdBody opens a raw connection that declares a body of declared bytes
// (Expect: 100-continue), waits for the 100 Continue, which the server sends
// when the handler starts reading the body, then sends sent and stalls. The
// connection is closed at the end of the test.
func holdBody(t *testing.T, addr string, declared int, sent string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /v1/events/g/v/e HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n", declared)
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("waiting for 100 Continue: %q, %v", line, err)
	}
	if _, err := conn.Write([]byte(sent)); err != nil {
		t.Fatalf("write: %v", err)
	}
	return conn
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
