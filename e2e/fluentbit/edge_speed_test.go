package fluentbit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// BenchmarkEdgeIngest: the shipped edge (conf/edge.conf: eventing input,
// sqs output, filesystem storage) in the real engine, under HTTP clients
// each posting JSON arrays of events as fast as they are answered, and, in
// the same run, the same load into Fluent Bit's own C http input with a
// null output (the anchor: what the engine's HTTP ingest costs).
//
// Sub-benchmarks are named CLIENTSxEVENTS (events per request); "http-null/"
// ones are the anchor, "http-null-filesystem/" the same with its chunks in
// files as the edge keeps them (the engine's storage cost, which the
// edge's kill -9 guarantee needs and the anchor does not pay). Each iteration of 256x500 sends WHIRLPOOL_BENCH_EVENTS
// events (default 512000), of 32x100 a quarter of them; run it with
// -benchtime 1x. It reports events per
// CPU-second of the Fluent Bit process (utime+stime from /proc/PID/stat)
// and events per second of wall time, both from the first request until
// (edge) the sqs output has delivered every accepted event to SQS, or
// (anchor) the last answer, and the CPU of Fluent Bit's engine thread
// alone per event (engine-thread-ns/event; engineThreadCPU): on the edge
// that is the engine's share of the path, its forward input and chunk
// files (of our code only the eventing input's collect runs there, under
// 1% of the edge's perf samples); in the anchor it is nearly all of the
// process. Twice the anchor's events per CPU-second leaves the edge, per
// event, half the anchor's CPU in all, so an engine thread that takes
// more than that alone rules it out. Before that window every client
// sends two requests (and the edge delivers them), so that it measures a
// running engine rather than its first, cold flushes. With
// WHIRLPOOL_PERF=1 the window is recorded by perf into
// build/perf-edge-NAME.data.
//
// What it checks (it fails otherwise): every request is answered 200 with
// {"accepted":N} for all its N events (edge) or 201 (anchor); a 503 is
// resent after its Retry-After and counted (503s/op; for the anchor a
// connection reset is resent and counted there too); the sqs output's
// delivered-events counter reaches the number accepted, and the messages in
// the queue, received after the window, carry exactly that many events
// (warm-up included)
// (whirlpool.count) and each message's body decodes (base64, then gzip or S2) to that
// many ndjson lines. Nothing here times a pass/fail.
//
// WHIRLPOOL_BENCH_PLUGINS names a directory holding in_eventing.so and
// out_sqs.so to use instead of build/ (e.g. a build of an older commit, to
// compare before and after in one session).
func BenchmarkEdgeIngest(b *testing.B) {
	events := envInt("WHIRLPOOL_BENCH_EVENTS", 512000)
	// With ack buffered a request is answered after the input's next
	// collect (once a second), so 32 clients of 100 events send at most
	// 3200 events a second: that load gets a quarter of the events (40 s,
	// about 0.9 CPU-seconds, so that the 10 ms ticks of /proc's CPU times
	// are about 1% of it).
	for _, shape := range []struct{ clients, perRequest, share int }{{256, 500, 1}, {32, 100, 4}} {
		name := fmt.Sprintf("%dx%d", shape.clients, shape.perRequest)
		bodies := requestBodies(64, shape.perRequest)
		requests := (events/shape.share + shape.perRequest - 1) / shape.perRequest
		total := requests * shape.perRequest
		// Two rounds of requests from every client before the window, so
		// that it measures a running edge, not its first flushes.
		warmup := 2 * shape.clients
		warmupEvents := warmup * shape.perRequest
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				e := startEdgeTier(b, nil)
				delivered := func(want int) func() error {
					return func() error {
						if n := metricValue(e.metrics, "whirlpool_sqs_out_events_total"); n < float64(want) {
							return fmt.Errorf("the sqs output delivered %v of %d events", n, want)
						}
						return nil
					}
				}
				sendLoad(b, e.url, shape.clients, warmup, bodies, http.StatusOK, shape.perRequest)
				waitFor(b, 5*time.Minute, "the warm-up events delivered to SQS", delivered(warmupEvents))
				b.StartTimer()
				pid := e.proc.Pid()
				sqsRequests := func() float64 { return metricValue(e.metrics, "whirlpool_sqs_out_requests_total") }
				cpu0, engine0, faults0, req0, start := processCPU(pid), engineThreadCPU(pid), minorFaults(pid), sqsRequests(), time.Now()
				stopPerf := perfRecord(b, pid, "edge-"+name)
				res := sendLoad(b, e.url, shape.clients, requests, bodies, http.StatusOK, shape.perRequest)
				waitFor(b, 5*time.Minute, "every accepted event delivered to SQS", delivered(warmupEvents+total))
				wall, cpu, engine := time.Since(start), processCPU(pid)-cpu0, engineThreadCPU(pid)-engine0
				faults := minorFaults(pid) - faults0
				b.StopTimer()
				b.ReportMetric((sqsRequests()-req0)/float64(total)*1e6, "sqs-requests/M-events")
				b.ReportMetric(float64(faults)*1000/float64(total), "page-faults/kevent")
				stopPerf()
				if n := queuedEvents(b, e.sqs, e.queueURL); n != warmupEvents+total {
					b.Fatalf("the queue holds %d events; %d were accepted", n, warmupEvents+total)
				}
				report(b, total, cpu, wall, res)
				b.ReportMetric(float64(engine.Nanoseconds())/float64(total), "engine-thread-ns/event")
			}
		})
		for _, anchor := range []struct {
			name       string
			filesystem bool
		}{{"http-null", false}, {"http-null-filesystem", true}} {
			b.Run(anchor.name+"/"+name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					f, url := startHTTPNull(b, anchor.filesystem)
					sendLoad(b, url, shape.clients, warmup, bodies, http.StatusCreated, 0)
					b.StartTimer()
					pid := f.Pid()
					cpu0, engine0, faults0, start := processCPU(pid), engineThreadCPU(pid), minorFaults(pid), time.Now()
					stopPerf := perfRecord(b, pid, anchor.name+"-"+name)
					res := sendLoad(b, url, shape.clients, requests, bodies, http.StatusCreated, 0)
					wall, cpu, engine := time.Since(start), processCPU(pid)-cpu0, engineThreadCPU(pid)-engine0
					b.ReportMetric(float64(minorFaults(pid)-faults0)*1000/float64(total), "page-faults/kevent")
					b.StopTimer()
					stopPerf()
					report(b, total, cpu, wall, res)
					b.ReportMetric(float64(engine.Nanoseconds())/float64(total), "engine-thread-ns/event")
				}
			})
		}
	}
}

