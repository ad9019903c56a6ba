package main

import (
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/benchparse"
)

func TestWriteShowsMediansAndRanges(t *testing.T) {
	in := `goos: linux
pkg: github.com/whirlpool-events/whirlpool/e2e/fluentbit
BenchmarkEdgeIngest/256x500-2   	       1	10000 ns/op	    123456 events/cpu-s	  50000 events/s
BenchmarkTierMemory-2   	       1	15617977079 ns/op	         0 503s	     67567 accepted-events/s	       661.0 edge-peak-MiB
BenchmarkTierMemory-2   	       1	15617977079 ns/op	         2 503s	     60000 accepted-events/s	       700.0 edge-peak-MiB
BenchmarkTierMemory-2   	       1	15617977079 ns/op	         1 503s	     70000 accepted-events/s	       600.0 edge-peak-MiB
    memory_test.go:136: edge: peak RSS 661 MiB
PASS
`
	res, err := benchparse.Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	write(&b, res)
	for _, want := range []string{
		"| edge events per CPU-second, 256 clients × 500 events | 123.5k | ≥ 200k",
		"| edge peak RSS, 15 s at full load (256 × 500) | 661 MiB (median of 3; 600 MiB to 700 MiB) |",
		"| rate accepted in the memory run | 67.6k (median of 3; 60.0k to 70.0k) |",
		"| processor rows per CPU-second (draining a preloaded queue) | not run |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table:\n%s\nwant a row starting %q", b.String(), want)
		}
	}
}
