package sqs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var (
	pluginOnce sync.Once
	pluginSO   *flbhost.Plugin
	pluginErr  error
)

// outSQS loads build of plugins/out_sqs into the test host (once).
func outSQS(t *testing.T) *flbhost.Plugin {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the plugin")
	}
	pluginOnce.Do(func() {
		so, err := flbhost.Build("plugins/out_sqs")
		if err != nil {
			pluginErr = err
			return
		}
		pluginSO, pluginErr = flbhost.Load(so)
	})
	if pluginErr != nil {
		t.Fatal(pluginErr)
	}
	return pluginSO
}

func newInstance(t *testing.T, cfg flbhost.Config) *flbhost.OutputInstance {
	t.Helper()
	o, err := outSQS(t).NewOutput(cfg)
	if err != nil {
		t.Fatalf("init: %v\n%s", err, strings.Join(flbhost.LogsContaining("[error]"), "\n"))
	}
	t.Cleanup(func() { o.Exit() })
	return o
}

// got is one event read back from the queue.
type got struct {
	uuid, game, body string
	group            string
}

// drain receives and deletes every message of the queue and decodes them
// as a consumer would: attributes, then format, then lines, then records.
func drain(t *testing.T, c *sqs.Client, queueURL string) (events []got, messages int) {
	t.Helper()
	ctx := context.Background()
	for empty := 0; empty < 2; {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:              &queueURL,
			MaxNumberOfMessages:   10,
			MessageAttributeNames: []string{"All"},
			//lint:ignore SA1019 the emulator reads AttributeNames, not MessageSystemAttributeNames
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		for _, m := range out.Messages {
			messages++
			f, n := m.MessageAttributes[AttrFormat], m.MessageAttributes[AttrCount]
			if f.StringValue == nil || *f.DataType != "String" || n.StringValue == nil || *n.DataType != "Number" {
				t.Fatalf("message without the wire-format attributes: %+v", m.MessageAttributes)
			}
			lines := readBody(t, *f.StringValue, *m.Body)
			if c, _ := strconv.Atoi(*n.StringValue); c != len(lines) {
				t.Errorf("whirlpool.count %d, message holds %d", c, len(lines))
			}
			for _, l := range lines {
				rec, body := readEvent(t, l)
				g := got{body: body, group: m.Attributes["MessageGroupId"]}
				if u, ok := rec["uuid"]; ok {
					g.uuid = str(t, u)
				}
				if gm, ok := rec["game"]; ok {
					g.game = str(t, gm)
				}
				events = append(events, g)
			}
			if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &queueURL, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	return events, messages
}

// exactly checks that the queue held every sample once, byte-exact.
func exactly(t *testing.T, events []got, samples []sample) {
	t.Helper()
	byUUID := map[string]int{}
	for _, e := range events {
		byUUID[e.uuid]++
	}
	want := map[string]sample{}
	for _, s := range samples {
		want[s.uuid] = s
	}
	lost, dup := 0, 0
	for u := range want {
		if byUUID[u] == 0 {
			lost++
		}
	}
	for u, n := range byUUID {
		if n > 1 {
			dup += n - 1
		}
		if _, ok := want[u]; !ok {
			t.Errorf("unexpected event %s in the queue", u)
		}
	}
	if lost > 0 || dup > 0 || len(events) != len(samples) {
		t.Fatalf("queue holds %d events for %d sent: %d lost, %d duplicated", len(events), len(samples), lost, dup)
	}
	for _, e := range events {
		if s := want[e.uuid]; e.body != s.body || e.game != s.key.Game {
			t.Fatalf("event %s: body %.60q game %q, want %.60q %q", e.uuid, e.body, e.game, s.body, s.key.Game)
		}
	}
}

func TestIntegrationPackingModes(t *testing.T) {
	modes := []struct {
		name string
		cfg  flbhost.Config
	}{
		{"event", flbhost.Config{"format": "event"}},
		{"ndjson", flbhost.Config{}},
		{"ndjson-gzip", flbhost.Config{"compression": "gzip"}},
		{"ndjson-256K-10-per-message", flbhost.Config{"max_message_bytes": "256K", "max_batch_bytes": "256K", "max_events_per_message": "10"}},
		{"gzip-256K", flbhost.Config{"compression": "gzip", "max_message_bytes": "256K", "concurrency": "1"}},
	}
	var queues []string
	for i := range modes {
		queues = append(queues, fmt.Sprintf("q%d", i))
	}
	s := testenv.SQS(t, queues...)
	for i, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			cfg := flbhost.Config{"queue_url": s.QueueURL(queues[i]), "endpoint": s.Endpoint}
			for k, v := range m.cfg {
				cfg[k] = v
			}
			o := newInstance(t, cfg)
			n := 3000
			if m.name == "event" {
				n = 300
			}
			chunk, samples := contractChunk(t, n, 500, "chess", "go")
			if r := o.Flush(chunk, "events"); r != flbhost.FlbOK {
				t.Fatalf("flush = %d\n%s", r, strings.Join(flbhost.LogsContaining("[error]"), "\n"))
			}
			events, msgs := drain(t, s.Client(), s.QueueURL(queues[i]))
			exactly(t, events, samples)
			t.Logf("%d events in %d messages", len(events), msgs)
			if m.name == "event" && msgs != n {
				t.Errorf("%d messages for %d events in format event", msgs, n)
			}
		})
	}
}

