// Package benchcpu reports a benchmark's work per CPU-second of the
// process. On a shared machine wall time counts the time other processes
// hold the core; the CPU this process used does not, so work per
// CPU-second is the steadier measure of a stage's cost.
package benchcpu

import (
	"syscall"
	"testing"
	"time"
)

// Used is the user and system CPU this process has used so far.
func Used(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Meter measures the CPU used from Start to Report.
type Meter struct{ start time.Duration }

// Start starts measuring; call it right after b.ResetTimer.
func Start(b *testing.B) Meter { return Meter{Used(b)} }

// Report reports n items done since Start per CPU-second, as unit (e.g.
// "records/cpu-s").
func (m Meter) Report(b *testing.B, n int, unit string) {
	if cpu := Used(b) - m.start; cpu > 0 {
		b.ReportMetric(float64(n)/cpu.Seconds(), unit)
	}
}
