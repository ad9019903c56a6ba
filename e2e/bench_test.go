package e2e

import (
	"syscall"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// cpuTime is the user and system CPU this process has used: the test host,
// the four plugins' Go runtimes and the HTTP clients sending the events.
// The SQS emulator and PostgreSQL run in other processes and are not in it.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPipeline sends 100,000 events (5% bad) over HTTP through the
// whole pipeline into PostgreSQL and reports events per CPU-second of the
// Whirlpool process, events per second of wall time, and the receipt-to-row
// latency (loaded_at - fired_ts) p50 and p99. One iteration is one run; use
// -count for several.
func BenchmarkPipeline(b *testing.B) {
	b.Run("whirlpool", func(b *testing.B) {
		const events, perRequest, clients = 100000, 100, 48
		s := newStack(b, testenv.Postgres(b), stackOptions{})
		s.startProcessor()
		s.startEdge()
		exp := newExpected()
		reqs := workload(0, events, perRequest, exp)
		b.ResetTimer()
		cpu0, start := cpuTime(b), time.Now()
		s.send(reqs, clients, 0)
		s.finish(drainTimeout)
		wall, cpu := time.Since(start), cpuTime(b)-cpu0
		b.StopTimer()
		checkWorkload(b, s.db, exp)
		p50, p99, _, _ := latency(b, s.db, "events.level_up", "events.purchase_item", "failures.events")
		b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
		b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
		b.ReportMetric(p50*1000, "p50-latency-ms")
		b.ReportMetric(p99*1000, "p99-latency-ms")
	})
}