func TestIntegrationWorkersConcurrentFlushes(t *testing.T) {
	s := testenv.SQS(t, "w")
	o := newInstance(t, flbhost.Config{"queue_url": s.QueueURL("w"), "endpoint": s.Endpoint, "workers": "2", "max_message_bytes": "64K"})
	var all []sample
	var chunks [][]byte
	for i := 0; i < 6; i++ {
		c, ss := contractChunk(t, 500, 300, fmt.Sprintf("g%d", i))
		chunks = append(chunks, c)
		all = append(all, ss...)
	}
	var wg sync.WaitGroup
	res := make([]int, len(chunks))
	for i, c := range chunks {
		wg.Add(1)
		go func() { defer wg.Done(); res[i] = o.Flush(c, "events") }()
	}
	wg.Wait()
	for i, r := range res {
		if r != flbhost.FlbOK {
			t.Fatalf("flush %d = %d", i, r)
		}
	}
	events, _ := drain(t, s.Client(), s.QueueURL("w"))
	exactly(t, events, all)
}

// TestIntegrationEnrichForwardRecords: records of an untrusted tag (the
// forward input's) are wrapped into the contract, their key from the tag;
// one without a valid key is sent as a failure with an empty game; a
// retried chunk gets the same uuids.
func TestIntegrationEnrichForwardRecords(t *testing.T) {
	s := testenv.SQS(t, "e")
	o := newInstance(t, flbhost.Config{"queue_url": s.QueueURL("e"), "endpoint": s.Endpoint, "enrich": "on",
		"tag_regex": `^fwd\.(?P<game>\w+)\.(?P<version>\w+)\.(?P<event>\w+)$`})
	var chunk []byte
	for i := 0; i < 20; i++ {
		chunk = plainRecord(chunk, t0, "player", fmt.Sprint("p", i))
	}
	chunk = plainRecord(chunk, t0, "game", "bad game", "version", "1", "event", "e")
	for try := 0; try < 2; try++ { // the same chunk twice: the same uuids
		if r := o.Flush(chunk, "fwd.chess.3.move"); r != flbhost.FlbOK {
			t.Fatalf("flush = %d", r)
		}
	}
	events, _ := drain(t, s.Client(), s.QueueURL("e"))
	if len(events) != 42 {
		t.Fatalf("%d events, want 42", len(events))
	}
	uuids := map[string]int{}
	for _, e := range events {
		uuids[e.uuid]++
		switch {
		case strings.Contains(e.body, "bad game"):
			if e.game != "" || e.body != `{"game":"bad game","version":"1","event":"e"}` {
				t.Errorf("the record without a valid key: %+v, want it wrapped with an empty game", e)
			}
		case e.game != "chess" || !strings.HasPrefix(e.body, `{"player":"p`):
			t.Errorf("enriched: %+v", e)
		}
	}
	if len(uuids) != 21 {
		t.Errorf("%d distinct uuids for 21 records flushed twice, want 21", len(uuids))
	}
	for u, n := range uuids {
		if n != 2 || !uuidV7.MatchString(u) {
			t.Errorf("uuid %q seen %d times", u, n)
		}
	}
	if l := flbhost.LogsContaining("[error]", `tag "fwd.chess.3.move"`, "no valid event key"); len(l) == 0 {
		t.Error("the record without a key was not logged")
	}
}

