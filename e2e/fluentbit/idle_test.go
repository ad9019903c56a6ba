package fluentbit

import (
	"testing"
	"time"
)

// BenchmarkIdleCPU: both shipped tiers in the real engine with no traffic,
// and the CPU each process spends per second of wall time while idle (in
// milliseconds: 10 is 1% of a core). An edge runs as a sidecar beside
// every game server, most of them quiet most of the day, so what a tier
// costs while idle is paid many times over. The tiers settle for 5 s
// after they answer their health checks, then are measured for
// WHIRLPOOL_BENCH_SECONDS (default 20). Run it with -benchtime 1x.
func BenchmarkIdleCPU(b *testing.B) {
	seconds := envInt("WHIRLPOOL_BENCH_SECONDS", 20)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p := newPipeline(b, options{format: "conf"})
		time.Sleep(5 * time.Second)
		edge, proc := p.edge.Pid(), p.processor.Pid()
		e0, p0 := processCPU(edge), processCPU(proc)
		b.StartTimer()
		start := time.Now()
		time.Sleep(time.Duration(seconds) * time.Second)
		wall := time.Since(start)
		b.StopTimer()
		perSecond := func(cpu time.Duration) float64 { return float64(cpu.Milliseconds()) / wall.Seconds() }
		b.ReportMetric(perSecond(processCPU(edge)-e0), "edge-cpu-ms/s")
		b.ReportMetric(perSecond(processCPU(proc)-p0), "processor-cpu-ms/s")
	}
}
