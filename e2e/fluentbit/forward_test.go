package fluentbit

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The shipped processor hands every receive's records to its forward input
// (forward_unix_path) instead of the Go input's one-second collect, and its
// messages are deleted once the forward input has acknowledged them. With
// no forward input listening (its section removed), the records take the
// collect path: all of them still land, none is forwarded, and the log
// names forward_unix_path once. A message whose records are more than the
// forward input takes in one Forward message goes in several.
func TestProcessorForwardPathAndItsFallback(t *testing.T) {
	withoutForward := func(conf []byte) []byte { return withoutForwardInput(t, conf) }
	manyRecords := func(conf []byte) []byte {
		return regexp.MustCompile(`(?m)^(\s*max_buffered_bytes\s+16M)$`).ReplaceAll(conf, []byte("${1}\n    max_records_per_message 20000\n    max_message_bytes 8M"))
	}
	for _, tc := range []struct {
		name               string
		edit               func([]byte) []byte
		events, perMessage int
		forwarded          bool
	}{
		{"shipped", nil, 6000, 500, true},
		{"no forward input", withoutForward, 6000, 500, false},
		// 18,000 records of about 390 bytes, 7 MB in one message: more
		// than the forward input takes in one Forward message (its
		// buffer_max_size, 6144000 bytes)
		{"a message over a Forward message's size", manyRecords, 18000, 18000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events, perMessage := tc.events, tc.perMessage
			pt := startProcessorTier(t, nil, tc.edit)
			run := randomHex(32) // 64 characters: the model's max_length for run
			preload(t, pt, drainWorkload(run, events), perMessage, true)
			pt.proc.Start()
			metrics := "http://127.0.0.1:" + pt.metricsPorts[0] + "/metrics"
			waitDrained(t, pt, metrics, run, events, perMessage, 2*time.Minute)
			forwarded := metricValue(metrics, "whirlpool_sqs_in_messages_forwarded_total")
			warnings := pt.proc.LogCount("forward_unix_path")
			checkForwarding(t, tc.forwarded, "messages", forwarded, events/perMessage, warnings, pt.proc.tail)
			if tc.forwarded {
				// Only this user may write to the socket.
				sock := pt.dir + "/processor-storage/sqs-forward.sock"
				if st, err := os.Stat(sock); err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
					t.Errorf("socket %s: %v %v, want a socket of mode 0600", sock, st.Mode(), err)
				}
			}
			if log := pt.proc.log(); strings.Contains(log, "[error]") {
				t.Errorf("errors in the log:\n%s", pt.proc.tail(40))
			}
		})
	}
}

// Under a backlog Fluent Bit pauses the forward input, which closes its
// connections. The sqs input's records then wait for it, their messages
// held and the poller not receiving, rather than take the collect path:
// with storage.max_chunks_up 1 a drain pauses the forward input again and
// again, and with forward_timeout 1m (longer than any pause) every message
// is still forwarded and every row loaded once.
func TestProcessorWaitsForAPausedForwardInput(t *testing.T) {
	edit := func(conf []byte) []byte {
		conf = regexp.MustCompile(`(?m)^(\s*storage\.max_chunks_up\s+)16$`).ReplaceAll(conf, []byte("${1}1"))
		return regexp.MustCompile(`(?m)^(\s*forward_unix_path\s+\S+)$`).ReplaceAll(conf, []byte("${1}\n    forward_timeout 1m"))
	}
	const events, perMessage = 24000, 500
	pt := startProcessorTier(t, nil, edit)
	run := randomHex(32)
	preload(t, pt, drainWorkload(run, events), perMessage, true)
	pt.proc.Start()
	start := time.Now()
	metrics := "http://127.0.0.1:" + pt.metricsPorts[0] + "/metrics"
	waitDrained(t, pt, metrics, run, events, perMessage, 3*time.Minute)
	paused := pt.proc.LogCount("forward.1 paused (storage buf overlimit")
	if paused == 0 {
		t.Fatalf("the forward input was never paused, so this tested nothing:\n%s", pt.proc.tail(30))
	}
	t.Logf("drained in %v, the forward input paused %d times", time.Since(start).Round(10*time.Millisecond), paused)
	if forwarded := metricValue(metrics, "whirlpool_sqs_in_messages_forwarded_total"); forwarded != events/perMessage {
		t.Errorf("%v of %d messages forwarded; the others took the collect path instead of waiting\n%s", forwarded, events/perMessage, pt.proc.tail(30))
	}
}

// waitDrained waits until the drain of run has loaded every one of its
// events, each once, and every message is deleted.
func waitDrained(t *testing.T, pt *processorTier, metrics, run string, events, perMessage int, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, "every row loaded and every message deleted", func() error {
		var n int
		if err := pt.db.QueryRow(`SELECT count(*) FROM pixel_quest.level_complete WHERE run = $1`, run).Scan(&n); err != nil {
			return err
		}
		deleted := metricValue(metrics, "whirlpool_sqs_in_messages_deleted_total")
		if n != events || deleted != float64(events/perMessage) {
			return fmt.Errorf("%d of %d rows, %v of %d messages deleted", n, events, deleted, events/perMessage)
		}
		return nil
	})
	var dups int
	if err := pt.db.QueryRow(`SELECT count(*) - count(DISTINCT uuid) FROM pixel_quest.level_complete WHERE run = $1`, run).Scan(&dups); err != nil || dups != 0 {
		t.Errorf("%d duplicate rows (%v)", dups, err)
	}
}

