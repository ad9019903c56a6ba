package sqs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// checkMessages checks the caps of every message and returns the events
// read back from them, in order.
func checkMessages(t *testing.T, o *Output, f *flush) []string {
	t.Helper()
	var lines []string
	for i, e := range entries(o, f.pk.msgs) {
		size := entrySize(e)
		if size != f.pk.msgs[i].size {
			t.Errorf("message %d: counted %d bytes, SQS counts %d", i, f.pk.msgs[i].size, size)
		}
		if size > o.cfg.MaxMessageBytes {
			t.Errorf("message %d is %d bytes, over max_message_bytes %d", i, size, o.cfg.MaxMessageBytes)
		}
		got := readBody(t, *e.MessageAttributes[AttrFormat].StringValue, *e.MessageBody)
		if len(got) != count(e) {
			t.Errorf("message %d: whirlpool.count %d, holds %d events", i, count(e), len(got))
		}
		if raw := len(strings.Join(got, "\n")); len(got) > MaxPackedEvents || raw > MaxPackedBytes {
			t.Errorf("message %d holds %d events, %d bytes of ndjson: over what the sqs input takes by default", i, len(got), raw)
		}
		if o.cfg.MaxEvents > 0 && len(got) > o.cfg.MaxEvents {
			t.Errorf("message %d holds %d events, over max_events_per_message %d", i, len(got), o.cfg.MaxEvents)
		}
		lines = append(lines, got...)
	}
	return lines
}

func TestPackNDJSONFillsToTheCap(t *testing.T) {
	for _, max := range []string{"1K", "4K", "256K", "1M"} {
		t.Run(max, func(t *testing.T) {
			cfg := mustConfig(t, "max_message_bytes", max)
			// Bodies of varied sizes, 60 to ~900 bytes.
			chunk, samples := contractChunk(t, 3000, 400)
			var e enrich.Enricher
			for i := 0; i < 200; i++ {
				body := fmt.Sprintf(`{"i":%d,"s":"%s"}`, i, strings.Repeat("y", i*4))
				chunk = e.AppendRecord(chunk, enrich.Key{Game: "g", Version: "1", Event: "e"}, []byte(body), t0)
			}
			o, f, _ := prepare(t, cfg, chunk, "events")
			lines := checkMessages(t, o, f)
			if len(lines) != len(samples)+200 || len(f.pk.dropped) != 0 {
				t.Fatalf("%d events read back, %d dropped, want %d", len(lines), len(f.pk.dropped), len(samples)+200)
			}
			for i, s := range samples {
				m, body := readEvent(t, lines[i])
				if body != s.body || str(t, m["uuid"]) != s.uuid {
					t.Fatalf("event %d: uuid %s body %.80q, want %s %.80q", i, m["uuid"], body, s.uuid, s.body)
				}
			}
			// Close to the cap: no message but the last could have taken
			// the next event.
			for i, m := range f.pk.msgs[:len(f.pk.msgs)-1] {
				next := f.pk.events[m.first+m.count]
				if m.size+1+next.n+1 <= cfg.MaxMessageBytes {
					t.Errorf("message %d (%d bytes, %d events) closed though the next event (%d bytes) fits", i, m.size, m.count, next.n)
				}
			}
		})
	}
}

func TestPackMaxEventsPerMessage(t *testing.T) {
	cfg := mustConfig(t, "max_events_per_message", "7")
	chunk, samples := contractChunk(t, 100, 100)
	o, f, _ := prepare(t, cfg, chunk, "events")
	if lines := checkMessages(t, o, f); len(lines) != len(samples) {
		t.Fatalf("%d events, want %d", len(lines), len(samples))
	}
	if len(f.pk.msgs) != 15 { // ceil(100/7)
		t.Errorf("%d messages, want 15", len(f.pk.msgs))
	}
}

