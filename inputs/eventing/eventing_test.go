package eventing

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

const ev = `{"player":"p1","level":3}`

func TestBadRequests(t *testing.T) {
	c, base, _ := start(t, testenv.Config{
		"ack":                    "received",
		"max_body_bytes":         "2K",
		"max_event_bytes":        "100",
		"max_events_per_request": "3",
	})
	url := base + "/v1/events/space-race/1.0/level_up"
	big := `{"k":"` + strings.Repeat("x", 120) + `"}`
	huge := `{"k":"` + strings.Repeat("x", 3000) + `"}`
	for _, tc := range []struct {
		name    string
		method  string
		path    string // "" = url
		body    string
		headers []string
		status  int
		code    string
		msg     string
		index   int // -1 = no index
		header  string
	}{
		{"empty body", "POST", "", "", nil, 400, "PAYLOAD_EMPTY", "request body is empty", -1, ""},
		{"blank body", "POST", "", " \n\t ", nil, 400, "PAYLOAD_EMPTY", "request body is empty", -1, ""},
		{"empty array", "POST", "", "[ ]", nil, 400, "PAYLOAD_EMPTY", "empty array", -1, ""},
		{"blank ndjson", "POST", "", "\n\n", []string{"Content-Type: application/x-ndjson"}, 400, "PAYLOAD_EMPTY", "", -1, ""},
		{"not json", "POST", "", "hello", nil, 400, "PAYLOAD_NOT_JSON", "request body is not valid JSON", -1, ""},
		{"truncated object", "POST", "", `{"a":`, nil, 400, "PAYLOAD_NOT_JSON", "request body is not valid JSON", -1, ""},
		{"object with garbage", "POST", "", `{"a":1} x`, nil, 400, "PAYLOAD_NOT_JSON", "", -1, ""},
		{"unterminated array", "POST", "", `[{"a":1}`, nil, 400, "PAYLOAD_NOT_JSON", "not terminated", -1, ""},
		{"data after array", "POST", "", `[{"a":1}] {}`, nil, 400, "PAYLOAD_NOT_JSON", "data after the array", -1, ""},
		{"string", "POST", "", `"hi"`, nil, 400, "PAYLOAD_NOT_OBJECT", "JSON string, want an object", -1, ""},
		{"number", "POST", "", `42`, nil, 400, "PAYLOAD_NOT_OBJECT", "JSON number", -1, ""},
		{"null", "POST", "", `null`, nil, 400, "PAYLOAD_NOT_OBJECT", "JSON null", -1, ""},
		{"array element not object", "POST", "", `[{"a":1}, [2]]`, nil, 400, "PAYLOAD_NOT_OBJECT", "JSON array, want an object", 1, ""},
		{"array element not json", "POST", "", `[{"a":1}, {"b":tru}]`, nil, 400, "PAYLOAD_NOT_JSON", "event is not valid JSON", 1, ""},
		{"array stray comma", "POST", "", `[{"a":1},,{"b":1}]`, nil, 400, "PAYLOAD_NOT_JSON", "empty", 1, ""},
		{"ndjson line not object", "POST", "", "{\"a\":1}\n\n[1]\n", []string{"Content-Type: application/x-ndjson"}, 400, "PAYLOAD_NOT_OBJECT", "", 1, ""},
		{"detected ndjson bad line", "POST", "", "{\"a\":1}\n{\"b\":}\n", nil, 400, "PAYLOAD_NOT_JSON", "", 1, ""},
		{"body too large", "POST", "", "[" + huge + "]", nil, 413, "PAYLOAD_TOO_LARGE", "max_body_bytes (2048 bytes)", -1, ""},
		{"single event too large", "POST", "", big, nil, 413, "PAYLOAD_TOO_LARGE", "more than max_event_bytes (100)", -1, ""},
		{"element too large", "POST", "", `[{"a":1},` + big + `]`, nil, 413, "PAYLOAD_TOO_LARGE", "max_event_bytes", 1, ""},
		{"too many events", "POST", "", `[{},{},{},{}]`, nil, 413, "PAYLOAD_TOO_LARGE", "more than 3 events", -1, ""},
		{"too many ndjson events", "POST", "", "{}\n{}\n{}\n{}", nil, 413, "PAYLOAD_TOO_LARGE", "max_events_per_request", -1, ""},
		{"gzip too large decompressed", "POST", "", gzipped("[" + strings.Repeat(`{"a":1},`, 400) + `{"a":1}]`),
			[]string{"Content-Encoding: gzip"}, 413, "PAYLOAD_TOO_LARGE", "decompressed request body is larger than max_body_bytes", -1, ""},
		{"gzip invalid", "POST", "", "not gzip at all", []string{"Content-Encoding: gzip"}, 400, "PAYLOAD_NOT_JSON", "not valid gzip", -1, ""},
		{"gzip truncated", "POST", "", gzipped(ev)[:10], []string{"Content-Encoding: gzip"}, 400, "PAYLOAD_NOT_JSON", "gzip", -1, ""},
		{"unsupported encoding", "POST", "", ev, []string{"Content-Encoding: br"}, 415, "UNSUPPORTED_ENCODING", `"br" is not supported`, -1, "Accept-Encoding: gzip"},
		{"path outside prefix", "POST", "/v2/events/g/v/e", ev, nil, 404, "ENDPOINT_INVALID", "/v1/events/{game}/{version}/{event}", -1, ""},
		{"root", "POST", "/", ev, nil, 404, "ENDPOINT_INVALID", "", -1, ""},
		{"too few parts", "POST", "/v1/events/pixel_quest/quest_complete", ev, nil, 404, "ENDPOINT_INVALID", "events go to POST /v1/events/{game}/{version}/{event} (three path parts", -1, ""},
		{"one part", "POST", "/v1/events/g", ev, nil, 404, "ENDPOINT_INVALID", "events go to POST", -1, ""},
		{"too many parts", "POST", "/v1/events/g/v/e/x", ev, nil, 404, "ENDPOINT_INVALID", "events go to POST", -1, ""},
		{"trailing slash", "POST", "/v1/events/g/v/e/", ev, nil, 404, "ENDPOINT_INVALID", "events go to POST", -1, ""},
		{"empty version", "POST", "/v1/events/g//e", ev, nil, 404, "ENDPOINT_INVALID", `invalid version "": must not be empty`, -1, ""},
		{"bad character", "POST", "/v1/events/g/v%20x/e", ev, nil, 404, "ENDPOINT_INVALID", `invalid version "v x": character ' '`, -1, ""},
		{"game too long", "POST", "/v1/events/" + strings.Repeat("g", 129) + "/v/e", ev, nil, 404, "ENDPOINT_INVALID", "invalid game", -1, ""},
		{"GET event path", "GET", "", "", nil, 405, "METHOD_NOT_ALLOWED", "method GET is not allowed; use POST", -1, "Allow: POST"},
		{"PUT event path", "PUT", "", ev, nil, 405, "METHOD_NOT_ALLOWED", "", -1, "Allow: POST"},
		{"POST healthz", "POST", "/healthz", ev, nil, 405, "METHOD_NOT_ALLOWED", "", -1, "Allow: GET, HEAD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := url
			if tc.path != "" {
				u = base + tc.path
			}
			r := send(t, nil, tc.method, u, []byte(tc.body), tc.headers...)
			if r.status != tc.status || r.Error == nil || r.Error.Code != tc.code || !strings.Contains(r.Error.Message, tc.msg) {
				t.Fatalf("got %v, want %d %s with message containing %q", r, tc.status, tc.code, tc.msg)
			}
			switch {
			case tc.index < 0 && r.Error.Index != nil:
				t.Errorf("error has index %d, want none", *r.Error.Index)
			case tc.index >= 0 && (r.Error.Index == nil || *r.Error.Index != tc.index):
				t.Errorf("error index = %v, want %d (%v)", r.Error.Index, tc.index, r)
			}
			if tc.header != "" {
				k, v, _ := strings.Cut(tc.header, ": ")
				if got := r.header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if r.Accept != nil {
				t.Errorf("error response carries accepted=%d", *r.Accept)
			}
			if recs := collect(t, c); len(recs) != 0 {
				t.Errorf("a rejected request emitted %d records", len(recs))
			}
		})
	}
}

