package testenv

import (
	"net"
	"strconv"
	"testing"
)

// FreePorts returns n distinct loopback ports that were free a moment ago
// (all are held open together while they are picked, so they differ).
func FreePorts(t testing.TB, n int) []string {
	t.Helper()
	out := make([]string, 0, n)
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for i := 0; i < n; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		lns = append(lns, ln)
		out = append(out, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	return out
}

// FreePort returns one loopback port that was free a moment ago.
func FreePort(t testing.TB) string {
	t.Helper()
	return FreePorts(t, 1)[0]
}