func TestPackFormatEvent(t *testing.T) {
	cfg := mustConfig(t, "format", "event")
	chunk, samples := contractChunk(t, 25, 300)
	chunk = plainRecord(chunk, t0, "log", "a fluentd-style record", "level", "info")
	o, f, _ := prepare(t, cfg, chunk, "events")
	lines := checkMessages(t, o, f)
	if len(f.pk.msgs) != 26 {
		t.Fatalf("%d messages, want one per event (26)", len(f.pk.msgs))
	}
	for i, s := range samples {
		if _, body := readEvent(t, lines[i]); body != s.body {
			t.Errorf("event %d body %q", i, body)
		}
	}
	// A record outside the contract is wrapped into it too.
	if m, body := readEvent(t, lines[25]); body != `{"log":"a fluentd-style record","level":"info"}` || len(m) != 6 {
		t.Errorf("a record outside the contract: %s", lines[25])
	}
}

func TestBatchesRespectCaps(t *testing.T) {
	for _, c := range []struct{ msg, batch string }{{"1M", "1M"}, {"256K", "1M"}, {"64K", "200K"}, {"1K", "1K"}} {
		cfg := mustConfig(t, "max_message_bytes", c.msg, "max_batch_bytes", c.batch)
		chunk, samples := contractChunk(t, 4000, 700)
		o, f, _ := prepare(t, cfg, chunk, "events")
		batches := makeBatches(f.pk.msgs, nil, cfg.MaxBatchBytes)
		seen := 0
		for bi, b := range batches {
			if len(b) > 10 {
				t.Errorf("%s/%s batch %d has %d entries", c.msg, c.batch, bi, len(b))
			}
			size := 0
			for _, i := range b {
				if i != seen {
					t.Fatalf("messages out of order or missing: got %d, want %d", i, seen)
				}
				seen++
				size += entrySize(o.entry(f.pk.msgs, i))
			}
			if size > cfg.MaxBatchBytes {
				t.Errorf("%s/%s batch %d is %d bytes, over %d", c.msg, c.batch, bi, size, cfg.MaxBatchBytes)
			}
			// Greedy: the next message did not fit (or the batch was full).
			if bi < len(batches)-1 && len(b) < 10 && size+f.pk.msgs[seen].size <= cfg.MaxBatchBytes {
				t.Errorf("%s/%s batch %d closed early", c.msg, c.batch, bi)
			}
		}
		if seen != len(f.pk.msgs) || len(checkMessages(t, o, f)) != len(samples) {
			t.Fatalf("batches lost messages")
		}
	}
	// Delivered messages are skipped.
	msgs := []message{{size: 10}, {size: 10}, {size: 10}}
	got := makeBatches(msgs, func(i int) bool { return i == 1 }, 1<<20)
	if len(got) != 1 || len(got[0]) != 2 || got[0][0] != 0 || got[0][1] != 2 {
		t.Errorf("skip: %v", got)
	}
}

func TestCompressedRoundTripAndFill(t *testing.T) {
	for _, tc := range []struct{ compression, max string }{
		{"gzip", "4K"}, {"gzip", "64K"}, {"gzip", "256K"}, {"gzip", "1M"},
		{"s2", "4K"}, {"s2", "64K"}, {"s2", "256K"}, {"s2", "1M"},
	} {
		compression, max := tc.compression, tc.max
		t.Run(compression+"/"+max, func(t *testing.T) {
			cfg := mustConfig(t, "compression", compression, "max_message_bytes", max)
			chunk, samples := contractChunk(t, 20000, 500, "g1", "g2", "g3")
			o, f, _ := prepare(t, cfg, chunk, "events")
			lines := checkMessages(t, o, f)
			if len(lines) != len(samples) {
				t.Fatalf("%d events read back, want %d", len(lines), len(samples))
			}
			for i, s := range samples {
				m, body := readEvent(t, lines[i])
				if body != s.body || str(t, m["uuid"]) != s.uuid {
					t.Fatalf("event %d differs", i)
				}
			}
			// Filled close to the cap: every message but the last at least
			// 80%, or 80% of MaxPackedBytes before gzip.
			es := entries(o, f.pk.msgs)
			for i, m := range f.pk.msgs[:len(f.pk.msgs)-1] {
				if got := *es[i].MessageAttributes[AttrFormat].StringValue; got != cfg.WireFormat() || !strings.Contains(got, compression[:2]) {
					t.Fatalf("message %d: whirlpool.format %q, want %q", i, got, cfg.WireFormat())
				}
				raw := len(strings.Join(readBody(t, cfg.WireFormat(), *es[i].MessageBody), "\n"))
				if m.size < cfg.MaxMessageBytes*8/10 && raw < MaxPackedBytes*8/10 {
					t.Errorf("message %d is %d bytes, under 80%% of %d", i, m.size, cfg.MaxMessageBytes)
				}
			}
			t.Logf("%d events in %d messages (%.0f per message)", len(lines), len(f.pk.msgs), float64(len(lines))/float64(len(f.pk.msgs)))
		})
	}
}