func report(b *testing.B, events int, cpu, wall time.Duration, res loadResult) {
	b.ReportMetric(float64(events)/cpu.Seconds(), "events/cpu-s")
	b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
	b.ReportMetric(cpu.Seconds(), "cpu-s")
	b.ReportMetric(float64(res.unavailable), "503s")
}

// requestBodies makes n JSON array bodies of perRequest level_complete
// events (about 190 bytes each, as scripts/loadgen makes them).
func requestBodies(n, perRequest int) [][]byte {
	ts := time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00")
	out := make([][]byte, n)
	seq := 0
	for i := range out {
		var body bytes.Buffer
		body.WriteByte('[')
		for j := 0; j < perRequest; j++ {
			if j > 0 {
				body.WriteByte(',')
			}
			fmt.Fprintf(&body, `{"seq":%d,"run":"bench-edge","player_id":"p%04d","ts":"%s","level":%d,"stars":%d,"duration_ms":%d,"score":%d,"mode":"ranked"}`,
				seq, seq%5000, ts, 1+seq%500, seq%4, 5000+seq*7919%600000, seq*104729%1000000)
			seq++
		}
		body.WriteByte(']')
		out[i] = body.Bytes()
	}
	return out
}

type loadResult struct {
	unavailable int64 // 503 answers, resent
}

// sendLoad posts requests bodies (taken in turn) from clients goroutines,
// each waiting for its answer, to url/pixel_quest/1.6.1/level_complete. Every
// request must be answered want (a 503 is resent after Retry-After); when
// perRequest > 0 the answer must say all perRequest events were accepted.
func sendLoad(b testing.TB, url string, clients, requests int, bodies [][]byte, want, perRequest int) loadResult {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}, Timeout: 2 * time.Minute}
	defer client.CloseIdleConnections()
	target := url + "/pixel_quest/1.6.1/level_complete"
	var next, unavailable atomic.Int64
	var once sync.Once
	var failure error
	var failed atomic.Bool
	fail := func(err error) { once.Do(func() { failure = err; failed.Store(true) }) }
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= requests || failed.Load() {
					return
				}
				if err := postUntilTaken(client, target, bodies[i%len(bodies)], want, perRequest, &unavailable); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if failure != nil {
		b.Fatal(failure)
	}
	return loadResult{unavailable: unavailable.Load()}
}

func postUntilTaken(client *http.Client, url string, body []byte, want, perRequest int, unavailable *atomic.Int64) error {
	for attempt := 0; ; attempt++ {
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil && perRequest == 0 && attempt < 100 {
			// The C http input resets a kept-alive connection now and then
			// under this load; the anchor counts CPU only, so it resends.
			unavailable.Add(1)
			continue
		}
		if err != nil {
			return err
		}
		answer, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusServiceUnavailable && attempt < 100:
			unavailable.Add(1)
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(wait, 0))*time.Second + 10*time.Millisecond)
			continue
		case resp.StatusCode != want:
			return fmt.Errorf("POST %s: HTTP %d, want %d: %s", url, resp.StatusCode, want, answer)
		case perRequest > 0:
			var a struct {
				Accepted int `json:"accepted"`
			}
			if err := json.Unmarshal(answer, &a); err != nil || a.Accepted != perRequest {
				return fmt.Errorf("POST %s: answer %s, want %d events accepted", url, answer, perRequest)
			}
		}
		return nil
	}
}

