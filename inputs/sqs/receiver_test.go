package sqs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/fieldname"
	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/metrics"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func awsTestEnv(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func newTestReceiver(t *testing.T, srv *testenv.SQSServer, queue string, extra testenv.Config) *Receiver {
	t.Helper()
	awsTestEnv(t)
	cfg := testenv.Config{"queue_url": srv.QueueURL(queue), "endpoint": srv.Endpoint, "region": "us-east-1", "wait_time_seconds": "1", "pollers": "2", "validate": "off"}
	for k, v := range extra {
		cfg[k] = v
	}
	in, err := New(plugin.Env{Config: cfg, Log: &testenv.Log{}, Name: "sqs.0"})
	if err != nil {
		t.Fatal(err)
	}
	r := in.(*Receiver)
	t.Cleanup(func() { r.Close() })
	return r
}

func send(t *testing.T, c *awssqs.Client, url, format, body string) {
	t.Helper()
	in := &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}
	if format != "" {
		in.MessageAttributes = map[string]types.MessageAttributeValue{FormatAttribute: {DataType: aws.String("String"), StringValue: aws.String(format)}}
	}
	if _, err := c.SendMessage(context.Background(), in); err != nil {
		t.Fatal(err)
	}
}

// queueCounts returns the visible and the in-flight messages of a queue.
// local-aws-sqs counts in-flight messages in ApproximateNumberOfMessages too
// (AWS does not), so visible is the difference.
func queueCounts(t *testing.T, c *awssqs.Client, url string) (int, int) {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	nv, _ := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return v - nv, nv
}