// TestCompressedWhenTheRatioShifts packs flushes whose compressibility
// changes from one stretch to the next (repetitive bodies, then bodies of
// hex digits, which compress several times less), so that the ratio a run
// was sized by is wrong for the next run: every event still arrives once,
// in order, in messages within the caps.
func TestCompressedWhenTheRatioShifts(t *testing.T) {
	var e enrich.Enricher
	var chunk []byte
	var bodies []string
	for i := 0; i < 6000; i++ {
		var body string
		if (i/700)%2 == 0 {
			body = fmt.Sprintf(`{"i":%d,"note":"%s"}`, i, strings.Repeat("ab", 150))
		} else {
			h := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
			body = fmt.Sprintf(`{"i":%d,"note":"%s"}`, i, strings.Repeat(hex.EncodeToString(h[:]), 5))
		}
		bodies = append(bodies, body)
		chunk = e.AppendRecord(chunk, enrich.Key{Game: "g", Version: "1", Event: "e"}, []byte(body), t0)
	}
	for _, compression := range []string{"gzip", "s2"} {
		for _, max := range []string{"4K", "64K", "256K", "1M"} {
			t.Run(compression+"/"+max, func(t *testing.T) {
				cfg := mustConfig(t, "compression", compression, "max_message_bytes", max)
				o, f, _ := prepare(t, cfg, chunk, "events")
				lines := checkMessages(t, o, f)
				if len(lines) != len(bodies) || len(f.pk.dropped) != 0 {
					t.Fatalf("%d events read back, %d dropped, want %d", len(lines), len(f.pk.dropped), len(bodies))
				}
				for i, want := range bodies {
					if _, body := readEvent(t, lines[i]); body != want {
						t.Fatalf("event %d: %q, want %q", i, body, want)
					}
				}
			})
		}
	}
}

func TestOversizeEventLeftOutAndLogged(t *testing.T) {
	for _, format := range []string{"event", "ndjson", "gzip"} {
		t.Run(format, func(t *testing.T) {
			kv := []string{"max_message_bytes", "1K"}
			if format == "gzip" {
				kv = append(kv, "compression", "gzip")
			} else {
				kv = append(kv, "format", format)
			}
			cfg := mustConfig(t, kv...)
			var e enrich.Enricher
			chunk, samples := contractChunk(t, 3, 100)
			// Random-looking text does not compress below 1K either.
			big := make([]byte, 0, 3000)
			for i := 0; len(big) < 3000; i++ {
				big = fmt.Appendf(big, "%x", sha256.Sum256([]byte{byte(i)}))
			}
			chunk = e.AppendRecord(chunk, enrich.Key{Game: "g", Version: "1", Event: "e"}, []byte(`{"blob":"`+string(big)+`"}`), t0)
			c2, s2 := contractChunk(t, 2, 100)
			chunk = append(chunk, c2...)
			o, f, log := prepare(t, cfg, chunk, "events")
			lines := checkMessages(t, o, f)
			if len(lines) != 5 {
				t.Fatalf("%d events sent, want the 5 that fit", len(lines))
			}
			if _, body := readEvent(t, lines[3]); body != s2[0].body {
				t.Errorf("the event after the big one: %q", body)
			}
			_ = samples
			if got := o.stats.Oversize.Load(); got != 1 {
				t.Errorf("oversize counter %d, want 1", got)
			}
			bigUUID := f.pk.events[3].uuid
			logs := log.Containing("[error]", string(bigUUID), "too large")
			if len(logs) != 1 || strings.Contains(logs[0], "blob") {
				t.Errorf("want one error line with the uuid and without the body: %q", logs)
			}
		})
	}
}

