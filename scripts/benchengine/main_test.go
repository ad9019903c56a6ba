package main

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := `goos: linux
BenchmarkEdgeIngest/256x500-2   	       1	10000 ns/op	    123456 events/cpu-s	  50000 events/s
BenchmarkTierMemory-2   	       1	15617977079 ns/op	         0 503s	     67567 accepted-events/s	       661.0 edge-peak-MiB
    memory_test.go:136: edge: peak RSS 661 MiB
PASS
`
	got, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		bench, unit string
		want        float64
	}{
		{"BenchmarkEdgeIngest/256x500", "events/cpu-s", 123456},
		{"BenchmarkEdgeIngest/256x500", "events/s", 50000},
		{"BenchmarkTierMemory", "edge-peak-MiB", 661},
		{"BenchmarkTierMemory", "503s", 0},
	} {
		if v, ok := got[c.bench][c.unit]; !ok || v != c.want {
			t.Errorf("%s %s: %v (present %v), want %v", c.bench, c.unit, v, ok, c.want)
		}
	}
	if len(got) != 2 {
		t.Errorf("%d benchmarks parsed, want 2: %v", len(got), got)
	}
}
