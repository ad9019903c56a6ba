package fluentbit

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// metricValue sums every sample of a metric (all its label sets) on a
// /metrics page; -1 when the page cannot be read.
func metricValue(url, name string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	total := 0.0
	for _, line := range strings.Split(string(body), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(rest)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			total += v
		}
	}
	return total
}

// accepted is how many events the load had answered 2xx.
func (l *load) accepted() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, b := range l.batches {
		if b.ok {
			n += int64(len(b.exp))
		}
	}
	return n
}

// benchSeconds is WHIRLPOOL_BENCH_SECONDS, else def.
func benchSeconds(def int) time.Duration {
	if v, err := strconv.Atoi(os.Getenv("WHIRLPOOL_BENCH_SECONDS")); err == nil && v > 0 {
		return time.Duration(v) * time.Second
	}
	return time.Duration(def) * time.Second
}

// BenchmarkEdgeCPU: HTTP clients without pause (each waits for its answer)
// against the shipped edge (eventing → sqs, filesystem storage, both tiers
// running) and, as the anchor, against Fluent Bit's own C http input →
// null output, in the same run: events answered 2xx per CPU-second of the
// Fluent Bit process, for 256 clients × 500-event requests and 32 × 100.
// For the edge also the SendMessageBatch requests (what SQS bills) per
// million events at the rate reached. WHIRLPOOL_BENCH_SECONDS of load
// (default 10) per case; run it with -benchtime 1x.
func BenchmarkEdgeCPU(b *testing.B) {
	for _, shape := range []struct{ clients, perBatch int }{{256, 500}, {32, 100}} {
		for _, target := range []string{"whirlpool", "http-null"} {
			b.Run(fmt.Sprintf("%s/%dx%d", target, shape.clients, shape.perBatch), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					var l *load
					var f *fluentBit
					sqsRequests := func() float64 { return 0 }
					if target == "whirlpool" {
						p := newPipeline(b, options{format: "conf"})
						l, f = p.load, p.edge
						sqsRequests = func() float64 { return metricValue(p.metricsURLs["out_sqs"], "whirlpool_sqs_out_requests_total") }
					} else {
						f, l = startHTTPNull(b)
					}
					l.perBatch, l.pace, l.limit = shape.perBatch, 0, 1<<40
					pid := f.Pid()
					cpu0, req0 := processCPU(pid), sqsRequests()
					b.StartTimer()
					start := time.Now()
					l.Start(shape.clients, 0)
					time.Sleep(benchSeconds(10))
					l.Stop()
					wall := time.Since(start)
					b.StopTimer()
					cpu, n := processCPU(pid)-cpu0, l.accepted()
					b.ReportMetric(float64(n)/cpu.Seconds(), "events/cpu-s")
					b.ReportMetric(float64(n)/wall.Seconds(), "events/s")
					if target == "whirlpool" {
						time.Sleep(3 * time.Second) // the last flushes leave
						b.ReportMetric((sqsRequests()-req0)/float64(n)*1e6, "sqs-requests/M-events")
					}
				}
			})
		}
	}
}

// startHTTPNull starts Fluent Bit's own http input → null output, the
// anchor of the edge's figures, and a load aimed at it.
func startHTTPNull(b testing.TB) (*fluentBit, *load) {
	bin, _ := engineAndRoot(b)
	port := testenv.FreePorts(b, 1)[0]
	dir := b.TempDir()
	f := newFluentBit(b, "http-null", bin, []string{"-i", "http", "-p", "listen=127.0.0.1", "-p", "port=" + port, "-o", "null", "-m", "*", "-f", "0.2"},
		os.Environ(), filepath.Join(dir, "http-null.log"), func() error {
			c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
			if err != nil {
				return err
			}
			return c.Close()
		})
	f.Start()
	return f, newLoad("http://127.0.0.1:"+port+"/v1/events", "")
}
