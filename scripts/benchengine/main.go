// Command benchengine turns the output of the real-engine benchmarks of
// e2e/fluentbit (go test -bench output on stdin) into the table of issue
// 14: each figure beside its target and the number the issue measured.
// scripts/bench engine runs it.
package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"github.com/whirlpool-events/whirlpool/internal/benchparse"
)

// dollarsPerRequest is SQS's price of a request (standard queue).
const dollarsPerRequest = 0.40 / 1e6

// enginePkg is the package of the engine benchmarks, as benchparse keys it.
const enginePkg = "e2e/fluentbit"

// figure is one row of the table: a metric of one benchmark (its name
// without "Benchmark").
type figure struct {
	what, bench, unit string
	target, issue     string
	// format turns the value into the cell; nil prints it rounded.
	format func(float64) string
}

var figures = []figure{
	{what: "edge events per CPU-second, 256 clients × 500 events", bench: "EdgeIngest/256x500", unit: "events/cpu-s", target: "≥ 200k (2× C http → null)", issue: "125k"},
	{what: "C http → null, same load", bench: "EdgeIngest/http-null/256x500", unit: "events/cpu-s", target: "(anchor)", issue: "95k"},
	{what: "C http → null with its chunks in files, as the edge keeps them", bench: "EdgeIngest/http-null-filesystem/256x500", unit: "events/cpu-s", target: "(reported)", issue: ""},
	{what: "edge: CPU an event of Fluent Bit's engine thread alone (its forward input, parsing and writing chunk files), 256 × 500", bench: "EdgeIngest/256x500", unit: "engine-thread-ns/event", target: "2× C leaves the whole edge half of C's CPU an event (next row)", issue: "", format: micros},
	{what: "C http → null, CPU an event of its engine thread (nearly all of its process)", bench: "EdgeIngest/http-null/256x500", unit: "engine-thread-ns/event", target: "(anchor)", issue: "", format: micros},
	{what: "edge events per CPU-second, 32 × 100", bench: "EdgeIngest/32x100", unit: "events/cpu-s", target: "≥ 150k", issue: "103k"},
	{what: "C http → null, 32 × 100", bench: "EdgeIngest/http-null/32x100", unit: "events/cpu-s", target: "(anchor)", issue: "76k"},
	{what: "edge rate reached, 256 × 500", bench: "EdgeIngest/256x500", unit: "events/s", target: "", issue: "92k"},
	{what: "processor rows per CPU-second (draining a preloaded queue)", bench: "ProcessorDrain", unit: "rows/cpu-s", target: "≥ 150k", issue: "54.5k"},
	{what: "processor wall rate once loading (first to last load)", bench: "ProcessorDrain", unit: "rows/s-once-loading", target: "≥ 50% of psql \\copy", issue: "~55k"},
	{what: "processor wall rate, whole drain (Fluent Bit's start to the last row seen)", bench: "ProcessorDrain", unit: "rows/s", target: "", issue: ""},
	{what: "psql \\copy of the same rows", bench: "ProcessorDrain", unit: "baseline-psql-copy-rows/s", target: "(baseline)", issue: "285k"},
	{what: "PostgreSQL CPU-seconds during the drain", bench: "ProcessorDrain", unit: "postgres-cpu-s", target: "(reported)", issue: "", format: func(v float64) string { return fmt.Sprintf("%.1f s", v) }},
	{what: "processor peak RSS, draining that backlog", bench: "ProcessorDrain", unit: "peak-MiB", target: "≤ 300 MB", issue: "", format: mib},
	{what: "share of the drain's messages on the forward path (the rest took the one-second collect)", bench: "ProcessorDrain", unit: "forwarded-share", target: "", issue: "", format: func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) }},
	{what: "receipt → row p50, ~1k events/s at random times, both tiers ticking together (one node)", bench: "ReceiptToRow/random", unit: "p50-ms", target: "≤ 1.5 s", issue: "9.0 s", format: seconds},
	{what: "receipt → row p99, clients at random times", bench: "ReceiptToRow/random", unit: "p99-ms", target: "≤ 3 s", issue: "13.0 s", format: seconds},
	{what: "rate of that run", bench: "ReceiptToRow/random", unit: "events/s", target: "~1k", issue: "~800"},
	{what: "SQS requests per million events, that run (both tiers)", bench: "ReceiptToRow/random", unit: "sqs-requests/M-events", target: "", issue: "", format: requests},
	{what: "receipt → row p50, ~1k events/s, tiers at separate nodes' phases (4 runs pooled)", bench: "ReceiptToRow/random-apart", unit: "p50-ms", target: "≤ 1.5 s", issue: "", format: seconds},
	{what: "receipt → row p99, same runs", bench: "ReceiptToRow/random-apart", unit: "p99-ms", target: "≤ 3 s", issue: "", format: seconds},
	{what: "receipt → row p50 at ~50k events/s (100 clients × 500 events, each at random times 1 s apart on average)", bench: "ReceiptToRow/50k", unit: "p50-ms", target: "≤ 1.5 s", issue: "", format: seconds},
	{what: "receipt → row p99 at ~50k events/s", bench: "ReceiptToRow/50k", unit: "p99-ms", target: "≤ 3 s", issue: "", format: seconds},
	{what: "rate of that run", bench: "ReceiptToRow/50k", unit: "events/s", target: "~50k", issue: ""},
	{what: "SQS requests per million events, that run (both tiers)", bench: "ReceiptToRow/50k", unit: "sqs-requests/M-events", target: "", issue: "", format: requests},
	{what: "times Fluent Bit paused an edge input in that run (buffer limits)", bench: "ReceiptToRow/50k", unit: "edge-pauses", target: "(reported)", issue: ""},
	{what: "times it paused a processor input in that run", bench: "ReceiptToRow/50k", unit: "processor-pauses", target: "(reported)", issue: ""},
	{what: "receipt → row p50, flat out (the same clients 0.5 s after each answer)", bench: "ReceiptToRow/flat-out", unit: "p50-ms", target: "(beyond 50k)", issue: "", format: seconds},
	{what: "receipt → row p99, flat out", bench: "ReceiptToRow/flat-out", unit: "p99-ms", target: "(beyond 50k)", issue: "", format: seconds},
	{what: "rate of that run", bench: "ReceiptToRow/flat-out", unit: "events/s", target: "", issue: ""},
	{what: "receipt → row p50, clients in step with the collects", bench: "ReceiptToRow/lockstep", unit: "p50-ms", target: "(worst case)", issue: "", format: seconds},
	{what: "receipt → row p99, clients in step", bench: "ReceiptToRow/lockstep", unit: "p99-ms", target: "(worst case)", issue: "", format: seconds},
	{what: "SQS requests per million events, edge at the highest rate", bench: "EdgeIngest/256x500", unit: "sqs-requests/M-events", target: "", issue: "", format: requests},
	{what: "edge peak RSS, 15 s at full load (256 × 500)", bench: "TierMemory", unit: "edge-peak-MiB", target: "≤ 300 MB", issue: "1.03 GB", format: mib},
	{what: "processor peak RSS, same run", bench: "TierMemory", unit: "processor-peak-MiB", target: "≤ 300 MB", issue: "1.04 GB", format: mib},
	{what: "rate accepted in the memory run", bench: "TierMemory", unit: "accepted-events/s", target: "", issue: "92k"},
	{what: "edge CPU while idle (both tiers up, no traffic)", bench: "IdleCPU", unit: "edge-cpu-ms/s", target: "(reported)", issue: "", format: idle},
	{what: "processor CPU while idle", bench: "IdleCPU", unit: "processor-cpu-ms/s", target: "(reported)", issue: "", format: idle},
}

