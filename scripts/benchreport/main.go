// Command benchreport reads `go test -bench` output (several packages,
// -count N) and prints, per pipeline stage, Whirlpool's median throughput
// beside the median of the baseline measured in the same run.
//
//	go test -run '^$' -bench . -cpu 1 -count 3 ./... | go run ./scripts/benchreport
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
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

var (
	pkgLine   = regexp.MustCompile(`^pkg: github\.com/whirlpool-events/whirlpool/(.+)$`)
	benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)
)

func main() {
	results, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	write(os.Stdout, results)
}

// results maps "pkg Name" to metric unit to the values of every run.
type results map[string]map[string][]float64

func parse(r io.Reader) (results, error) {
	res := results{}
	pkg := ""
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		line := s.Text()
		if m := pkgLine.FindStringSubmatch(line); m != nil {
			pkg = m[1]
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := strings.Fields(m[2])
		key := pkg + " " + m[1]
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			if res[key] == nil {
				res[key] = map[string][]float64{}
			}
			res[key][f[i+1]] = append(res[key][f[i+1]], v)
		}
	}
	return res, s.Err()
}

func median(v []float64) (float64, bool) {
	if len(v) == 0 {
		return 0, false
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2], true
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

func write(w io.Writer, res results) {
	fmt.Fprintln(w, "| stage | Whirlpool | baseline (same run) | ratio | unit |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, st := range stages {
		ours, ok1 := median(res[st.pkg+" "+st.ours][st.unit])
		base, ok2 := median(res[st.pkg+" "+st.baseline][st.unit])
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
		if v, ok := median(res["e2e Pipeline/whirlpool"][m]); ok {
			fmt.Fprintf(w, "\nend to end %s: %.0f", m, v)
		}
	}
	fmt.Fprintln(w)
}