func TestBodyEmbeddedRaw(t *testing.T) {
	cfg := mustConfig(t)
	var e enrich.Enricher
	bodies := []string{
		`{"a" : 1,  "b":[1, 2 ,3],"s":"é\u00e9\"x"}`, // odd spacing and escapes: kept byte for byte
		"{\n  \"pretty\": true\n}",                   // newlines: written as a string
		`{"unterminated": `,                          // not JSON: a string
		`[1,2]`,                                      // not an object: a string
	}
	var chunk []byte
	for _, b := range bodies {
		chunk = e.AppendRecord(chunk, enrich.Key{Game: "g", Version: "1", Event: "e"}, []byte(b), t0)
	}
	o, f, _ := prepare(t, cfg, chunk, "events")
	lines := checkMessages(t, o, f)
	for i, b := range bodies {
		m, got := readEvent(t, lines[i])
		if got != b {
			t.Errorf("body %d read back as %q, want %q", i, got, b)
		}
		raw := m["body"][0] == '{'
		if raw != (i == 0) {
			t.Errorf("body %d embedded raw = %v", i, raw)
		}
		if !json.Valid([]byte(lines[i])) || strings.Contains(lines[i], "\n") {
			t.Errorf("line %d is not one JSON line: %q", i, lines[i])
		}
	}
	if !strings.HasPrefix(lines[0], `{"uuid":"`) || !strings.Contains(lines[0], `,"game":"g","version":"1","event":"e","body":{"a" : 1,`) {
		t.Errorf("line 0: %s", lines[0])
	}
}

