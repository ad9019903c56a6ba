// Command benchengine turns the output of the real-engine benchmarks of
// e2e/fluentbit (go test -bench output on stdin) into the table of issue
// 14: each figure beside its target and the number the issue measured.
// scripts/bench engine runs it.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// dollarsPerRequest is SQS's price of a request (standard queue).
const dollarsPerRequest = 0.40 / 1e6

// figure is one row of the table: a metric of one benchmark.
type figure struct {
	what, bench, unit string
	target, issue     string
	// format turns the value into the cell; nil prints it rounded.
	format func(float64) string
}

var figures = []figure{
	{what: "edge events per CPU-second, 256 clients × 500 events", bench: "BenchmarkEdgeIngest/256x500", unit: "events/cpu-s", target: "≥ 200k (2× C http → null)", issue: "125k"},
	{what: "C http → null, same load", bench: "BenchmarkEdgeIngest/http-null/256x500", unit: "events/cpu-s", target: "(anchor)", issue: "95k"},
	{what: "edge events per CPU-second, 32 × 100", bench: "BenchmarkEdgeIngest/32x100", unit: "events/cpu-s", target: "≥ 150k", issue: "103k"},
	{what: "C http → null, 32 × 100", bench: "BenchmarkEdgeIngest/http-null/32x100", unit: "events/cpu-s", target: "(anchor)", issue: "76k"},
	{what: "edge rate reached, 256 × 500", bench: "BenchmarkEdgeIngest/256x500", unit: "events/s", target: "", issue: "92k"},
	{what: "processor rows per CPU-second (draining a preloaded queue)", bench: "BenchmarkProcessorDrain", unit: "rows/cpu-s", target: "≥ 150k", issue: "54.5k"},
	{what: "processor wall rate", bench: "BenchmarkProcessorDrain", unit: "rows/s", target: "≥ 50% of psql \\copy", issue: "~55k"},
	{what: "psql \\copy of the same rows", bench: "BenchmarkProcessorDrain", unit: "baseline-psql-copy-rows/s", target: "(baseline)", issue: "285k"},
	{what: "PostgreSQL CPU-seconds during the drain", bench: "BenchmarkProcessorDrain", unit: "postgres-cpu-s", target: "(reported)", issue: "", format: func(v float64) string { return fmt.Sprintf("%.1f s", v) }},
	{what: "receipt → row p50, ~1k events/s at random times, both tiers ticking together (one node)", bench: "BenchmarkReceiptToRow/random", unit: "p50-ms", target: "≤ 1.5 s", issue: "9.0 s", format: seconds},
	{what: "receipt → row p99, clients at random times", bench: "BenchmarkReceiptToRow/random", unit: "p99-ms", target: "≤ 3 s", issue: "13.0 s", format: seconds},
	{what: "rate of that run", bench: "BenchmarkReceiptToRow/random", unit: "events/s", target: "~1k", issue: "~800"},
	{what: "SQS requests per million events, that run (both tiers)", bench: "BenchmarkReceiptToRow/random", unit: "sqs-requests/M-events", target: "", issue: "", format: requests},
	{what: "receipt → row p50, ~1k events/s, tiers at separate nodes' phases (4 runs pooled)", bench: "BenchmarkReceiptToRow/random-apart", unit: "p50-ms", target: "≤ 1.5 s", issue: "", format: seconds},
	{what: "receipt → row p99, same runs", bench: "BenchmarkReceiptToRow/random-apart", unit: "p99-ms", target: "≤ 3 s", issue: "", format: seconds},
	{what: "receipt → row p50 at ~50k events/s (100 clients × 500 events at random)", bench: "BenchmarkReceiptToRow/50k", unit: "p50-ms", target: "≤ 1.5 s", issue: "", format: seconds},
	{what: "receipt → row p99 at ~50k events/s", bench: "BenchmarkReceiptToRow/50k", unit: "p99-ms", target: "≤ 3 s", issue: "", format: seconds},
	{what: "rate of that run", bench: "BenchmarkReceiptToRow/50k", unit: "events/s", target: "~50k", issue: ""},
	{what: "SQS requests per million events, that run (both tiers)", bench: "BenchmarkReceiptToRow/50k", unit: "sqs-requests/M-events", target: "", issue: "", format: requests},
	{what: "receipt → row p50, clients in step with the collects", bench: "BenchmarkReceiptToRow/lockstep", unit: "p50-ms", target: "(worst case)", issue: "", format: seconds},
	{what: "receipt → row p99, clients in step", bench: "BenchmarkReceiptToRow/lockstep", unit: "p99-ms", target: "(worst case)", issue: "", format: seconds},
	{what: "SQS requests per million events, edge at the highest rate", bench: "BenchmarkEdgeIngest/256x500", unit: "sqs-requests/M-events", target: "", issue: "", format: requests},
	{what: "edge peak RSS, 15 s at full load (256 × 500)", bench: "BenchmarkTierMemory", unit: "edge-peak-MiB", target: "≤ 300 MB", issue: "1.03 GB", format: mib},
	{what: "processor peak RSS, same run", bench: "BenchmarkTierMemory", unit: "processor-peak-MiB", target: "≤ 300 MB", issue: "1.04 GB", format: mib},
	{what: "rate accepted in the memory run", bench: "BenchmarkTierMemory", unit: "accepted-events/s", target: "", issue: "92k"},
}

func seconds(ms float64) string { return fmt.Sprintf("%.2f s", ms/1000) }
func mib(v float64) string      { return fmt.Sprintf("%.0f MiB", v) }
func requests(v float64) string {
	return fmt.Sprintf("%.0f ($%.4f per million events)", v, v*dollarsPerRequest)
}

// round prints v with a k or M suffix.
func round(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
}

// benchLine is a result line: name-CPUs, iterations, then value unit pairs.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parse reads go test -bench output: the metrics of each benchmark, one
// value per run (-count N gives N).
func parse(r io.Reader) (map[string]map[string][]float64, error) {
	out := map[string]map[string][]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		f := strings.Fields(m[2])
		metrics := out[m[1]]
		if metrics == nil {
			metrics = map[string][]float64{}
			out[m[1]] = metrics
		}
		for i := 0; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				metrics[f[i+1]] = append(metrics[f[i+1]], v)
			}
		}
	}
	return out, sc.Err()
}

// median of vs (not empty); vs is sorted in place.
func median(vs []float64) float64 {
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

func main() {
	results, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchengine:", err)
		os.Exit(1)
	}
	fmt.Println("| what | measured | target | issue 14 measured |")
	fmt.Println("|---|---|---|---|")
	for _, f := range figures {
		cell := "not run"
		if vs := results[f.bench][f.unit]; len(vs) > 0 {
			show := round
			if f.format != nil {
				show = f.format
			}
			// Several runs (scripts/bench engine with COUNT): the median,
			// then the range, since each run starts the tiers afresh and
			// so draws new collect phases.
			cell = show(median(vs))
			if len(vs) > 1 {
				cell = fmt.Sprintf("%s (median of %d; %s to %s)", cell, len(vs), show(vs[0]), show(vs[len(vs)-1]))
			}
		}
		fmt.Printf("| %s | %s | %s | %s |\n", f.what, cell, f.target, f.issue)
	}
}
