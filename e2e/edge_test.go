package e2e

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// TestEdgeToQueueToProcessor posts events over HTTP to the eventing input,
// ships them with the sqs output in every packing mode, and receives them
// with the sqs input: every event arrives exactly once, enriched, with its
// body byte for byte, and the queue ends empty.
func TestEdgeToQueueToProcessor(t *testing.T) {
	const requests, perRequest = 20, 25
	for _, tc := range []struct{ name, format, compression string }{
		{"event", "event", "none"},
		{"ndjson", "ndjson", "none"},
		{"ndjson-gzip", "ndjson", "gzip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testenv.SQS(t, "edge")
			queue := srv.QueueURL("edge")
			eventing := testenv.LoadPlugin(t, "plugins/in_eventing")
			sqsOut := testenv.LoadPlugin(t, "plugins/out_sqs")
			sqsIn := testenv.LoadPlugin(t, "plugins/in_sqs")

			in, err := eventing.NewInput(flbhost.Config{"http_listen": "127.0.0.1", "http_port": "0", "tag": "events", "threaded": "off"})
			if err != nil {
				t.Fatal(err)
			}
			base := eventingURL(t)
			out, err := sqsOut.NewOutput(flbhost.Config{"queue_url": queue, "endpoint": srv.Endpoint, "format": tc.format, "compression": tc.compression, "workers": "2"})
			if err != nil {
				t.Fatal(err)
			}
			in.Start()
			stop := make(chan struct{})
			pumping := pump(t, in, out, stop)

			sent := map[string]bool{}
			var mu sync.Mutex
			var wg sync.WaitGroup
			for req := 0; req < requests; req++ {
				var batch []string
				for i := 0; i < perRequest; i++ {
					batch = append(batch, eventJSON(req, i))
				}
				mu.Lock()
				for _, b := range batch {
					sent[b] = true
				}
				mu.Unlock()
				wg.Add(1)
				go func() {
					defer wg.Done()
					status, body, err := postJSON(base+"/v1/events/moshi/1.4.2/level_complete", "["+strings.Join(batch, ",")+"]")
					if err != nil || status != 200 {
						t.Errorf("post: %d %s %v", status, body, err)
					}
				}()
			}
			wg.Wait() // every 200 means the events are in the engine's buffer
			close(stop)
			pumping.Wait()
			in.Exit()
			out.Exit()

			rx, err := sqsIn.NewInput(flbhost.Config{"queue_url": queue, "endpoint": srv.Endpoint, "wait_time_seconds": "1", "validate": "off", "threaded": "off"})
			if err != nil {
				t.Fatal(err)
			}
			rx.Start()
			var got []event
			deadline := time.Now().Add(20 * time.Second)
			for len(got) < len(sent) && time.Now().Before(deadline) {
				rx.WaitBytes(1, time.Second)
				got = append(got, decodeEvents(t, rx.Drain())...)
			}
			time.Sleep(1500 * time.Millisecond) // anything beyond the expected count would show up here
			got = append(got, decodeEvents(t, rx.Drain())...)
			rx.Exit()

			if len(got) != len(sent) {
				t.Fatalf("received %d events, sent %d", len(got), len(sent))
			}
			uuids := map[string]bool{}
			for _, e := range got {
				if !sent[e.body] {
					t.Fatalf("received a body that was not sent (or twice): %q", e.body)
				}
				delete(sent, e.body)
				if uuids[e.uuid] || len(e.uuid) != 36 {
					t.Errorf("uuid %q repeated or malformed", e.uuid)
				}
				uuids[e.uuid] = true
				if e.game != "moshi" || e.version != "1.4.2" || e.name != "level_complete" || !strings.HasSuffix(e.firedTS, "Z") {
					t.Errorf("envelope %+v", e)
				}
			}
		})
	}
}
