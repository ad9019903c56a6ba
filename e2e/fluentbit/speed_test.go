package fluentbit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/klauspost/compress/s2"
)

// BenchmarkProcessorDrain: the shipped processor, in the real engine,
// drains events preloaded into the queue as the shipped edge's sqs output
// packs them (compression s2: ndjson.s2.b64; WHIRLPOOL_BENCH_FORMAT=gzip
// preloads ndjson.gz.b64 instead; 500 events a message) into PostgreSQL. It reports rows
// per CPU-second of the Fluent Bit process, rows per second of wall time,
// its peak RSS (VmHWM) and the CPU-seconds of the database's backends, and, in the same run, the wall rate of
// psql's \copy of the same rows into a table of the same shape and index,
// and PostgreSQL's CPU-seconds for it: the baseline the database sets. One iteration is one drain of
// WHIRLPOOL_BENCH_EVENTS events (default 192000); run it with -benchtime 1x.
// It also reports the process's minor page faults per thousand rows: on a
// virtual machine each costs microseconds of kernel time, and most are
// Fluent Bit writing new chunk pages. With WHIRLPOOL_PERF=1 the drain is
// recorded by perf into build/perf-processor.data (perf report -i ...
// --no-children); WHIRLPOOL_PERF=page-faults records that event instead.
func BenchmarkProcessorDrain(b *testing.B) {
	events := envInt("WHIRLPOOL_BENCH_EVENTS", 192000)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		pt := startProcessorTier(b, nil, nil)
		run := randomHex(8)
		lines := drainWorkload(run, events)
		preload(b, pt, lines, 500, os.Getenv("WHIRLPOOL_BENCH_FORMAT") != "gzip")
		var dbName string
		if err := pt.db.QueryRow(`SELECT current_database()`).Scan(&dbName); err != nil {
			b.Fatal(err)
		}
		pg0 := postgresCPU(dbName)
		b.StartTimer()
		start := time.Now()
		pt.proc.Start()
		pid := pt.proc.Pid()
		cpu0, faults0 := processCPU(pid), minorFaults(pid)
		stopPerf := perfRecord(b, pid, "processor")
		// Wait on the output's own count of committed rows: counting the
		// table every 200 ms took a third of a second of the database's
		// CPU each time at 700,000 rows, and was charged to the drain.
		metrics := "http://127.0.0.1:" + pt.metricsPorts[1] + "/metrics"
		waitFor(b, 10*time.Minute, "every row loaded", func() error {
			if n := metricValue(metrics, "whirlpool_redshift_rows_loaded_total"); n < float64(events) {
				return fmt.Errorf("%v of %d rows committed", n, events)
			}
			return nil
		})
		wall, cpu := time.Since(start), processCPU(pid)-cpu0
		faults := minorFaults(pid) - faults0
		// How the records reached the engine: by the forward input, or by
		// the one-second collect the sqs input falls back to while the
		// forward input is paused under the backlog.
		inMetrics := "http://127.0.0.1:" + pt.metricsPorts[0] + "/metrics"
		forwarded := metricValue(inMetrics, "whirlpool_sqs_in_messages_forwarded_total") / metricValue(inMetrics, "whirlpool_sqs_in_messages_received_total")
		b.StopTimer()
		stopPerf()
		var n int
		if err := pt.db.QueryRow(`SELECT count(*) FROM pixel_quest.level_complete WHERE run = $1`, run).Scan(&n); err != nil || n != events {
			b.Fatalf("the table holds %d rows of the drain's %d (%v)", n, events, err)
		}
		peak, err := pt.proc.PeakRSS()
		if err != nil {
			b.Fatalf("processor peak RSS: %v", err)
		}
		pgCPU := postgresCPU(dbName) - pg0
		loading := loadingRate(b, pt, run)
		copyWall, copyPG := psqlCopyBaseline(b, pt, run)
		b.ReportMetric(float64(events)/cpu.Seconds(), "rows/cpu-s")
		b.ReportMetric(float64(events)/wall.Seconds(), "rows/s")
		b.ReportMetric(float64(faults)*1000/float64(events), "page-faults/krow")
		b.ReportMetric(forwarded, "forwarded-share")
		b.ReportMetric(loading, "rows/s-once-loading")
		b.ReportMetric(pgCPU.Seconds(), "postgres-cpu-s")
		b.ReportMetric(float64(peak>>20), "peak-MiB")
		b.ReportMetric(float64(events)/copyWall.Seconds(), "baseline-psql-copy-rows/s")
		b.ReportMetric(copyPG.Seconds(), "baseline-psql-copy-postgres-cpu-s")
	}
}