func seconds(ms float64) string { return fmt.Sprintf("%.2f s", ms/1000) }
func mib(v float64) string      { return fmt.Sprintf("%.0f MiB", v) }
func micros(ns float64) string  { return fmt.Sprintf("%.2f µs", ns/1000) }
func idle(v float64) string     { return fmt.Sprintf("%.1f ms of CPU a second", v) }
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

func main() {
	results, err := benchparse.Parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchengine:", err)
		os.Exit(1)
	}
	write(os.Stdout, results)
}

// write prints the table: each figure beside its target and issue 14's
// number.
func write(w io.Writer, results benchparse.Results) {
	fmt.Fprintln(w, "| what | measured | target | issue 14 measured |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, f := range figures {
		cell := "not run"
		vs := results[enginePkg+" "+f.bench][f.unit]
		if m, ok := benchparse.Median(vs); ok {
			show := round
			if f.format != nil {
				show = f.format
			}
			// Several runs (scripts/bench engine with COUNT): the median,
			// then the range, since each run starts the tiers afresh and
			// so draws new collect phases.
			cell = show(m)
			if len(vs) > 1 {
				cell = fmt.Sprintf("%s (median of %d; %s to %s)", cell, len(vs), show(slices.Min(vs)), show(slices.Max(vs)))
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", f.what, cell, f.target, f.issue)
	}
}