func TestFIFOGroupsAndDedupIDs(t *testing.T) {
	cfg := mustConfig(t, "queue_url", "https://sqs.eu-west-1.amazonaws.com/123456789012/events.fifo", "max_message_bytes", "4K")
	if !cfg.FIFO {
		t.Fatal("a .fifo URL is a FIFO queue")
	}
	chunk, samples := contractChunk(t, 300, 200, "alpha", "beta", "gamma")
	o, f, _ := prepare(t, cfg, chunk, "events")
	lines := checkMessages(t, o, f)
	if len(lines) != len(samples) {
		t.Fatalf("%d events", len(lines))
	}
	ids := map[string]bool{}
	perGroup := map[string][]string{}
	for i, e := range entries(o, f.pk.msgs) {
		g := *e.MessageGroupId
		for _, l := range readBody(t, *e.MessageAttributes[AttrFormat].StringValue, *e.MessageBody) {
			m, _ := readEvent(t, l)
			if str(t, m["game"]) != g {
				t.Errorf("message %d of group %s holds an event of %s", i, g, m["game"])
			}
			perGroup[g] = append(perGroup[g], str(t, m["uuid"]))
		}
		d := *e.MessageDeduplicationId
		if !validSQSID(d) || ids[d] {
			t.Errorf("message %d: dedup id %q invalid or repeated", i, d)
		}
		ids[d] = true
		// Derived from the uuids of its events.
		h := sha256.New()
		for _, l := range readBody(t, *e.MessageAttributes[AttrFormat].StringValue, *e.MessageBody) {
			m, _ := readEvent(t, l)
			h.Write([]byte(str(t, m["uuid"]) + "\n"))
		}
		if want := hex.EncodeToString(h.Sum(nil)); count(e) > 1 && d != want {
			t.Errorf("message %d: dedup id is not the hash of its uuids", i)
		}
		if m, _ := readEvent(t, readBody(t, *e.MessageAttributes[AttrFormat].StringValue, *e.MessageBody)[0]); count(e) == 1 && d != str(t, m["uuid"]) {
			t.Errorf("message %d of one event: dedup id %s is not its uuid", i, d)
		}
	}
	// Order kept within each group.
	for g, us := range perGroup {
		var want []string
		for _, s := range samples {
			if s.key.Game == g {
				want = append(want, s.uuid)
			}
		}
		if strings.Join(us, ",") != strings.Join(want, ",") {
			t.Errorf("group %s out of order", g)
		}
	}
	// Same chunk, same messages and ids.
	_, f2, _ := prepare(t, cfg, chunk, "events")
	for i := range f.pk.msgs {
		if f.pk.msgs[i].dedup != f2.pk.msgs[i].dedup || f.pk.msgs[i].body != f2.pk.msgs[i].body {
			t.Fatalf("message %d differs when the chunk is packed again", i)
		}
	}

	// Format event: the dedup id is the uuid; a static group overrides.
	cfg = mustConfig(t, "queue_url", "http://h/1/q.fifo", "format", "event", "message_group_id", "all")
	chunk2, s2 := contractChunk(t, 3, 50, "a", "b")
	o, f, _ = prepare(t, cfg, chunk2, "events")
	for i, e := range entries(o, f.pk.msgs) {
		if *e.MessageGroupId != "all" || *e.MessageDeduplicationId != s2[i].uuid {
			t.Errorf("event %d: group %s dedup %s", i, *e.MessageGroupId, *e.MessageDeduplicationId)
		}
	}
}

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestEnrichFromFieldsAndTag(t *testing.T) {
	cfg := mustConfig(t, "enrich", "on", "tag_regex", `^app\.(?P<game>[^.]+)\.(?P<version>[^.]+)\.(?P<event>[^.]+)$`)
	rt := time.Date(2026, 11, 22, 10, 0, 0, 987654321, time.UTC)
	var chunk []byte
	chunk = plainRecord(chunk, rt, "game", "chess", "version", "3", "event", "move", "from", "e2")
	chunk = plainRecord(chunk, rt, "from", "e7", "note", "key from the tag")
	chunk = plainRecord(chunk, rt, "game", "go", "x", "part from the field, rest from the tag")
	o, f, log := prepare(t, cfg, chunk, "app.poker.7.bet")
	lines := checkMessages(t, o, f)
	want := []struct{ game, version, event, body string }{
		{"chess", "3", "move", `{"game":"chess","version":"3","event":"move","from":"e2"}`},
		{"poker", "7", "bet", `{"from":"e7","note":"key from the tag"}`},
		{"go", "7", "bet", `{"game":"go","x":"part from the field, rest from the tag"}`},
	}
	for i, w := range want {
		m, body := readEvent(t, lines[i])
		if str(t, m["game"]) != w.game || str(t, m["version"]) != w.version || str(t, m["event"]) != w.event {
			t.Errorf("record %d key %s/%s/%s", i, m["game"], m["version"], m["event"])
		}
		if body != w.body || m["body"][0] != '{' {
			t.Errorf("record %d body %s", i, m["body"])
		}
		if got := str(t, m["fired_ts"]); got != "2026-11-22T10:00:00.987Z" {
			t.Errorf("record %d fired_ts %s", i, got)
		}
		u := str(t, m["uuid"])
		if !uuidV7.MatchString(u) || !strings.HasPrefix(strings.ReplaceAll(u, "-", ""), fmt.Sprintf("%012x", rt.UnixMilli())) {
			t.Errorf("record %d uuid %s is not a UUIDv7 of the record time", i, u)
		}
	}
	if len(log.Lines()) != 0 || o.stats.NotEnriched.Load() != 0 {
		t.Errorf("unexpected: %q", log.Lines())
	}
}

func TestEnrichDeterministicUUIDs(t *testing.T) {
	cfg := mustConfig(t, "enrich", "on")
	var chunk []byte
	for i := 0; i < 1000; i++ {
		chunk = plainRecord(chunk, t0, "game", "g", "version", "1", "event", "e", "i", fmt.Sprint(i))
	}
	uuids := func(chunk []byte, tag string) []string {
		o, f, _ := prepare(t, cfg, chunk, tag)
		var out []string
		for _, l := range checkMessages(t, o, f) {
			m, _ := readEvent(t, l)
			out = append(out, str(t, m["uuid"]))
		}
		return out
	}
	a, b := uuids(chunk, "t"), uuids(append([]byte(nil), chunk...), "t")
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatal("the same chunk enriched twice got different uuids")
	}
	seen := map[string]bool{}
	for i, u := range a {
		if seen[u] || !uuidV7.MatchString(u) {
			t.Fatalf("uuid %d %s repeated or not v7", i, u)
		}
		seen[u] = true
		if i > 0 && u <= a[i-1] {
			t.Fatalf("uuids of one chunk not increasing at %d", i)
		}
	}
	// Another chunk (or the same records under another tag) gets others.
	for _, u := range uuids(chunk, "other") {
		if seen[u] {
			t.Fatal("different chunks share a uuid")
		}
	}
}