// loadingRate is the drain's wall rate once it loads, the issue's "rows/s
// wall once started": the rows of run loaded from the start of the first
// load's transaction to the start of the last one's (loaded_at is each
// transaction's start), divided by that time. It leaves out what the whole
// drain's rate also counts: Fluent Bit's start, the first receive, the
// last load and this benchmark's polling for it.
func loadingRate(b *testing.B, pt *processorTier, run string) float64 {
	var rows int
	var seconds float64
	err := pt.db.QueryRow(`WITH r AS (SELECT loaded_at FROM pixel_quest.level_complete WHERE run = $1),
		m AS (SELECT min(loaded_at) AS first, max(loaded_at) AS last FROM r)
		SELECT count(*) FILTER (WHERE r.loaded_at < m.last), extract(epoch FROM m.last - m.first)::float8 FROM r, m GROUP BY m.first, m.last`, run).Scan(&rows, &seconds)
	if err != nil {
		b.Fatalf("rate once loading: %v", err)
	}
	if seconds <= 0 {
		return 0 // one load: no rate between loads
	}
	return float64(rows) / seconds
}

// drainWorkload is events contract records of pixel_quest level_complete
// (definition v1, one row each), as ndjson lines.
func drainWorkload(run string, events int) [][]byte {
	fired := time.Now().UTC().Add(-time.Minute)
	out := make([][]byte, events)
	for i := range out {
		uuid := fmt.Sprintf("0190d6b4-7c2a-7%03x-8%03x-%012x", i>>24&0xfff, i>>12&0xfff, i)
		out[i] = []byte(fmt.Sprintf(`{"uuid":"%s","fired_ts":"%s","game":"pixel_quest","version":"1.2","event":"level_complete","body":{"seq":%d,"run":"%s","player_id":"player-%d","level":%d,"stars":%d,"duration_ms":%d,"ts":"%s"}}`,
			uuid, fired.Format("2006-01-02T15:04:05.000Z"), i, run, i%5000, 1+i%500, i%4, 1000+i%90000, fired.Format(time.RFC3339)))
	}
	return out
}

// preload sends lines as ndjson.gz.b64 messages (ndjson.s2.b64 with
// useS2) of perMessage events, ten messages a SendMessageBatch, straight
// to the emulator.
func preload(b testing.TB, pt *processorTier, lines [][]byte, perMessage int, useS2 bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var entries []sqstypes.SendMessageBatchRequestEntry
	flush := func() {
		if len(entries) == 0 {
			return
		}
		out, err := pt.sqs.Client().SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(pt.queueURL), Entries: entries})
		if err != nil || len(out.Failed) > 0 {
			b.Fatalf("SendMessageBatch: %v %v", err, out)
		}
		entries = entries[:0]
	}
	for i := 0; i < len(lines); i += perMessage {
		chunk := lines[i:min(i+perMessage, len(lines))]
		ndjson := bytes.Join(chunk, []byte("\n"))
		body, format := s2.Encode(nil, ndjson), "ndjson.s2.b64"
		if !useS2 {
			var z bytes.Buffer
			w := gzip.NewWriter(&z)
			w.Write(ndjson)
			w.Close()
			body, format = z.Bytes(), "ndjson.gz.b64"
		}
		entries = append(entries, sqstypes.SendMessageBatchRequestEntry{
			Id: aws.String(strconv.Itoa(len(entries))), MessageBody: aws.String(base64.StdEncoding.EncodeToString(body)),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				"whirlpool.format": {DataType: aws.String("String"), StringValue: aws.String(format)},
				"whirlpool.count":  {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(len(chunk)))}}})
		if len(entries) == 10 {
			flush()
		}
	}
	flush()
}