func TestPartialBatch(t *testing.T) {
	body := `[{"ok":1}, 5, {"ok":2}, {"bad":}, {"ok":3}]`
	t.Run("reject", func(t *testing.T) {
		c, base, _ := start(t, testenv.Config{"ack": "received"}) // reject is the default
		r := post(t, base+"/v1/events/g/v/e", body)
		if r.status != 400 || r.Error == nil || r.Error.Code != "PAYLOAD_NOT_OBJECT" || r.Error.Index == nil || *r.Error.Index != 1 {
			t.Fatalf("got %v, want 400 PAYLOAD_NOT_OBJECT at index 1", r)
		}
		if len(r.Reject) != 2 || *r.Reject[0].Index != 1 || *r.Reject[1].Index != 3 || r.Reject[1].Code != "PAYLOAD_NOT_JSON" {
			t.Errorf("rejected = %+v, want indexes 1 (not object) and 3 (not JSON)", r.Reject)
		}
		if recs := collect(t, c); len(recs) != 0 {
			t.Fatalf("rejected batch emitted %d records", len(recs))
		}
	})
	t.Run("accept", func(t *testing.T) {
		c, base, _ := start(t, testenv.Config{"ack": "received", "partial_batch": "accept"})
		r := post(t, base+"/v1/events/g/v/e", body)
		if r.status != 202 || r.Accept == nil || *r.Accept != 3 || r.Error != nil {
			t.Fatalf("got %v, want 202 with 3 accepted", r)
		}
		if len(r.Reject) != 2 || *r.Reject[0].Index != 1 || r.Reject[0].Code != "PAYLOAD_NOT_OBJECT" ||
			*r.Reject[1].Index != 3 || r.Reject[1].Code != "PAYLOAD_NOT_JSON" || r.Reject[1].Message == "" {
			t.Errorf("rejected = %+v, want index 1 PAYLOAD_NOT_OBJECT and index 3 PAYLOAD_NOT_JSON", r.Reject)
		}
		got := bodies(collect(t, c))
		want := []string{`{"ok":1}`, `{"ok":2}`, `{"ok":3}`}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("emitted %q, want %q", got, want)
		}
		// All bad: nothing to accept, so the request fails.
		r = post(t, base+"/v1/events/g/v/e", `[1, 2]`)
		if r.status != 400 || r.Error == nil || r.Error.Code != "PAYLOAD_NOT_OBJECT" || len(r.Reject) != 2 {
			t.Fatalf("all-bad batch: got %v, want 400 with both rejected", r)
		}
		if recs := collect(t, c); len(recs) != 0 {
			t.Fatalf("all-bad batch emitted %d records", len(recs))
		}
		// A request-level problem still rejects everything.
		r = post(t, base+"/v1/events/g/v/e", `[{"ok":1}, {"ok":2}`)
		if r.status != 400 || r.Error.Code != "PAYLOAD_NOT_JSON" || len(collect(t, c)) != 0 {
			t.Fatalf("broken array: got %v, want 400 and nothing emitted", r)
		}
	})
}