func TestUndecodableTail(t *testing.T) {
	cfg := mustConfig(t)
	chunk, samples := contractChunk(t, 5, 50)
	good := len(chunk)
	chunk = append(chunk, 0x92, 0xc1) // 0xc1 is never valid msgpack
	o, f, log := prepare(t, cfg, chunk, "events")
	if lines := checkMessages(t, o, f); len(lines) != len(samples) {
		t.Fatalf("%d records sent, want the %d before the bad one", len(lines), len(samples))
	}
	if len(log.Containing("[error]", fmt.Sprintf("offset %d", good))) != 1 || o.stats.Undecodable.Load() != 1 {
		t.Errorf("the error is not logged with its offset: %q", log.Lines())
	}
}

func TestDeterministicUUIDMatchesEnricherRecord(t *testing.T) {
	// AppendRecordUUID writes the same record as Enricher.AppendRecord, but
	// for the uuid.
	var e enrich.Enricher
	k := enrich.Key{Game: "g", Version: "1", Event: "e"}
	a := e.AppendRecord(nil, k, []byte(`{"x":1}`), t0)
	var ra record.Record
	record.NewDecoder(a).Next(&ra)
	uv, _ := ra.Body.Get("uuid")
	us, _ := uv.Str()
	var u [16]byte
	hexs := strings.ReplaceAll(string(us), "-", "")
	if _, err := hex.Decode(u[:], []byte(hexs)); err != nil {
		t.Fatal(err)
	}
	b := enrich.AppendRecordUUID(nil, k, []byte(`{"x":1}`), t0, u)
	if string(a) != string(b) {
		t.Errorf("records differ:\n% x\n% x", a, b)
	}
	if enrich.FormatUUID(u) != string(us) {
		t.Error("FormatUUID")
	}
}