// psqlCopyBaseline copies the run's rows out of the loaded table and back
// into a new table of the same shape and index with psql's \copy, and
// returns how long the psql that ran the \copy took (start to exit, as
// before) and the CPU its PostgreSQL backend used, read before psql
// disconnects (a backend that has exited is counted by no process).
func psqlCopyBaseline(b testing.TB, pt *processorTier, run string) (time.Duration, time.Duration) {
	file := filepath.Join(pt.dir, "baseline.csv")
	for _, q := range []string{`CREATE SCHEMA IF NOT EXISTS bench`, `CREATE TABLE bench.copy_baseline (LIKE pixel_quest.level_complete INCLUDING ALL)`} {
		if _, err := pt.db.Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	psql := func(command string) {
		if out, err := exec.Command("psql", pt.dsn, "-v", "ON_ERROR_STOP=1", "-c", command).CombinedOutput(); err != nil {
			b.Fatalf("psql %s: %v\n%s", command, err, out)
		}
	}
	psql(`\copy (SELECT * FROM pixel_quest.level_complete WHERE run = '` + run + `') TO '` + file + `' CSV`)
	// psql reads its commands from a pipe: its backend's pid first, then
	// the \copy and a query whose answer says the \copy is done, while
	// the backend is still there to be read.
	start := time.Now()
	cmd := exec.Command("psql", pt.dsn, "-X", "-At", "-v", "ON_ERROR_STOP=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("psql: %v", err)
	}
	answers := bufio.NewScanner(stdout)
	answer := func(command string) string {
		if _, err := io.WriteString(stdin, command+"\n"); err != nil {
			b.Fatalf("psql %s: %v: %s", command, err, &stderr)
		}
		for answers.Scan() {
			if line := strings.TrimSpace(answers.Text()); line != "" && !strings.HasPrefix(line, "COPY ") {
				return line
			}
		}
		b.Fatalf("psql %s: no answer: %v %s", command, answers.Err(), &stderr)
		return ""
	}
	backend, err := strconv.Atoi(answer(`SELECT pg_backend_pid();`))
	if err != nil {
		b.Fatalf("psql: backend pid: %v", err)
	}
	if answer(`\copy bench.copy_baseline FROM '`+file+`' CSV`+"\n"+`SELECT 'copied';`) != "copied" {
		b.Fatalf("psql \\copy: %s", &stderr)
	}
	pgCPU := processCPU(backend)
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatalf("psql: %v: %s", err, &stderr)
	}
	return time.Since(start), pgCPU
}

// processCPU is the user and system CPU pid has used.
func processCPU(pid int) time.Duration {
	return statCPU(procStat(pid))
}

// statCPU is the user and system time in the fields of a stat file (as
// procStat returns them).
func statCPU(f []string) time.Duration {
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// engineThreadCPU is the CPU time so far of Fluent Bit's engine thread in
// process pid, the one named flb-pipeline: its event loop runs the inputs
// that are not threaded (the edge's forward input: reading its socket,
// parsing each message, writing the records into chunk files) and hands
// the chunks to the outputs' workers. A Go runtime thread started from
// that thread (during a collect) takes its name too, later: the engine's
// own is the lowest thread id of that name.
func engineThreadCPU(pid int) time.Duration {
	dir := "/proc/" + strconv.Itoa(pid) + "/task/"
	tasks, _ := os.ReadDir(dir)
	first := -1
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil || (first >= 0 && tid > first) {
			continue
		}
		if comm, err := os.ReadFile(dir + t.Name() + "/comm"); err == nil && strings.TrimSpace(string(comm)) == "flb-pipeline" {
			first = tid
		}
	}
	if first < 0 {
		return 0
	}
	return statCPU(statFields(dir + strconv.Itoa(first) + "/stat"))
}

