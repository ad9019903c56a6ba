// Package fluentbit runs the shipped pipelines (conf/edge.* and
// conf/processor.*) in the real Fluent Bit engine and breaks them under
// load, to prove what the README promises about delivery:
//
//   - kill -9 of the edge and of the processor, several times each, and
//     SIGTERM of each tier (then a restart): every event answered 2xx lands
//     exactly once, as its row(s) in its destination table(s) or as one
//     failure row (bad events), and nothing lands that was never sent;
//   - SQS unreachable for 30 s (a loopback TCP proxy in front of the
//     emulator refuses and cuts connections while the emulator keeps its
//     queue) and PostgreSQL stopped for 30 s: nothing lost, nothing twice;
//   - hot reload (-Y, then SIGHUP) of both tiers under load: no crash,
//     nothing lost;
//   - hostile input (TestHostileInput, no load): forged envelope keys,
//     destinations, columns and model-store writes through the queue and
//     through Forward, gzip and line amplification, oversized, slow and
//     control-byte HTTP requests, with the processor logged in as the
//     README's loader role: each becomes a failure row or a 4xx, nothing
//     outside the model is created or written, no log line is forged or
//     shows a password, and each tier's peak RSS stays under 300 MB.
//   - overload (TestOverloadStaysBounded): SQS unreachable while clients
//     send 500-event requests without pause, then the backlog drained:
//     nothing lost, the edge's peak RSS within 300 MB (the processor's is
//     logged: see the test).
//
// The real-engine benchmarks (BenchmarkEdgeIngest, BenchmarkProcessorDrain,
// BenchmarkReceiptToRow, BenchmarkTierMemory) are what scripts/bench engine
// runs.
//
// Each test starts one pipeline (both Fluent Bits with filesystem storage
// in per-test directories, a per-test database with conf/model.yaml
// applied, a per-test SQS emulator, free loopback ports), runs one
// continuous load (HTTP to the eventing input and Forward with acks to the
// forward input, 5% bad events, clients that retry like an SDK) and a fault
// schedule. Every event carries a unique seq and, in its run field, the id
// of the phase it was sent in, so the final check counts per fault: it
// logs, per phase, how many events were answered 2xx and how many landed.
// Waits are bounded and only wait for convergence; no timing is asserted.
//
// Requirements: a Fluent Bit 5.1 binary ($FLUENT_BIT, else
// ../shared/bin/fluent-bit beside the repository; without either the tests
// skip and say so), the plugins (build/*.so from make; a missing or stale
// one is rebuilt into a temporary directory), the local PostgreSQL and the
// SQS emulator (scripts/stack up test provides both). Run:
//
//	scripts/stack up test && make && go test -count=1 -v -timeout 15m ./e2e/fluentbit/
//
// The package takes about four minutes: the outage test first (it holds
// testenv's exclusive PostgreSQL lock, so it also waits for other
// packages' database tests), then the other two in parallel. A tier that
// crashes is restarted, so that the test still shows whether the crash
// lost anything, and the crash fails the test.
package fluentbit