func TestIntegrationFIFO(t *testing.T) {
	s := testenv.SQS(t, "events.fifo")
	url := s.QueueURL("events.fifo")
	o := newInstance(t, flbhost.Config{"queue_url": url, "endpoint": s.Endpoint, "max_message_bytes": "8K"})
	chunk, samples := contractChunk(t, 600, 300, "chess", "go", "poker")
	// Flushed twice, as after a retry whose memory was lost: the same
	// deduplication ids, so the queue keeps one copy.
	for try := 0; try < 2; try++ {
		if r := o.Flush(chunk, "events"); r != flbhost.FlbOK {
			t.Fatalf("flush %d = %d", try, r)
		}
	}
	events, _ := drain(t, s.Client(), url)
	exactly(t, events, samples)
	order := map[string][]string{}
	for _, e := range events {
		if e.group != e.game {
			t.Fatalf("event of game %s in group %q", e.game, e.group)
		}
		order[e.group] = append(order[e.group], e.uuid)
	}
	for g, us := range order {
		if !sort.StringsAreSorted(us) { // uuids of one Enricher increase
			t.Errorf("group %s received out of order", g)
		}
	}
}

// faultProxy sits between the plugin and the emulator and misbehaves on
// SendMessageBatch requests as told.
type faultProxy struct {
	t      *testing.T
	target *url.URL
	srv    *httptest.Server

	mu sync.Mutex
	// plan decides per request (numbered from 0, with its entry ids).
	plan func(n int, ids []string) fault
	reqs [][]string // entry ids of every SendMessageBatch request, in order
}

type fault struct {
	failIDs  map[string]bool // entries answered as Failed (not forwarded)
	throttle bool            // HTTP 400 RequestThrottled
	status   int             // e.g. 503
	drop     bool            // close the connection without an answer
}

func newFaultProxy(t *testing.T, endpoint string) *faultProxy {
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, target: u}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *faultProxy) requests() [][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]string(nil), p.reqs...)
}

func (p *faultProxy) setPlan(plan func(n int, ids []string) fault) {
	p.mu.Lock()
	p.plan = plan
	p.mu.Unlock()
}

func (p *faultProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var f fault
	var req map[string]any
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".SendMessageBatch") {
		if err := json.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		var ids []string
		for _, e := range req["Entries"].([]any) {
			ids = append(ids, e.(map[string]any)["Id"].(string))
		}
		p.mu.Lock()
		n := len(p.reqs)
		p.reqs = append(p.reqs, ids)
		if p.plan != nil {
			f = p.plan(n, ids)
		}
		p.mu.Unlock()
	}
	switch {
	case f.drop:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("no hijacker")
		}
		conn, _, _ := hj.Hijack()
		conn.Close()
		return
	case f.throttle:
		// What SQS answers on its JSON protocol when it throttles.
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("x-amzn-query-error", "RequestThrottled;Sender")
		w.WriteHeader(400)
		io.WriteString(w, `{"__type":"com.amazonaws.sqs#RequestThrottled","message":"Rate exceeded"}`)
		return
	case f.status != 0:
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(f.status)
		io.WriteString(w, `{"__type":"com.amazonaws.sqs#ServiceUnavailable","message":"injected"}`)
		return
	}
	var failed []map[string]any
	if len(f.failIDs) > 0 {
		var keep []any
		for _, e := range req["Entries"].([]any) {
			id := e.(map[string]any)["Id"].(string)
			if f.failIDs[id] {
				failed = append(failed, map[string]any{"Id": id, "Code": "InternalError", "Message": "injected", "SenderFault": false})
			} else {
				keep = append(keep, e)
			}
		}
		req["Entries"] = keep
		body, _ = json.Marshal(req)
	}
	allFailed := len(failed) > 0 && len(req["Entries"].([]any)) == 0
	status, hdr, respBody := p.forward(r, body, allFailed)
	if len(failed) > 0 && status == 200 {
		var resp map[string]any
		if len(respBody) > 0 {
			json.Unmarshal(respBody, &resp)
		}
		if resp == nil {
			resp = map[string]any{}
		}
		prev, _ := resp["Failed"].([]any)
		for _, x := range failed {
			prev = append(prev, x)
		}
		resp["Failed"] = prev
		respBody, _ = json.Marshal(resp)
	}
	for k, vs := range hdr {
		if k == "Content-Length" {
			continue
		}
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(respBody)))
	w.WriteHeader(status)
	w.Write(respBody)
}