// edgeTier is the shipped edge alone in the real engine, sending to its
// own SQS emulator.
type edgeTier struct {
	proc     *fluentBit
	sqs      *testenv.SQSServer
	queueURL string // direct to the emulator
	url      string // the eventing input's events endpoint
	metrics  string // the sqs output's /metrics
	eventing string // the eventing input's /metrics
	dir      string // holds edge-storage and the edge's log
}

// startEdgeTier starts conf/edge.conf, edited by edit when it is not nil,
// with the plugins of build/ (or of WHIRLPOOL_BENCH_PLUGINS).
func startEdgeTier(b testing.TB, edit func([]byte) []byte) *edgeTier {
	b.Helper()
	bin, root := engineAndRoot(b)
	e := &edgeTier{sqs: testenv.SQS(b, queueName)}
	e.queueURL = e.sqs.QueueURL(queueName)
	dir := testenv.ShortDir(b) // the eventing input's forward socket lives under it
	endpoint := "http://127.0.0.1:" + strconv.Itoa(e.sqs.Port)
	ports := testenv.FreePorts(b, 6)
	env := testenv.TierEnv(testenv.Pipeline{Storage: dir, Endpoint: endpoint,
		QueueURL: endpoint + "/" + testenv.SQSAccountID + "/" + queueName, Ports: ports}.Vars())
	var so map[string]string
	if d := os.Getenv("WHIRLPOOL_BENCH_PLUGINS"); d != "" {
		so = map[string]string{"in_eventing": filepath.Join(d, "in_eventing.so"), "out_sqs": filepath.Join(d, "out_sqs.so")}
	} else {
		so = testenv.PluginObjects(b, root)
	}
	conf, err := os.ReadFile(filepath.Join(root, "conf", "edge.conf"))
	if err != nil {
		b.Fatal(err)
	}
	if edit != nil {
		conf = edit(conf)
	}
	confPath := filepath.Join(dir, "edge.conf")
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		b.Fatal(err)
	}
	url := func(port, path string) string { return "http://127.0.0.1:" + port + path }
	e.url, e.metrics = url(ports[0], "/v1/events"), url(ports[3], "/metrics")
	e.dir, e.eventing = dir, url(ports[2], "/metrics")
	e.proc = newFluentBit(b, "edge", bin, []string{"-e", so["in_eventing"], "-e", so["out_sqs"], "-c", confPath},
		env, filepath.Join(dir, "edge.log"), func() error {
			return testenv.Healthy(url(ports[0], "/healthz"), url(ports[3], "/healthz"))
		})
	e.proc.Start()
	return e
}

// startHTTPNull starts Fluent Bit's C http input with a null output (Flush
// as the edge's; with filesystem, its chunks in files as the edge keeps
// them, else in memory) and returns it with the URL to post to.
func startHTTPNull(b *testing.B, filesystem bool) (*fluentBit, string) {
	b.Helper()
	bin, _ := engineAndRoot(b)
	dir := b.TempDir()
	port := testenv.FreePort(b)
	service, input := "", ""
	if filesystem { // as conf/edge.conf stores its chunks
		service = "\n    storage.path " + filepath.Join(dir, "storage") + "\n    storage.max_chunks_up 64"
		input = "\n    storage.type filesystem"
	}
	conf := "[SERVICE]\n    Flush 0.2\n    Log_Level info" + service + "\n[INPUT]\n    Name http\n    Listen 127.0.0.1\n    Port " + port +
		"\n    Tag events" + input + "\n[OUTPUT]\n    Name null\n    Match *\n"
	confPath := filepath.Join(dir, "http-null.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		b.Fatal(err)
	}
	f := newFluentBit(b, "http-null", bin, []string{"-c", confPath}, os.Environ(), filepath.Join(dir, "http-null.log"), func() error {
		resp, err := http.Post("http://127.0.0.1:"+port+"/ready", "application/json", bytes.NewReader([]byte(`{"ready":1}`)))
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
	f.Start()
	return f, "http://127.0.0.1:" + port + "/v1/events"
}

// queuedEvents receives every message of the queue and returns the events
// they carry: each message's whirlpool.count, checked against the ndjson
// lines of its body.
func queuedEvents(b testing.TB, s *testenv.SQSServer, queueURL string) int {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	total, empty := 0, 0
	for empty < 2 {
		out, err := s.Client().ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10,
			MessageAttributeNames: []string{"All"}, VisibilityTimeout: 600, WaitTimeSeconds: 0})
		if err != nil {
			b.Fatalf("ReceiveMessage: %v", err)
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		for _, m := range out.Messages {
			count, err := strconv.Atoi(aws.ToString(m.MessageAttributes["whirlpool.count"].StringValue))
			if err != nil {
				b.Fatalf("message without whirlpool.count: %v", err)
			}
			plain := testenv.DecodeBody(b, aws.ToString(m.MessageAttributes["whirlpool.format"].StringValue), aws.ToString(m.Body))
			if lines := bytes.Count(plain, []byte("\n")) + 1; lines != count {
				b.Fatalf("message says %d events and holds %d lines", count, lines)
			}
			total += count
		}
	}
	return total
}
