package benchparse

import (
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := `goos: linux
BenchmarkBare-2   	       1	10 ns/op
pkg: github.com/whirlpool-events/whirlpool/e2e/fluentbit
BenchmarkEdgeIngest/256x500-2   	       1	10000 ns/op	    123456 events/cpu-s	  50000 events/s
BenchmarkTierMemory-2   	       1	15617977079 ns/op	         0 503s	       661.0 edge-peak-MiB
BenchmarkTierMemory-2   	       1	15617977079 ns/op	         2 503s	       700.0 edge-peak-MiB
    memory_test.go:136: edge: peak RSS 661 MiB
pkg: github.com/whirlpool-events/whirlpool/inputs/eventing
BenchmarkValidate/encoding-json.Valid	  884994	      1203 ns/op	 384.08 MB/s
PASS
`
	got, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key, unit string
		want      []float64
	}{
		{" Bare", "ns/op", []float64{10}},
		{"e2e/fluentbit EdgeIngest/256x500", "events/cpu-s", []float64{123456}},
		{"e2e/fluentbit EdgeIngest/256x500", "events/s", []float64{50000}},
		{"e2e/fluentbit TierMemory", "edge-peak-MiB", []float64{661, 700}},
		{"e2e/fluentbit TierMemory", "503s", []float64{0, 2}},
		{"inputs/eventing Validate/encoding-json.Valid", "MB/s", []float64{384.08}},
	} {
		if vs := got[c.key][c.unit]; !slices.Equal(vs, c.want) {
			t.Errorf("%q %s: %v, want %v (one per run, in order)", c.key, c.unit, vs, c.want)
		}
	}
	if len(got) != 4 {
		t.Errorf("%d benchmarks parsed, want 4: %v", len(got), got)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
		ok   bool
	}{
		{nil, 0, false},
		{[]float64{3}, 3, true},
		{[]float64{661, 700, 600}, 661, true},
		{[]float64{4, 1, 3, 2}, 2.5, true},
	} {
		in := slices.Clone(c.in)
		if got, ok := Median(in); got != c.want || ok != c.ok {
			t.Errorf("Median(%v) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
		if !slices.Equal(in, c.in) {
			t.Errorf("Median reordered its input: %v", in)
		}
	}
}