func TestPropertyErrorsNameTheProperty(t *testing.T) {
	cases := []struct {
		kv   []string
		want []string
	}{
		{[]string{"queue_url", ""}, []string{`"queue_url" is required`}},
		{[]string{"queue_url", "not a url"}, []string{`"queue_url"`}},
		{[]string{"format", "xml"}, []string{`"format"`, "event, ndjson"}},
		{[]string{"compression", "zstd"}, []string{`"compression"`}},
		{[]string{"format", "event", "compression", "gzip"}, []string{`"compression"`, "ndjson"}},
		{[]string{"max_message_bytes", "2M"}, []string{`"max_message_bytes"`}},
		{[]string{"max_message_bytes", "512"}, []string{`"max_message_bytes"`}},
		{[]string{"max_message_bytes", "256K", "max_batch_bytes", "128K"}, []string{`"max_batch_bytes"`}},
		{[]string{"max_events_per_message", "-1"}, []string{`"max_events_per_message"`}},
		{[]string{"max_retries", "x"}, []string{`"max_retries"`}},
		{[]string{"concurrency", "0"}, []string{`"concurrency"`}},
		{[]string{"enrich", "maybe"}, []string{`"enrich"`}},
		{[]string{"tag_regex", "("}, []string{`"tag_regex"`}},
		{[]string{"tag_regex", `(?P<game>\w+)`}, []string{`"tag_regex"`, "version"}},
		{[]string{"endpoint", "localhost:4566"}, []string{`"endpoint"`}},
		{[]string{"message_group_id", "has space"}, []string{`"message_group_id"`}},
		{[]string{"message_group_id_key", "player"}, []string{`"message_group_id_key"`, "uuid, fired_ts, game, version or event"}},
		{[]string{"deduplication_id_key", "body"}, []string{`"deduplication_id_key"`}},
		{[]string{"contract_match", "events *"}, []string{`"contract_match"`, `"*"`, "every tag"}},
		{[]string{"contract_match", "**"}, []string{`"contract_match"`}},
	}
	for _, c := range cases {
		m := cfgMap{"queue_url": "https://sqs.us-east-1.amazonaws.com/1/q"}
		for i := 0; i < len(c.kv); i += 2 {
			m[c.kv[i]] = c.kv[i+1]
		}
		_, err := ParseConfig(m)
		if err == nil {
			t.Errorf("%v: no error", c.kv)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: error %q does not say %q", c.kv, err, w)
			}
		}
	}
	// Secrets are never echoed.
	_, err := ParseConfig(cfgMap{"external_id": "s3cr3t-value"})
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error %v", err)
	}
	// 256K works for older queues; defaults are as documented.
	c := mustConfig(t, "max_message_bytes", "256K", "max_batch_bytes", "256k")
	if c.MaxMessageBytes != 256<<10 || c.MaxBatchBytes != 256<<10 {
		t.Errorf("256K: %d %d", c.MaxMessageBytes, c.MaxBatchBytes)
	}
	d := mustConfig(t)
	if d.Format != "ndjson" || d.Compression != CompressNone || d.MaxMessageBytes != 1<<20 || d.MaxBatchBytes != 1<<20 || d.MaxEvents != 0 ||
		d.MaxRetries != 3 || d.Concurrency != 4 || d.Keys.On || d.GroupIDKey != "game" || d.DedupIDKey != "uuid" ||
		strings.Join(d.ContractMatch, " ") != "events eventing.*" {
		t.Errorf("defaults: %+v", d)
	}
}

func TestRetryMemoryBounded(t *testing.T) {
	m := newMemory(3, time.Minute)
	now := time.Unix(1000, 0)
	m.now = func() time.Time { return now }
	k := func(i byte) chunkKey { return chunkKey{i} }
	for i := byte(0); i < 5; i++ {
		st, _ := m.take(k(i), true)
		st.delivered[int(i)] = true
		m.put(k(i), st)
	}
	if m.len() != 3 {
		t.Fatalf("%d chunks remembered, want 3", m.len())
	}
	if _, ok := m.take(k(0), true); ok {
		t.Error("the least recently stored chunk was not evicted")
	}
	st, ok := m.take(k(4), true)
	if !ok || !st.delivered[4] {
		t.Fatal("chunk 4 forgotten")
	}
	if _, ok := m.take(k(4), true); ok {
		t.Error("a taken state is shared with a second flush")
	}
	m.put(k(4), st)
	now = now.Add(2 * time.Minute)
	if _, ok := m.take(k(4), true); ok || m.len() != 0 {
		t.Error("expired chunks are kept")
	}
}

// TestFIFOCompressedKeepsGroupsApart: the events of one group are not
// consecutive in the arena when groups interleave, so each compressed
// message is joined from its lines.
func TestFIFOCompressedKeepsGroupsApart(t *testing.T) {
	for _, compression := range []string{CompressGzip, CompressS2} {
		t.Run(compression, func(t *testing.T) {
			cfg := mustConfig(t, "queue_url", "http://h/1/q.fifo", "compression", compression, "max_message_bytes", "2K")
			chunk, samples := contractChunk(t, 500, 120, "a", "b")
			o, f, _ := prepare(t, cfg, chunk, "events")
			lines := checkMessages(t, o, f)
			if len(lines) != len(samples) {
				t.Fatalf("%d events, want %d", len(lines), len(samples))
			}
			for i, e := range entries(o, f.pk.msgs) {
				for _, l := range readBody(t, cfg.WireFormat(), *e.MessageBody) {
					if m, _ := readEvent(t, l); str(t, m["game"]) != *e.MessageGroupId {
						t.Fatalf("message %d of group %s holds game %s", i, *e.MessageGroupId, m["game"])
					}
				}
			}
		})
	}
}