// forward sends the request on to the emulator (or, when every entry was
// failed, answers an empty success itself).
func (p *faultProxy) forward(r *http.Request, body []byte, none bool) (int, http.Header, []byte) {
	if none {
		return 200, http.Header{"Content-Type": {"application/x-amz-json-1.0"}}, []byte(`{}`)
	}
	u := *p.target
	u.Path = r.URL.Path
	req, err := http.NewRequest(r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		p.t.Error(err)
		return 500, nil, nil
	}
	for k, vs := range r.Header {
		if k != "Content-Length" {
			req.Header[k] = vs
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Error(err)
		return 502, nil, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestIntegrationFaultsFailedEntriesOnlyResent(t *testing.T) {
	s := testenv.SQS(t, "f")
	p := newFaultProxy(t, s.Endpoint)
	// The first request's entries m1 and m3 fail once.
	p.setPlan(func(n int, ids []string) fault {
		if n == 0 {
			return fault{failIDs: map[string]bool{"m1": true, "m3": true}}
		}
		return fault{}
	})
	o := newInstance(t, flbhost.Config{"queue_url": s.QueueURL("f"), "endpoint": p.srv.URL,
		"max_message_bytes": "16K", "concurrency": "1"})
	chunk, samples := contractChunk(t, 1000, 400)
	if r := o.Flush(chunk, "events"); r != flbhost.FlbOK {
		t.Fatalf("flush = %d", r)
	}
	reqs := p.requests()
	if len(reqs) < 2 || len(reqs[0]) != 10 || strings.Join(reqs[1], ",") != "m1,m3" {
		t.Fatalf("requests: %v; want the second to resend only m1,m3", reqs[:min(len(reqs), 3)])
	}
	events, _ := drain(t, s.Client(), s.QueueURL("f"))
	exactly(t, events, samples)
}

func TestIntegrationFaultsRetryChunkSendsOnlyTheRest(t *testing.T) {
	for _, kind := range []string{"throttle", "503", "drop", "entries"} {
		t.Run(kind, func(t *testing.T) {
			q := "r" + kind
			s := testenv.SQS(t, q)
			p := newFaultProxy(t, s.Endpoint)
			// Every request carrying m12 fails, for the whole first flush.
			p.setPlan(func(n int, ids []string) fault {
				for _, id := range ids {
					if id == "m12" {
						switch kind {
						case "throttle":
							return fault{throttle: true}
						case "503":
							return fault{status: 503}
						case "drop":
							return fault{drop: true}
						default:
							return fault{failIDs: map[string]bool{"m12": true, "m14": true}}
						}
					}
				}
				return fault{}
			})
			o := newInstance(t, flbhost.Config{"queue_url": s.QueueURL(q), "endpoint": p.srv.URL,
				"max_message_bytes": "16K", "max_retries": "1", "concurrency": "3"})
			chunk, samples := contractChunk(t, 1200, 400)
			if r := o.Flush(chunk, "events"); r != flbhost.FlbRetry {
				t.Fatalf("first flush = %d, want RETRY", r)
			}
			first := p.requests()
			var undelivered []string
			for _, ids := range first {
				if strings.Contains(","+strings.Join(ids, ",")+",", ",m12,") {
					undelivered = ids
				}
			}
			if kind == "entries" {
				undelivered = []string{"m12", "m14"}
			}
			// Fluent Bit flushes the whole chunk again, now healed.
			p.setPlan(nil)
			if r := o.Flush(chunk, "events"); r != flbhost.FlbOK {
				t.Fatalf("second flush = %d", r)
			}
			var resent []string
			for _, ids := range p.requests()[len(first):] {
				resent = append(resent, ids...)
			}
			sort.Strings(resent)
			sort.Strings(undelivered)
			if strings.Join(resent, ",") != strings.Join(undelivered, ",") {
				t.Errorf("the retried chunk sent %v, want only the undelivered %v", resent, undelivered)
			}
			events, _ := drain(t, s.Client(), s.QueueURL(q))
			exactly(t, events, samples)
			if l := flbhost.LogsContaining("[warn]", "handing the chunk back for retry"); len(l) == 0 {
				t.Error("the retry is not logged")
			}
		})
	}
}

// The SDK's own classification of the proxy's throttling answer, so that
// the fault above is the one SQS really sends.
func TestThrottleAnswerIsThrottling(t *testing.T) {
	s := testenv.SQS(t, "t")
	p := newFaultProxy(t, s.Endpoint)
	p.setPlan(func(int, []string) fault { return fault{throttle: true} })
	c := testenv.NewSQSClient(p.srv.URL)
	_, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
		QueueUrl: awssdk.String(s.QueueURL("t")),
		Entries:  []types.SendMessageBatchRequestEntry{{Id: awssdk.String("a"), MessageBody: awssdk.String("x")}},
	}, func(o *sqs.Options) { o.Retryer = awssdk.NopRetryer{} })
	if err == nil || !isThrottle(err) || !retryable(err) {
		t.Fatalf("err %v: throttle %v", err, isThrottle(err))
	}
}

func TestIntegrationPoisonTailAndOversize(t *testing.T) {
	flbhost.ResetLogs() // counts its own lines, also under -count N
	s := testenv.SQS(t, "p")
	o := newInstance(t, flbhost.Config{"queue_url": s.QueueURL("p"), "endpoint": s.Endpoint, "max_message_bytes": "1K"})
	chunk, samples := contractChunk(t, 30, 200)
	big, bigSample := contractChunk(t, 1, 3000)
	chunk = append(chunk, big...)
	good := len(chunk)
	chunk = append(chunk, 0x92, 0xc1, 0x00) // never valid msgpack
	if r := o.Flush(chunk, "events"); r != flbhost.FlbOK {
		t.Fatalf("flush = %d: a poison tail must not block the chunk", r)
	}
	events, _ := drain(t, s.Client(), s.QueueURL("p"))
	exactly(t, events, samples)
	if l := flbhost.LogsContaining("[error]", `tag "events"`, fmt.Sprintf("offset %d", good)); len(l) != 1 {
		t.Errorf("the undecodable tail is not logged once with its offset: %q", l)
	}
	l := flbhost.LogsContaining("[error]", bigSample[0].uuid, "too large")
	if len(l) != 1 || strings.Contains(l[0], "xxxx") {
		t.Errorf("the oversize event is not logged once by uuid without its body: %q", l)
	}
}

func TestIntegrationUnreachableQueueKeepsTheChunk(t *testing.T) {
	p := outSQS(t)
	if p.Kind != flbhost.Output || p.Name != "sqs" {
		t.Fatalf("registered %s %q", p.Kind, p.Name)
	}
	// Nothing listens on port 9: every request fails at the network.
	o := newInstance(t, flbhost.Config{"queue_url": "http://127.0.0.1:9/123456789012/q", "region": "us-east-1", "max_retries": "1"})
	chunk, _ := contractChunk(t, 2, 50)
	for i := 0; i < 2; i++ {
		if r := o.Flush(chunk, "x"); r != flbhost.FlbRetry {
			t.Fatalf("flush %d = %d: an undelivered chunk must be retried, never dropped", i, r)
		}
	}
	// A missing queue_url fails the instance at start, naming the property.
	if _, err := p.NewOutput(flbhost.Config{"region": "us-east-1"}); err == nil {
		t.Fatal("an instance without queue_url started")
	}
	if l := flbhost.LogsContaining("[error]", `property "queue_url" is required`); len(l) == 0 {
		t.Error("the start-up error does not name queue_url")
	}
}
