// Command benchreport reads `go test -bench` output (several packages,
// -count N) and prints, per pipeline stage, Whirlpool's median throughput
// beside the median of the baseline measured in the same run.
//
//	go test -run '^$' -bench . -cpu 1 -count 3 ./... | go run ./scripts/benchreport
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/whirlpool-events/whirlpool/internal/benchparse"
)

// stage pairs a benchmark with its baseline; names are package-relative.
type stage struct {
	name, pkg, ours, baseline, unit string
}

var stages = []stage{
	{"decode a Fluent Bit chunk", "internal/record", "DecodeChunk/whirlpool", "DecodeChunk/fluent-bit-go", "records/s"},
	{"record body to JSON", "internal/record", "AppendJSON/whirlpool", "AppendJSON/msgp+encoding-json", "records/s"},
	{"eventing: HTTP, 100 events per request", "inputs/eventing", "Handler/whirlpool/batch100", "Handler/naive/batch100", "events/s"},
	{"eventing: HTTP, 1 event per request", "inputs/eventing", "Handler/whirlpool/single", "Handler/naive/single", "events/s"},
	{"sqs output: ndjson packing", "outputs/sqs", "Output/whirlpool/ndjson", "Output/baseline/fluent-bit-go+encoding-json", "records/s"},
	{"sqs output: ndjson + gzip", "outputs/sqs", "Output/whirlpool/ndjson-gzip", "Output/baseline/fluent-bit-go+encoding-json", "records/s"},
	{"sqs output: ndjson + s2 (the shipped edge)", "outputs/sqs", "Output/whirlpool/ndjson-s2", "Output/baseline/fluent-bit-go+encoding-json", "records/s"},
	{"sqs input: decode packed messages", "inputs/sqs", "DecodeMessage/whirlpool", "DecodeMessage/baseline/encoding-json+msgp", "records/s"},
	{"sqs input: decode packed messages, s2", "inputs/sqs", "DecodeMessage/whirlpool/s2", "DecodeMessage/baseline/encoding-json+msgp", "records/s"},
	{"validation: valid events, 20 fields", "filters/validate", "Validate/valid", "BaselineEncodingJSON/valid", "records/s"},
	{"validation: 10% invalid", "filters/validate", "Validate/invalid10pct", "BaselineEncodingJSON/invalid10pct", "records/s"},
	{"validation: all invalid", "filters/validate", "Validate/invalid", "BaselineEncodingJSON/invalid", "records/s"},
	{"redshift output: plugin CPU (pg_copy)", "outputs/redshift", "PluginCPU/pg_copy", "PluginCPU/baseline_fluent-bit-go_encoding-json", "records/s"},
	{"redshift output: rows into PostgreSQL, pg_copy", "outputs/redshift", "LoadPostgres/pg_copy_serial", "LoadPostgres/baseline_insert_per_row", "rows/s"},
	{"redshift output: rows into PostgreSQL, insert", "outputs/redshift", "LoadPostgres/insert_serial", "LoadPostgres/baseline_insert_per_row", "rows/s"},
	{"end to end: HTTP to PostgreSQL, per CPU-second", "e2e", "Pipeline/whirlpool", "Pipeline/baseline", "events/cpu-s"},
}

// extra metrics printed for the end-to-end benchmark.
var latencyMetrics = []string{"p50-latency-ms", "p99-latency-ms", "events/s"}

func main() {
	results, err := benchparse.Parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	write(os.Stdout, results)
}

func human(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f M", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.0f k", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func write(w io.Writer, res benchparse.Results) {
	fmt.Fprintln(w, "| stage | Whirlpool | baseline (same run) | ratio | unit |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, st := range stages {
		ours, ok1 := benchparse.Median(res[st.pkg+" "+st.ours][st.unit])
		base, ok2 := benchparse.Median(res[st.pkg+" "+st.baseline][st.unit])
		if !ok1 {
			continue
		}
		b, ratio := "—", "—"
		if ok2 && base > 0 {
			b, ratio = human(base), fmt.Sprintf("%.1fx", ours/base)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", st.name, human(ours), b, ratio, st.unit)
	}
	for _, m := range latencyMetrics {
		if v, ok := benchparse.Median(res["e2e Pipeline/whirlpool"][m]); ok {
			fmt.Fprintf(w, "\nend to end %s: %.0f", m, v)
		}
	}
	fmt.Fprintln(w)
}
