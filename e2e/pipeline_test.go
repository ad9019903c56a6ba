package e2e

import (
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// drainTimeout bounds how long a pipeline may take to deliver what was
// sent; it is a deadline for something to happen, never a measurement.
const drainTimeout = 3 * time.Minute

// TestPipelineExactlyOnce runs the whole pipeline (HTTP → eventing → sqs
// output, packed ndjson gzip'd → local-aws-sqs → sqs input validating
// against the model store → redshift output, pg_copy, auto_create, dedupe →
// PostgreSQL) with 100,000 events, 5% of them bad in five known ways: every
// good event lands exactly once in every destination table of its
// definition, every element of an expand event is one row, every bad event
// is exactly one failure row with its code, and nothing else is written.
func TestPipelineExactlyOnce(t *testing.T) {
	const events, perRequest, clients = 100000, 100, 48
	s := newStack(t, testenv.Postgres(t), stackOptions{compression: "gzip"})
	s.startProcessor()
	s.startEdge()

	exp := newExpected()
	reqs := workload(0, events, perRequest, exp)
	start := time.Now()
	st := s.send(reqs, clients, 0)
	if t.Failed() {
		t.FailNow()
	}
	sent := time.Since(start)
	s.finish(drainTimeout)
	drained := time.Since(start)

	checkWorkload(t, s.db, exp)
	var lastLoad time.Time
	if err := s.db.QueryRow(`SELECT max(m) FROM (SELECT max(loaded_at) m FROM events.level_up UNION ALL SELECT max(loaded_at) FROM events.level_up_v2
		UNION ALL SELECT max(loaded_at) FROM events.purchase_item UNION ALL SELECT max(loaded_at) FROM failures.events) x`).Scan(&lastLoad); err != nil {
		t.Fatal(err)
	}
	// loaded_at is UTC without a zone; start is local.
	endToEnd := lastLoad.Sub(start.UTC().Round(0)).Truncate(time.Millisecond)
	t.Logf("%d events in %d requests from %d clients (%d answered 503 and retried): sent in %s (%.0f events/s accepted at the edge)",
		st.events.Load(), st.requests.Load(), clients, st.overloaded.Load(), sent.Truncate(time.Millisecond), float64(events)/sent.Seconds())
	t.Logf("last row committed %s after the first POST: %.0f events/s end to end; pipeline drained and stopped after %s",
		endToEnd, float64(events)/endToEnd.Seconds(), drained.Truncate(time.Millisecond))
	t.Logf("edge engine: %s", s.edge.summary())
	t.Logf("processor engine: %s", s.proc.summary())
	logLatency(t, s.db, "events.level_up", "events.purchase_item", "failures.events")
}

// TestPipelineSurvivesProcessorRestart stops the processor (its sqs input
// and redshift output instances) while the edge keeps receiving and
// shipping events, and starts new instances a few seconds later, as a
// Fluent Bit restart with filesystem storage would: chunks in the buffer
// are delivered after the restart, messages received but not collected go
// back to the queue. Every event still lands exactly once.
func TestPipelineSurvivesProcessorRestart(t *testing.T) {
	const events, perRequest, clients = 20000, 100, 8
	s := newStack(t, testenv.Postgres(t), stackOptions{visibility: "10s"})
	s.startProcessor()
	s.startEdge()

	exp := newExpected()
	reqs := workload(0, events, perRequest, exp)
	done := make(chan *sendStats)
	go func() { done <- s.send(reqs, clients, 15*time.Second) }()

	waitFor(t, 60*time.Second, "the first rows", func() bool { return countRows(s.db, "events.level_up") > 0 })
	// Stop at a moment when the processor's buffer holds a chunk it has not
	// flushed yet, so the restart must deliver it from the buffer.
	if !s.proc.stopWithUndispatched(20 * time.Second) {
		t.Errorf("the processor's buffer never held an undispatched chunk: the restart does not exercise delivery from the buffer")
	}
	s.stopProcessor()
	onDisk := s.proc.pending()
	before := countRows(s.db, "events.level_up")
	t.Logf("processor stopped: %d level_up rows loaded, %d chunks left in its buffer, queue: %s", before, onDisk, s.queueState())
	if onDisk == 0 {
		t.Errorf("no chunk was left in the processor's buffer at the stop")
	}
	time.Sleep(4 * time.Second)
	s.startProcessor()

	st := <-done
	if t.Failed() {
		t.FailNow()
	}
	s.finish(drainTimeout)
	if before >= len(exp.levelUp) {
		t.Errorf("the processor stopped after every level_up row was loaded (%d): the restart was not mid-run", before)
	}
	checkWorkload(t, s.db, exp)
	t.Logf("%d events sent (%d 503s retried); processor started %d times", st.events.Load(), st.overloaded.Load(), s.procStarts)
	t.Logf("processor engine: %s", s.proc.summary())
}

// TestPipelineSurvivesDatabaseOutage stops PostgreSQL for 30 seconds
// mid-run while the edge and the processor keep running: the redshift
// output answers RETRY meanwhile, the engine keeps retrying, and once the
// server is back every event lands exactly once.
func TestPipelineSurvivesDatabaseOutage(t *testing.T) {
	const events, perRequest, clients = 20000, 100, 8
	dsn, stopPG, startPG := testenv.PostgresOutage(t)
	s := newStack(t, dsn, stackOptions{})
	s.db.SetMaxIdleConns(0) // the test's own connections must not outlive the restart
	s.startProcessor()
	s.startEdge()

	exp := newExpected()
	reqs := workload(0, events, perRequest, exp)
	done := make(chan *sendStats)
	go func() { done <- s.send(reqs, clients, 40*time.Second) }()

	waitFor(t, 60*time.Second, "the first rows", func() bool { return countRows(s.db, "events.level_up") > 0 })
	before := countRows(s.db, "events.level_up")
	retriesBefore := s.proc.retryCount()
	stopPG()
	down := time.Now()
	time.Sleep(30 * time.Second)
	retriesDuring := s.proc.retryCount() - retriesBefore
	pending := s.proc.pending()
	startPG()
	t.Logf("PostgreSQL was down %s: %d level_up rows loaded before; %d flushes answered RETRY meanwhile; %d chunks waiting at the restart",
		time.Since(down).Truncate(time.Second), before, retriesDuring, pending)
	if retriesDuring == 0 {
		t.Errorf("no flush answered RETRY while the database was down")
	}

	st := <-done
	if t.Failed() {
		t.FailNow()
	}
	s.finish(drainTimeout)
	checkWorkload(t, s.db, exp)
	t.Logf("%d events sent (%d 503s retried)", st.events.Load(), st.overloaded.Load())
	t.Logf("processor engine: %s", s.proc.summary())
}

// waitFor polls cond until it holds, or fails the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