// minorFaults is the minor page faults of process pid so far: each is a
// page touched for the first time (or again after being returned to the
// kernel), and on a virtual machine each costs microseconds of kernel time.
func minorFaults(pid int) int64 {
	f := procStat(pid)
	if len(f) < 8 {
		return 0
	}
	n, _ := strconv.ParseInt(f[7], 10, 64)
	return n
}

// procStat is the fields of /proc/PID/stat after the command (which may
// hold spaces, in parentheses): state first.
func procStat(pid int) []string {
	return statFields("/proc/" + strconv.Itoa(pid) + "/stat")
}

// statFields is the fields of a process's or thread's stat file after the
// command, as procStat returns them.
func statFields(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
}

// postgresCPU sums the CPU of the running backends of database db (their
// process title names it): the server is shared with other tests, whose
// backends are not counted, and neither are the server's background
// processes (WAL writer, checkpointer) nor backends that exit in between.
func postgresCPU(db string) time.Duration {
	dirs, _ := os.ReadDir("/proc")
	var total time.Duration
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/" + d.Name() + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
			continue
		}
		if title, err := os.ReadFile("/proc/" + d.Name() + "/cmdline"); err == nil && bytes.Contains(title, []byte(" "+db+" ")) {
			total += processCPU(pid)
		}
	}
	return total
}

// perfRecord records pid with perf into build/perf-NAME.data when
// WHIRLPOOL_PERF is set, and returns the function that stops it.
// WHIRLPOOL_PERF=1 samples CPU time; any other value names the perf event
// to record instead (page-faults, say, to find who touches fresh memory).
func perfRecord(b testing.TB, pid int, name string) func() {
	event := os.Getenv("WHIRLPOOL_PERF")
	if event == "" {
		return func() {}
	}
	root, _ := filepath.Abs("../..")
	out := filepath.Join(root, "build", "perf-"+name+".data")
	sample := []string{"-F", "1999"} // a drain of a few seconds gets thousands of samples
	if event != "1" {
		sample = []string{"-e", event}
	}
	cmd := exec.Command("perf", append(append([]string{"record"}, sample...), "-g", "-p", strconv.Itoa(pid), "-o", out)...)
	if log, err := os.Create(strings.TrimSuffix(out, ".data") + ".log"); err == nil {
		cmd.Stdout, cmd.Stderr = log, log // perf's own messages: threads it could not follow, lost samples
		defer log.Close()
	}
	if err := cmd.Start(); err != nil {
		b.Logf("perf: %v", err)
		return func() {}
	}
	return func() {
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
		b.Logf("perf data: %s", out)
	}
}