// withoutForwardInput removes the forward input on a unix socket (the
// one an input's forward_unix_path names) from a classic conf.
func withoutForwardInput(t *testing.T, conf []byte) []byte {
	t.Helper()
	section := regexp.MustCompile(`(?s)\n\[INPUT\]\n[^\[]*?Name\s+forward\n[^\[]*?unix_path[^\[]*?\n\n`)
	if !section.Match(conf) {
		t.Fatal("the conf has no forward input on a unix socket")
	}
	return section.ReplaceAll(conf, []byte("\n"))
}

// The shipped edge hands every accepted request's records to its forward
// input (forward_unix_path) and answers 200 once that input has appended
// them to a chunk, instead of at the Go input's next one-second collect.
// With no forward input listening (its section removed), the records take
// the collect path: every request is still answered 200 and every event
// reaches the queue, none is forwarded, and the log names
// forward_unix_path once.
func TestEdgeForwardPathAndItsFallback(t *testing.T) {
	withoutForward := func(conf []byte) []byte { return withoutForwardInput(t, conf) }
	for _, tc := range []struct {
		name                          string
		edit                          func([]byte) []byte
		forwarded                     bool
		clients, requests, perRequest int
		pad                           int // bytes of padding in each event
	}{
		{"shipped", nil, true, 8, 40, 50, 0},
		{"no forward input", withoutForward, false, 8, 40, 50, 0},
		// the records of one request (1,000 events of 1.6 KB) over the
		// eventing input's 1 MiB frame go in several Forward messages,
		// the request answered once all are acknowledged (two clients:
		// more such requests at once would not all find room for their
		// records on the forward path in the shipped 8M)
		{"requests over a Forward message's size", nil, true, 2, 8, 1000, 1500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clients, requests, perRequest := tc.clients, tc.requests, tc.perRequest
			bodies := requestBodies(16, perRequest)
			if tc.pad > 0 {
				pad := []byte(`,"note":"` + strings.Repeat("x", tc.pad) + `"}`)
				for i, b := range bodies {
					bodies[i] = bytes.ReplaceAll(b, []byte(`"mode":"ranked"}`), append([]byte(`"mode":"ranked"`), pad...))
				}
			}
			e := startEdgeTier(t, tc.edit)
			res := sendLoad(t, e.url, clients, requests, bodies, http.StatusOK, perRequest)
			if res.unavailable != 0 {
				t.Errorf("%d requests answered 503", res.unavailable)
			}
			events := requests * perRequest
			waitFor(t, 2*time.Minute, "every event delivered to SQS", func() error {
				if n := metricValue(e.metrics, "whirlpool_sqs_out_events_total"); n != float64(events) {
					return fmt.Errorf("the sqs output delivered %v of %d events", n, events)
				}
				return nil
			})
			if n := queuedEvents(t, e.sqs, e.queueURL); n != events {
				t.Errorf("the queue holds %d events; %d were accepted", n, events)
			}
			forwarded := metricValue(e.eventing, "whirlpool_eventing_events_forwarded_total")
			warnings := e.proc.LogCount("forward_unix_path")
			checkForwarding(t, tc.forwarded, "events", forwarded, events, warnings, e.proc.tail)
			if tc.forwarded {
				// Only this user may write to the socket.
				sock := e.dir + "/edge-storage/eventing-forward.sock"
				if st, err := os.Stat(sock); err != nil || st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
					t.Errorf("socket %s: %v, want a socket of mode 0600", sock, err)
				}
			}
			if log := e.proc.log(); strings.Contains(log, "[error]") {
				t.Errorf("errors in the log:\n%s", e.proc.tail(40))
			}
		})
	}
}

// checkForwarding checks a forward path's outcome: with the forward input
// up, all want units forwarded and no log line naming forward_unix_path;
// without it, none forwarded and one warning for the outage.
func checkForwarding(t *testing.T, up bool, unit string, forwarded float64, want, warnings int, tail func(int) string) {
	t.Helper()
	switch {
	case up && forwarded != float64(want):
		t.Errorf("%v of %d %s forwarded, want all", forwarded, want, unit)
	case !up && forwarded != 0:
		t.Errorf("%v %s forwarded with no forward input", forwarded, unit)
	case up && warnings != 0:
		t.Errorf("the log names forward_unix_path %d times with the forward input up:\n%s", warnings, tail(40))
	case !up && warnings != 1:
		t.Errorf("the log names forward_unix_path %d times, want one warning for the outage:\n%s", warnings, tail(40))
	}
}