// collectUntil collects until want records arrived, returning the records
// and the acknowledgements not yet called.
func collectUntil(t *testing.T, r *Receiver, want int) ([]decoded, []func()) {
	t.Helper()
	var recs []decoded
	var dones []func()
	deadline := time.Now().Add(10 * time.Second)
	for len(recs) < want && time.Now().Before(deadline) {
		buf, done := r.Collect(nil)
		if done != nil {
			dones = append(dones, done)
		}
		recs = append(recs, readRecords(t, buf)...)
		time.Sleep(50 * time.Millisecond)
	}
	if len(recs) != want {
		t.Fatalf("collected %d records, want %d", len(recs), want)
	}
	return recs, dones
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestDeleteOnlyAfterCleanup(t *testing.T) {
	srv := testenv.SQS(t, "events")
	url, c := srv.QueueURL("events"), srv.Client()
	r := newTestReceiver(t, srv, "events", nil)
	for i := 0; i < 3; i++ {
		send(t, c, url, "ndjson", contractLine+"\n"+contractLine)
	}
	recs, dones := collectUntil(t, r, 6)
	if recs[0].fields["game"] != "g" {
		t.Errorf("record %v", recs[0].fields)
	}
	// Collected, but Fluent Bit's cleanup has not run: nothing is deleted
	// (an absence, so a fixed wait).
	time.Sleep(300 * time.Millisecond)
	if v, nv := queueCounts(t, c, url); v+nv != 3 {
		t.Fatalf("before cleanup the queue holds %d+%d messages, want 3", v, nv)
	}
	for _, d := range dones {
		d()
	}
	waitFor(t, "deletes after cleanup", func() bool { v, nv := queueCounts(t, c, url); return v+nv == 0 })
}

func TestPoisonMessageBecomesFailureAndIsDeleted(t *testing.T) {
	srv := testenv.SQS(t, "events")
	url, c := srv.QueueURL("events"), srv.Client()
	r := newTestReceiver(t, srv, "events", nil)
	send(t, c, url, "", "this is not json")
	recs, dones := collectUntil(t, r, 1)
	errs, _ := recs[0].fields["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["code"] != string(failcode.UndecodableMessage) {
		t.Fatalf("want an UNDECODABLE_MESSAGE failure, got %v", recs[0].fields)
	}
	dones[0]()
	waitFor(t, "the poison message deleted", func() bool { v, nv := queueCounts(t, c, url); return v+nv == 0 })
}

func TestPauseStopsReceiving(t *testing.T) {
	srv := testenv.SQS(t, "events")
	url, c := srv.QueueURL("events"), srv.Client()
	r := newTestReceiver(t, srv, "events", nil)
	r.Pause()
	time.Sleep(1500 * time.Millisecond) // long polls started before the pause end (wait_time_seconds 1)
	send(t, c, url, "event", contractLine)
	time.Sleep(2500 * time.Millisecond)
	if buf, _ := r.Collect(nil); len(buf) != 0 {
		t.Fatal("a paused input received")
	}
	if v, _ := queueCounts(t, c, url); v != 1 {
		t.Errorf("the message must stay visible in the queue while paused, visible=%d", v)
	}
	r.Resume()
	_, dones := collectUntil(t, r, 1)
	dones[0]()
}

func TestHeldMessagesStayInvisibleAndReturnOnClose(t *testing.T) {
	srv := testenv.SQS(t, "events")
	url, c := srv.QueueURL("events"), srv.Client()
	r := newTestReceiver(t, srv, "events", testenv.Config{"visibility_timeout": "2s"})
	send(t, c, url, "event", contractLine)
	waitFor(t, "the message received", func() bool { r.mu.Lock(); defer r.mu.Unlock(); return len(r.pending) == 1 })
	// Held past twice its visibility timeout, the message stays invisible.
	time.Sleep(4500 * time.Millisecond)
	if v, nv := queueCounts(t, c, url); v != 0 || nv != 1 {
		t.Fatalf("held message: visible %d, in flight %d", v, nv)
	}
	r.stats.mu.Lock()
	extended := r.stats.Extended
	r.stats.mu.Unlock()
	if extended == 0 {
		t.Error("visibility never extended")
	}
	// Close hands uncollected messages back at once: visible well before
	// the 2 s visibility timeout its last extension set could run out (the
	// emulator applies a change of visibility on its next timer tick).
	r.Close()
	deadline := time.Now().Add(500 * time.Millisecond)
	for {
		v, _ := queueCounts(t, c, url)
		if v == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Close the uncollected message must be visible again, visible=%d", v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestBufferIsBounded(t *testing.T) {
	srv := testenv.SQS(t, "events")
	url, c := srv.QueueURL("events"), srv.Client()
	big := strings.Repeat(contractLine+"\n", 3000) // ~500 KB of records per message
	for i := 0; i < 6; i++ {
		send(t, c, url, "ndjson", big)
	}
	r := newTestReceiver(t, srv, "events", testenv.Config{"max_buffered_bytes": "1M", "pollers": "1", "max_messages": "1"})
	// Receiving stops once the buffer is full: the poller waits for room,
	// or a received message waits for Fluent Bit to collect.
	waitFor(t, "the buffer to fill", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.bytes >= r.cfg.maxBuffered || len(r.waiting) > 0
	})
	// Then it must not go on: an absence, so a fixed wait.
	time.Sleep(500 * time.Millisecond)
	r.mu.Lock()
	held := len(r.pending)
	bytes := r.bytes
	r.mu.Unlock()
	if held >= 6 || bytes > 2<<20 {
		t.Errorf("buffered %d messages, %d bytes: receiving must stop at max_buffered_bytes", held, bytes)
	}
	_, dones := collectUntil(t, r, 6*3000)
	for _, d := range dones {
		d()
	}
}

// TestThreadedModeIsReported: threaded, the engine's cleanup (and so the
// delete) comes before the records are in a chunk; the operator is told at
// start, with the property that fixes it. Non-threaded, nothing is said.
func TestThreadedModeIsReported(t *testing.T) {
	srv := testenv.SQS(t, "q")
	awsTestEnv(t)
	for _, threaded := range []bool{true, false} {
		log := &testenv.Log{}
		cfg := testenv.Config{"queue_url": srv.QueueURL("q"), "endpoint": srv.Endpoint, "region": "us-east-1", "wait_time_seconds": "1", "validate": "off"}
		in, err := New(plugin.Env{Config: cfg, Log: log, Name: "sqs.0", Threaded: threaded})
		if err != nil {
			t.Fatal(err)
		}
		in.Close()
		warned := log.Count("[warn]", "'threaded off'") > 0
		if warned != threaded {
			t.Errorf("threaded=%v: warned=%v, want %v; log: %q", threaded, warned, threaded, log.Lines())
		}
	}
}

// TestBombsBecomeOneFailureEach: through the emulator, gzip bombs and a
// message over max_records_per_message each become one failure holding the
// message's first bytes and SHA-256, the heap stays small, a legitimate
// message beside them decodes fully, and all are deleted after cleanup.
func TestBombsBecomeOneFailureEach(t *testing.T) {
	srv := testenv.SQS(t, "events")
	url, c := srv.QueueURL("events"), srv.Client()
	bodies := []struct{ format, body string }{
		{formatGzipB64, gzipRepeat(t, "{}\n", 1<<20)},
		{formatGzipB64, gzipRepeat(t, "{}\n", 64<<20)},
		{formatGzipB64, gzipRepeat(t, "\x00", 64<<20)},
		{formatNDJSON, strings.Repeat(contractLine+"\n", 101)},
	}
	for _, b := range bodies {
		send(t, c, url, b.format, b.body)
	}
	send(t, c, url, formatGzipB64, gzB64(t, strings.Repeat(contractLine+"\n", 100)))
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	r := newTestReceiver(t, srv, "events", testenv.Config{"max_records_per_message": "100"})
	recs, dones := collectUntil(t, r, len(bodies)+100)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 64<<20 { // loose; the bombs decode to 129 MB
		t.Errorf("heap grew by %d MB", grew>>20)
	}
	sums := map[string]bool{}
	for _, b := range bodies {
		s := sha256.Sum256([]byte(b.body))
		sums[hex.EncodeToString(s[:])] = true
	}
	valid := 0
	for _, rec := range recs {
		errs, _ := rec.fields["errors"].([]any)
		if len(errs) == 0 {
			valid++
			continue
		}
		body, _ := rec.fields["body"].(string)
		if s, ok := rec.fields[fieldname.BodySHA256].(string); ok {
			delete(sums, s)
		}
		if len(errs) != 1 || errs[0].(map[string]any)["code"] != string(failcode.UndecodableMessage) || len(body) == 0 || len(body) > failurePrefix {
			t.Errorf("failure %v with a body of %d bytes", errs, len(body))
		}
	}
	if valid != 100 || len(sums) != 0 {
		t.Errorf("%d valid records (want 100); %d bombs without their failure", valid, len(sums))
	}
	for _, d := range dones {
		d()
	}
	waitFor(t, "every message deleted", func() bool { v, nv := queueCounts(t, c, url); return v+nv == 0 })
}

// TestMessageWaitsForRoom: a message whose records would overfill the
// buffer waits, invisible, until Fluent Bit collects, then decodes fully;
// nothing is made a failure for want of room.
func TestMessageWaitsForRoom(t *testing.T) {
	srv := testenv.SQS(t, "events")
	url, c := srv.QueueURL("events"), srv.Client()
	big := strings.Repeat(contractLine+"\n", 3000) // ~600 KB of records
	for i := 0; i < 3; i++ {
		send(t, c, url, formatNDJSON, big)
	}
	r := newTestReceiver(t, srv, "events", testenv.Config{"max_buffered_bytes": "1M", "pollers": "1", "max_messages": "10"})
	waitFor(t, "a message waiting for room", func() bool { r.mu.Lock(); defer r.mu.Unlock(); return len(r.waiting) == 1 })
	r.mu.Lock()
	if r.bytes > 1<<20 {
		t.Errorf("buffered %d bytes over max_buffered_bytes", r.bytes)
	}
	r.mu.Unlock()
	recs, dones := collectUntil(t, r, 3*3000)
	for _, rec := range recs {
		if _, failed := rec.fields["errors"]; failed {
			t.Fatalf("a failure: %v", rec.fields["errors"])
		}
	}
	for _, d := range dones {
		d()
	}
	waitFor(t, "every message deleted", func() bool { v, nv := queueCounts(t, c, url); return v+nv == 0 })
}

// TestCloseReleasesAllWhenDeletesHang: a delete that outlives Close's wait
// makes Close report it, yet the metrics server and the validator are
// released all the same (the port can be bound again, the model is no
// longer re-read).
func TestCloseReleasesAllWhenDeletesHang(t *testing.T) {
	port := testenv.FreePort(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "model.yaml")
	writeModel(t, model, "v1")
	env := plugin.Env{Name: "sqs.0", Log: &testenv.Log{}, Config: testenv.Config{
		"metrics_port": port, "metrics_listen": "127.0.0.1", "model_file": model, "model_reload_interval": "60s"}}
	r0 := Properties.Read(env.Config)
	settings := metrics.Read(r0)
	if err := r0.Err(); err != nil {
		t.Fatal(err)
	}
	m, err := settings.Start("sqs", env.Name, env.Log)
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.New(env)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Receiver{cfg: &config{}, log: env.Log, ctx: ctx, cancel: cancel, metrics: m, validator: v,
		extend: make(chan struct{}), stopDeletes: make(chan struct{}), deleteWait: 50 * time.Millisecond}
	r.cond = sync.NewCond(&r.mu)
	r.deleting.Add(1) // a delete that never finishes
	t.Cleanup(r.deleting.Done)

	if err := r.Close(); err == nil || !strings.Contains(err.Error(), "deletes still running") {
		t.Fatalf("Close with a hanging delete: err = %v, want the deletes reported", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		t.Errorf("the metrics port is still taken after Close: %v", err)
	} else {
		ln.Close()
	}
	writeModel(t, model, "v2")
	if v.Refresh(0) {
		t.Error("the validator re-read its model after Close: it was not closed")
	}
}

// writeModel writes a one-event model whose definition is named def.
func writeModel(t *testing.T, path, def string) {
	t.Helper()
	yaml := `games:
  - name: g
    mappings: [{version: '.*', definition: ` + def + `}]
    events:
      - name: e
        definitions:
          - version: ` + def + `
            destinations: [g.e]
            fields: [{name: n, path: n, type: integer}]
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestValidatedBuffersAreReusedSafely: with validate on, the buffers of
// collected messages go back to the pollers for the next messages. Over
// many collects every record comes out exactly once and as validated
// (columns of its own event, never bytes of another), and the kept
// buffers never hold more than max_buffered_bytes.
func TestValidatedBuffersAreReusedSafely(t *testing.T) {
	srv := testenv.SQS(t, "events")
	url, c := srv.QueueURL("events"), srv.Client()
	const messages, perMessage = 12, 1500 // about 450 KB of validated records each
	for m := 0; m < messages; m++ {
		lines := make([]string, perMessage)
		for i := range lines {
			n := m*perMessage + i
			lines[i] = fmt.Sprintf(`{"uuid":"0190d6b4-7c2a-7c3e-8f00-%012d","fired_ts":"2026-11-21T23:45:27.123Z","game":"galaxy","version":"1.2","event":"level_up","body":{"player":{"id":"p-%d"},"level":%d}}`,
				n, n, 1+n%1000)
		}
		send(t, c, url, "ndjson", strings.Join(lines, "\n"))
	}
	root, err := flbhost.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	const maxBuffered = 1 << 20 // two messages or so: many collects, each reusing buffers
	r := newTestReceiver(t, srv, "events", testenv.Config{"validate": "on", "model_file": root + "/filters/validate/testdata/model.yaml",
		"max_buffered_bytes": "1M"})
	recs, dones := collectUntil(t, r, messages*perMessage)
	for _, d := range dones {
		d()
	}
	seen := map[string]bool{}
	for _, rec := range recs {
		uuid, _ := rec.fields["uuid"].(string)
		var n int
		if _, err := fmt.Sscanf(uuid, "0190d6b4-7c2a-7c3e-8f00-%012d", &n); err != nil || seen[uuid] {
			t.Fatalf("record %v: unexpected or repeated uuid", rec.fields)
		}
		seen[uuid] = true
		cols, _ := rec.fields["columns"].(map[string]any)
		if cols == nil || cols["player_id"] != fmt.Sprintf("p-%d", n) || fmt.Sprint(cols["level"]) != fmt.Sprint(1+n%1000) {
			t.Errorf("record %s: columns %v, want player_id p-%d and level %d", uuid, rec.fields["columns"], n, 1+n%1000)
		}
	}
	if kept := r.spareBytes.Load(); kept > maxBuffered || kept == 0 {
		t.Errorf("kept %d bytes of buffers, want some and at most max_buffered_bytes %d", kept, maxBuffered)
	}
}