// BenchmarkReceiptToRow: both shipped tiers in the real engine under
// steady HTTP load (the shapes below), and the time from receipt at the
// edge to the row in PostgreSQL (loaded_at - fired_ts) of every row loaded
// (an expanded event has a row per element), p50 and p99, the SQS
// requests of both tiers (what SQS bills) per million events, and what a
// slow run may have waited on: the times Fluent Bit paused an input of
// each tier and the edge's 503 answers. One
// iteration runs WHIRLPOOL_BENCH_SECONDS of load (default 20); run it with
// -benchtime 1x.
//
// Both tiers run on this one machine, and Fluent Bit starts every timer
// on a whole second of the machine's monotonic clock (lib/monkey's
// mk_event_timeout_create), so both inputs' 1 s collects tick together: a
// message the edge sends after its collect waits for the processor's
// collect one second after the edge's, whatever the start-up order. Tiers
// on different nodes tick at unrelated phases; README "Receipt-to-row
// latency, and its knobs" works out what that changes.
func BenchmarkReceiptToRow(b *testing.B) {
	seconds := envInt("WHIRLPOOL_BENCH_SECONDS", 20)
	// lockstep: 40 clients, each posting again as soon as it is answered.
	// All are answered at the same collect, so they post in step and each
	// event waits a whole collect interval at the edge: the worst case.
	// random: 250 clients pausing a random time (mean 2 s) between
	// requests, about 1k events/s arriving at random, as a crowd of game
	// clients sends them: an event waits half a collect interval on
	// average.
	// 50k: the high rate, 100 clients posting 500-event requests
	// at random times, 1 s apart on average counted from each planned
	// start (openLoop), not from the answer: 50k events/s offered however
	// fast the edge answers.
	// flat-out: the same clients pausing 0.5 s on average after each
	// answer: as many events as the machine takes, beyond 50k on a fast
	// one. (Until 2026-12-02 this was the 50k shape, with room for 60k
	// events a second: its rate was that cap.)
	shapes := []struct {
		name     string
		clients  int
		perBatch int
		pace     time.Duration
		random   bool
		openLoop bool
		seconds  int // at most (the run's rows are all read back)
		// apart runs the load four times, the edge's clock set ahead of
		// the processor's by a random offset in each quarter second
		// (timensExec): the phases between tiers on separate nodes, all
		// rows pooled. Without it both tiers tick together, as on one node.
		apart bool
	}{
		{"lockstep", 40, 10, 50 * time.Millisecond, false, false, seconds, false},
		{"random", 250, 10, 2 * time.Second, true, false, seconds, false},
		{"random-apart", 250, 10, 2 * time.Second, true, false, min(seconds, 10), true},
		{"50k", 100, 500, time.Second, true, true, min(seconds, 10), false},
		{"flat-out", 100, 500, 500 * time.Millisecond, true, false, min(seconds, 10), false},
	}
	for _, shape := range shapes {
		b.Run(shape.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				clocks := []time.Duration{0}
				if shape.apart {
					clocks = clocks[:0]
					for q := range 4 {
						clocks = append(clocks, time.Duration(q)*250*time.Millisecond+time.Duration(mrand.Int64N(int64(250*time.Millisecond))))
					}
				}
				var runs []latencyRun
				for _, clock := range clocks {
					p := newPipeline(b, options{format: "conf", edgeClock: clock})
					p.load.pace, p.load.randomPace, p.load.openLoop, p.load.perBatch = shape.pace, shape.random, shape.openLoop, shape.perBatch
					// Room for the whole run: 120k events/s at most.
					p.load.limit = max(p.load.limit, int64(120_000*shape.seconds))
					b.StartTimer()
					r := receiptToRow(b, p, shape.clients, shape.seconds)
					b.StopTimer()
					if shape.apart {
						b.Logf("edge clock %v ahead: p50 %.2f s, p99 %.2f s over %d rows", clock.Round(time.Millisecond), r.percentile(0.5), r.percentile(0.99), len(r.latencies))
						p.edge.Kill9()
						p.processor.Kill9()
					}
					runs = append(runs, r)
				}
				reportLatency(b, runs)
			}
		})
	}
}

// latencyRun is what one load run measured.
type latencyRun struct {
	latencies []float64 // loaded_at - fired_ts of every row, seconds, sorted
	accepted  int64     // events answered 2xx
	requests  float64   // SQS requests of both tiers
	seconds   int       // of load
	// What a slow run may be waiting on: the inputs Fluent Bit paused in
	// each tier (its "[input] NAME paused (...)" lines: buffer limits),
	// and the requests the edge answered 503.
	edgePauses, procPauses, refused int
}

