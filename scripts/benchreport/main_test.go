package main

import (
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/benchparse"
)

const sample = `goos: linux
pkg: github.com/whirlpool-events/whirlpool/internal/record
BenchmarkDecodeChunk/whirlpool         	    2655	    432251 ns/op	1022.55 MB/s	   2000000 records/s	       0 B/op	       0 allocs/op
BenchmarkDecodeChunk/whirlpool         	    2683	    444589 ns/op	 994.18 MB/s	   3000000 records/s	       0 B/op	       0 allocs/op
BenchmarkDecodeChunk/whirlpool         	    2691	    446454 ns/op	 990.02 MB/s	   1000000 records/s	       0 B/op	       0 allocs/op
BenchmarkDecodeChunk/fluent-bit-go     	      84	  13738158 ns/op	  32.17 MB/s	     100000 records/s	 6011442 B/op	  230015 allocs/op
pkg: github.com/whirlpool-events/whirlpool/inputs/eventing
BenchmarkValidate/encoding-json.Valid-2	  884994	      1203 ns/op	 384.08 MB/s
`

func TestReportTakesMediansAndPairsBaselines(t *testing.T) {
	res, err := benchparse.Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	write(&b, res)
	want := "| decode a Fluent Bit chunk | 2.00 M | 100 k | 20.0x | records/s |"
	if !strings.Contains(b.String(), want) {
		t.Errorf("report:\n%s\nwant a row %q", b.String(), want)
	}
	if _, ok := res["inputs/eventing Validate/encoding-json.Valid"]["ns/op"]; !ok {
		t.Errorf("the -N cpu suffix must be stripped and the package kept: %v", res)
	}
	if strings.Contains(b.String(), "validation") {
		t.Error("a stage without results must be left out")
	}
}