func TestRecordsFollowContract(t *testing.T) {
	c, base, _ := start(t, testenv.Config{"ack": "received"})
	url := base + "/v1/events/space-race/2.1.0+b7/level_up"
	pretty := "{\n  \"uuid\": \"client-uuid\",\n  \"game\": \"not-this\"\n}"
	for _, tc := range []struct {
		name, body string
		headers    []string
		want       []string
	}{
		{"single", "  " + ev + "\n", nil, []string{ev}},
		{"pretty single", pretty, nil, []string{pretty}},
		{"array", "[ " + ev + " ,\n\t{\"b\": [1, {\"c\":\"]\"}], \"s\":\"a\\\"b\"} ]", nil,
			[]string{ev, `{"b": [1, {"c":"]"}], "s":"a\"b"}`}},
		{"ndjson declared", ev + "\r\n\n  {\"x\":\"é\"}  \n", []string{"Content-Type: application/x-ndjson; charset=utf-8"},
			[]string{ev, `{"x":"é"}`}},
		{"ndjson detected", ev + "\n" + `{"n":2}` + "\n" + `{"n":3}`, nil, []string{ev, `{"n":2}`, `{"n":3}`}},
		{"gzip", gzipped(`[` + ev + `,{"z":1}]`), []string{"Content-Encoding: gzip"}, []string{ev, `{"z":1}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			r := post(t, url, tc.body, tc.headers...)
			after := time.Now()
			if r.status != 202 || r.Accept == nil || *r.Accept != len(tc.want) || len(r.Reject) != 0 {
				t.Fatalf("got %v, want 202 accepting %d", r, len(tc.want))
			}
			recs := collect(t, c)
			if got := bodies(recs); strings.Join(got, "\x00") != strings.Join(tc.want, "\x00") {
				t.Fatalf("bodies %q, want %q", got, tc.want)
			}
			var prev string
			for i, rc := range recs {
				if strings.Join(rc.keys, ",") != "uuid,fired_ts,game,version,event,body" {
					t.Errorf("record %d keys %v", i, rc.keys)
				}
				if rc.meta != 0 {
					t.Errorf("record %d: metadata has %d entries", i, rc.meta)
				}
				if rc.field["game"] != "space-race" || rc.field["version"] != "2.1.0+b7" || rc.field["event"] != "level_up" {
					t.Errorf("record %d key = %s/%s/%s", i, rc.field["game"], rc.field["version"], rc.field["event"])
				}
				if rc.time.Before(before.Truncate(time.Microsecond)) || rc.time.After(after) {
					t.Errorf("record %d time %v not within the request (%v..%v)", i, rc.time, before, after)
				}
				if want := rc.time.UTC().Format("2006-01-02T15:04:05.000Z"); rc.field["fired_ts"] != want {
					t.Errorf("record %d fired_ts %q, want %q", i, rc.field["fired_ts"], want)
				}
				u, err := uuid.Parse(rc.field["uuid"])
				if err != nil || u.Version() != 7 {
					t.Errorf("record %d uuid %q: not a UUIDv7 (%v)", i, rc.field["uuid"], err)
				}
				if rc.field["uuid"] <= prev {
					t.Errorf("record %d uuid %s does not follow %s", i, rc.field["uuid"], prev)
				}
				prev = rc.field["uuid"]
			}
		})
	}
}

func TestBufferedAckWaitsForDone(t *testing.T) {
	c, base, _ := start(t, nil) // ack buffered is the default
	url := base + "/v1/events/g/v/e"
	resp1, resp2 := make(chan reply, 1), make(chan reply, 1)

	go func() { resp1 <- post(t, url, `{"n":1}`) }()
	waitQueued(t, c, 1)
	buf1, done1 := c.Collect(nil)
	if got := bodies(decodeAll(t, buf1)); len(got) != 1 || got[0] != `{"n":1}` || done1 == nil {
		t.Fatalf("first Collect: %q, done %v", got, done1 != nil)
	}

	// A second request arrives after that Collect: done1 must not answer it.
	go func() { resp2 <- post(t, url, `{"n":2}`) }()
	waitQueued(t, c, 1)
	select {
	case r := <-resp1:
		t.Fatalf("request 1 answered %v before done", r)
	default:
	}

	done1()
	select {
	case r := <-resp1:
		if r.status != 200 || r.Accept == nil || *r.Accept != 1 {
			t.Fatalf("request 1: got %v, want 200 accepted 1", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("request 1 not answered after done")
	}
	select {
	case r := <-resp2:
		t.Fatalf("request 2 answered %v by the done of a Collect that did not carry it", r)
	default:
	}

	buf2, done2 := c.Collect(nil)
	if got := bodies(decodeAll(t, buf2)); len(got) != 1 || got[0] != `{"n":2}` {
		t.Fatalf("second Collect: %q, want only request 2", got)
	}
	done2()
	if r := <-resp2; r.status != 200 {
		t.Fatalf("request 2: got %v, want 200", r)
	}
}

func TestBufferedAckCollectedOutlivesTimeout(t *testing.T) {
	c, base, _ := start(t, testenv.Config{"ack_timeout": "100ms"})
	resp := make(chan reply, 1)
	go func() { resp <- post(t, base+"/v1/events/g/v/e", ev) }()
	waitQueued(t, c, 1)
	buf, done := c.Collect(nil)
	if len(decodeAll(t, buf)) != 1 {
		t.Fatal("Collect did not carry the event")
	}
	// Collected events are on their way into Fluent Bit: well past
	// ack_timeout, the request must still be waiting for done.
	select {
	case r := <-resp:
		t.Fatalf("answered %v before done", r)
	case <-time.After(500 * time.Millisecond):
	}
	done()
	if r := <-resp; r.status != 200 {
		t.Fatalf("got %v, want 200 after done", r)
	}
}

func TestReceivedAckAnswersAtOnce(t *testing.T) {
	c, base, _ := start(t, testenv.Config{"ack": "received"})
	r := post(t, base+"/v1/events/g/v/e", `[{"a":1},{"a":2}]`) // no Collect is running
	if r.status != 202 || r.Accept == nil || *r.Accept != 2 {
		t.Fatalf("got %v, want 202 accepted 2", r)
	}
	if got := bodies(collect(t, c)); len(got) != 2 {
		t.Fatalf("Collect after the answer: %q", got)
	}
}

func TestAckTimeoutWithdraws(t *testing.T) {
	c, base, _ := start(t, testenv.Config{"ack_timeout": "100ms"})
	r := post(t, base+"/v1/events/g/v/e", `{"late":true}`) // nobody collects
	if r.status != 503 || r.Error == nil || r.Error.Code != "OVERLOADED" || r.header.Get("Retry-After") == "" ||
		!strings.Contains(r.Error.Message, "ack_timeout") {
		t.Fatalf("got %v (Retry-After %q), want 503 OVERLOADED with Retry-After", r, r.header.Get("Retry-After"))
	}
	if n, b := c.q.stats(); n != 0 || b != 0 {
		t.Fatalf("queue still holds %d batches, %d bytes", n, b)
	}
	// A later request is collected alone: the withdrawn events never appear.
	resp := make(chan reply, 1)
	go func() { resp <- post(t, base+"/v1/events/g/v/e", `{"next":true}`) }()
	waitQueued(t, c, 1)
	got := bodies(collect(t, c))
	if len(got) != 1 || got[0] != `{"next":true}` {
		t.Fatalf("Collect = %q, want only the later event", got)
	}
	if r := <-resp; r.status != 200 {
		t.Fatalf("later request: %v", r)
	}
}

func TestPauseResume(t *testing.T) {
	c, base, _ := start(t, testenv.Config{"ack": "received"})
	url := base + "/v1/events/g/v/e"
	if r := post(t, url, `{"before":1}`); r.status != 202 {
		t.Fatalf("before pause: %v", r)
	}
	c.Pause()
	r := post(t, url, `{"during":1}`)
	if r.status != 503 || r.Error == nil || r.Error.Code != "OVERLOADED" || r.header.Get("Retry-After") != "1" {
		t.Fatalf("paused: got %v, want 503 OVERLOADED with Retry-After: 1", r)
	}
	if h := send(t, nil, "GET", base+"/healthz", nil); h.status != 503 || h.Status == nil || *h.Status != "paused" {
		t.Fatalf("healthz while paused: %v", h)
	}
	// Collect keeps draining while paused.
	if got := bodies(collect(t, c)); len(got) != 1 || got[0] != `{"before":1}` {
		t.Fatalf("Collect while paused = %q", got)
	}
	c.Resume()
	if r := post(t, url, `{"after":1}`); r.status != 202 {
		t.Fatalf("after resume: %v", r)
	}
	if h := send(t, nil, "GET", base+"/healthz", nil); h.status != 200 || h.raw != `{"status":"ok"}` {
		t.Fatalf("healthz after resume: %v", h)
	}
	if got := bodies(collect(t, c)); len(got) != 1 || got[0] != `{"after":1}` {
		t.Fatalf("Collect after resume = %q", got)
	}
}

func TestHealthz(t *testing.T) {
	_, base, _ := start(t, testenv.Config{"api_keys": "g:k"}) // no key needed for health
	if h := send(t, nil, "GET", base+"/healthz", nil); h.status != 200 || h.raw != `{"status":"ok"}` {
		t.Fatalf("GET /healthz: %v", h)
	}
	if h := send(t, nil, "HEAD", base+"/healthz", nil); h.status != 200 {
		t.Fatalf("HEAD /healthz: %v", h)
	}
}

func TestMaxBufferedBytes(t *testing.T) {
	c, base, _ := start(t, testenv.Config{"ack": "received", "max_buffered_bytes": "1K"})
	url := base + "/v1/events/g/v/e"
	event := `{"pad":"` + strings.Repeat("x", 500) + `"}`
	if r := post(t, url, event); r.status != 202 {
		t.Fatalf("first: %v", r)
	}
	r := post(t, url, event)
	if r.status != 503 || r.Error == nil || r.Error.Code != "OVERLOADED" || r.header.Get("Retry-After") != "1" ||
		!strings.Contains(r.Error.Message, "max_buffered_bytes") {
		t.Fatalf("over the bound: got %v, want 503 OVERLOADED, Retry-After: 1", r)
	}
	// Until the next collect makes room, even a request that would fit is
	// refused, before its body is read (a broken body gets the same 503).
	if r := post(t, url, `{}`); r.status != 503 || r.Error == nil || r.Error.Code != "OVERLOADED" ||
		!strings.Contains(r.Error.Message, "max_buffered_bytes") {
		t.Fatalf("small event while the queue is full: got %v, want 503 OVERLOADED", r)
	}
	if r := post(t, url, `not json`); r.status != 503 {
		t.Fatalf("broken body while the queue is full: got %v, want 503 (body unread)", r)
	}
	if got := collect(t, c); len(got) != 1 {
		t.Fatalf("Collect = %d records, want the first only", len(got))
	}
	if r := post(t, url, event); r.status != 202 {
		t.Fatalf("after Collect: %v", r)
	}
	// A batch bigger than the whole bound still goes into an empty queue.
	collect(t, c)
	if r := post(t, url, "["+event+","+event+","+event+"]"); r.status != 202 {
		t.Fatalf("big batch into an empty queue: %v", r)
	}
	if got := collect(t, c); len(got) != 3 {
		t.Fatalf("Collect = %d records, want 3", len(got))
	}
}

func TestAPIKeys(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/keys"
	if err := os.WriteFile(file, []byte("# rotation list\n\ng3:file-key-#1\n  g1 : second-key  \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, base, lg := start(t, testenv.Config{
		"ack": "received", "api_keys": "g1:first-key, g2:g2-key", "api_keys_file": file, "api_key_header": "X-Game-Key",
	})
	for _, tc := range []struct {
		name, game, header string
		status             int
	}{
		{"no key", "g1", "", 401},
		{"wrong key", "g1", "X-Game-Key: nope", 401},
		{"other game's key", "g1", "X-Game-Key: g2-key", 401},
		{"key in the default header", "g1", "X-API-Key: first-key", 401},
		{"game without keys", "g4", "X-Game-Key: first-key", 401},
		{"prefix of a key", "g1", "X-Game-Key: first", 401},
		{"first key", "g1", "X-Game-Key: first-key", 202},
		{"second key from file", "g1", "X-Game-Key: second-key", 202},
		{"g2", "g2", "X-Game-Key: g2-key", 202},
		{"file key with #", "g3", "X-Game-Key: file-key-#1", 202},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h []string
			if tc.header != "" {
				h = append(h, tc.header)
			}
			r := post(t, base+"/v1/events/"+tc.game+"/v/e", ev, h...)
			if r.status != tc.status {
				t.Fatalf("got %v, want %d", r, tc.status)
			}
			if tc.status == 401 {
				if r.Error == nil || r.Error.Code != "UNAUTHORIZED" {
					t.Fatalf("got %v, want UNAUTHORIZED", r)
				}
				if len(collect(t, c)) != 0 {
					t.Fatal("an unauthorized request emitted records")
				}
			} else if len(collect(t, c)) != 1 {
				t.Fatal("an authorized request emitted no record")
			}
			for _, k := range []string{"first-key", "second-key", "g2-key", "file-key"} {
				if strings.Contains(r.raw, k) {
					t.Fatalf("response echoes a key: %s", r.raw)
				}
			}
		})
	}
	if all := lg.String(); strings.Contains(all, "first-key") || strings.Contains(all, "g2-key") || strings.Contains(all, "second-key") ||
		strings.Contains(all, "file-key") || strings.Contains(all, `"player"`) {
		t.Fatalf("logs contain a key or an event body:\n%s", all)
	}
}

func TestCloseAnswersWaitingRequests(t *testing.T) {
	c, base, _ := start(t, nil)
	resp := make(chan reply, 1)
	go func() { resp <- post(t, base+"/v1/events/g/v/e", ev) }()
	waitQueued(t, c, 1)
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	r := <-resp
	if r.status != 503 || r.Error == nil || r.Error.Code != "OVERLOADED" {
		t.Fatalf("waiting request on Close: got %v, want 503", r)
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if buf, done := c.Collect(nil); len(buf) != 0 || done != nil {
		t.Fatal("withdrawn events were still collected after Close")
	}
	if _, err := http.Post(base+"/v1/events/g/v/e", "application/json", strings.NewReader(ev)); err == nil {
		t.Fatal("server still accepts connections after Close")
	}
}

func TestClientGoneWithdraws(t *testing.T) {
	c, base, _ := start(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", base+"/v1/events/g/v/e", strings.NewReader(ev))
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	waitQueued(t, c, 1)
	cancel() // the client gives up: the connection closes
	if err := <-errc; err == nil {
		t.Fatal("the canceled request got a response")
	}
	waitQueued(t, c, 0)
	if buf, _ := c.Collect(nil); len(buf) != 0 {
		t.Fatal("events of a request whose client left were collected")
	}
}

func TestResponseIsJSONWithAcceptedAndRejected(t *testing.T) {
	c, base, _ := start(t, nil)
	resp := make(chan reply, 1)
	go func() { resp <- post(t, base+"/v1/events/g/v/e", ev) }()
	waitQueued(t, c, 1)
	collect(t, c)
	r := <-resp
	var v map[string]any
	if err := json.Unmarshal([]byte(r.raw), &v); err != nil || r.raw != `{"accepted":1,"rejected":[]}` {
		t.Fatalf("body %q (%v), want {\"accepted\":1,\"rejected\":[]}", r.raw, err)
	}
}

// A client's URL path reaches the log escaped (testenv.Log escapes as the
// cgo glue does): a newline or an ANSI escape in it cannot forge or colour
// a log line.
func TestClientPathCannotForgeLogLines(t *testing.T) {
	_, base, lg := start(t, testenv.Config{"ack": "received"})
	forged := "\n[error] forged\x1b[31m"
	for _, path := range []string{
		"/v1/events/" + url.PathEscape("space"+forged) + "/1.0/level_up",
		"/v1/events/space/1.0/" + url.PathEscape("level_up"+forged),
		"/" + url.PathEscape("v1"+forged) + "/events/space/1.0/level_up",
	} {
		if r := send(t, http.DefaultClient, "POST", base+path, []byte(`{"k":1}`)); r.status < 400 {
			t.Errorf("%s: %v, want an error", path, r)
		}
	}
	if lg.Count(`\n[error] forged\x1b[31m`) == 0 {
		t.Errorf("the paths are not logged escaped:\n%s", lg)
	}
	for _, l := range lg.Lines() {
		if strings.ContainsAny(l, "\n\x1b") {
			t.Errorf("raw control character in the log: %q", l)
		}
	}
}