// percentile interpolates between the closest ranks, as PostgreSQL's
// percentile_cont does.
func (r latencyRun) percentile(q float64) float64 {
	l := r.latencies
	if len(l) == 0 {
		return 0
	}
	pos := q * float64(len(l)-1)
	i := int(pos)
	if i+1 >= len(l) {
		return l[len(l)-1]
	}
	return l[i] + (pos-float64(i))*(l[i+1]-l[i])
}

// reportLatency reports the runs pooled: every row's latency counts once.
func reportLatency(b *testing.B, runs []latencyRun) {
	var all latencyRun
	for _, r := range runs {
		all.latencies = append(all.latencies, r.latencies...)
		all.accepted += r.accepted
		all.requests += r.requests
		all.seconds += r.seconds
		all.edgePauses += r.edgePauses
		all.procPauses += r.procPauses
		all.refused += r.refused
	}
	if len(all.latencies) == 0 {
		b.Fatal("no rows loaded")
	}
	slices.Sort(all.latencies)
	secs := float64(all.seconds)
	b.ReportMetric(float64(len(all.latencies))/secs, "rows/s")
	b.ReportMetric(float64(all.accepted)/secs, "events/s")
	b.ReportMetric(all.requests/float64(all.accepted)*1e6, "sqs-requests/M-events")
	b.ReportMetric(all.percentile(0.5)*1000, "p50-ms")
	b.ReportMetric(all.percentile(0.99)*1000, "p99-ms")
	b.ReportMetric(all.latencies[0]*1000, "min-ms")
	b.ReportMetric(all.latencies[len(all.latencies)-1]*1000, "max-ms")
	b.ReportMetric(float64(all.edgePauses), "edge-pauses")
	b.ReportMetric(float64(all.procPauses), "processor-pauses")
	b.ReportMetric(float64(all.refused), "503s")
}

// receiptToRow runs clients against p for seconds, waits until every
// accepted event is a row, and returns the rows' receipt to row latency
// (loaded_at - fired_ts) and the SQS requests of both tiers.
func receiptToRow(b *testing.B, p *pipeline, clients, seconds int) latencyRun {
	requests := func() float64 {
		return metricValue(p.metricsURLs["out_sqs"], "whirlpool_sqs_out_requests_total") + metricValue(p.metricsURLs["in_sqs"], "whirlpool_sqs_in_requests_total")
	}
	req0 := requests()
	p.load.Start(clients, 0)
	time.Sleep(time.Duration(seconds) * time.Second)
	p.load.Stop()
	b.StopTimer()
	p.settle([]string{"steady"}, 2*time.Minute)
	r := latencyRun{accepted: p.load.accepted(), requests: requests() - req0, seconds: seconds,
		edgePauses: p.edge.LogCount(" paused ("), procPauses: p.processor.LogCount(" paused ("), refused: int(p.load.overloaded.Load())}
	for _, t := range []struct {
		name string
		f    *fluentBit
	}{{"edge", p.edge}, {"processor", p.processor}} {
		if lines := t.f.LogLines(12, " paused (", " resume", "paused by Fluent Bit"); len(lines) > 0 {
			b.Logf("%s: inputs paused during the run:\n%s", t.name, strings.Join(lines, "\n"))
		}
	}
	var union []string
	for _, t := range eventTables {
		if ok, err := tableExists(p.db, t); err == nil && ok {
			union = append(union, `SELECT extract(epoch FROM loaded_at - fired_ts)::float8 AS s FROM `+t)
		}
	}
	if len(union) == 0 {
		b.Fatal("no event table holds rows")
	}
	rows, err := p.db.Query(`SELECT s FROM (` + strings.Join(union, " UNION ALL ") + `) AS l ORDER BY s`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s float64
		if err := rows.Scan(&s); err != nil {
			b.Fatal(err)
		}
		r.latencies = append(r.latencies, s)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return r
}

// envInt is the positive integer in the environment variable name (a
// benchmark's size, e.g. WHIRLPOOL_BENCH_SECONDS), else def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
