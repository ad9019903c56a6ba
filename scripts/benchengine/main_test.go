package main

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := `goos: linux
BenchmarkEdgeIngest/256x500-2   	       1	10000 ns/op	    123456 events/cpu-s	  50000 events/s
BenchmarkTierMemory-2   	       1	15617977079 ns/op	         0 503s	     67567 accepted-events/s	       661.0 edge-peak-MiB
BenchmarkTierMemory-2   	       1	15617977079 ns/op	         2 503s	     60000 accepted-events/s	       700.0 edge-peak-MiB
BenchmarkTierMemory-2   	       1	15617977079 ns/op	         1 503s	     70000 accepted-events/s	       600.0 edge-peak-MiB
    memory_test.go:136: edge: peak RSS 661 MiB
PASS
`
	got, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		bench, unit string
		want        []float64
		median      float64
	}{
		{"BenchmarkEdgeIngest/256x500", "events/cpu-s", []float64{123456}, 123456},
		{"BenchmarkEdgeIngest/256x500", "events/s", []float64{50000}, 50000},
		{"BenchmarkTierMemory", "edge-peak-MiB", []float64{661, 700, 600}, 661},
		{"BenchmarkTierMemory", "503s", []float64{0, 2, 1}, 1},
		{"BenchmarkTierMemory", "accepted-events/s", []float64{67567, 60000, 70000}, 67567},
	} {
		vs := got[c.bench][c.unit]
		if !slices.Equal(vs, c.want) {
			t.Errorf("%s %s: %v, want %v (one per run, in order)", c.bench, c.unit, vs, c.want)
			continue
		}
		if m := median(slices.Clone(vs)); m != c.median {
			t.Errorf("%s %s: median %v, want %v", c.bench, c.unit, m, c.median)
		}
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of an even count: %v, want 2.5", m)
	}
	if len(got) != 2 {
		t.Errorf("%d benchmarks parsed, want 2: %v", len(got), got)
	}
}
