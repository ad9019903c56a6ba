package sqs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// mpRecord appends a record whose body map holds the key/value pairs kv in
// order; keys and values may be of any type msgp.AppendIntf writes (an int
// key makes a map with a non-string key).
func mpRecord(t testing.TB, dst []byte, rt time.Time, kv ...any) []byte {
	t.Helper()
	body := msgp.AppendMapHeader(nil, uint32(len(kv)/2))
	for _, x := range kv {
		var err error
		if body, err = msgp.AppendIntf(body, x); err != nil {
			t.Fatal(err)
		}
	}
	return record.AppendRecord(dst, rt, nil, body)
}

// contractKV is the record contract's six pairs, for mpRecord.
func contractKV(uuid, firedTS, game, version, event, body string) []any {
	return []any{"uuid", uuid, "fired_ts", firedTS, "game", game, "version", version, "event", event, "body", body}
}

// topKeys returns the keys of a JSON object line in the order written.
func topKeys(t testing.TB, line string) []string {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(line))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %.200s", line)
	}
	var keys []string
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

const contractOrder = "uuid,fired_ts,game,version,event,body"

// sentRecord is one record read back from the messages of a flush.
type sentRecord struct {
	uuid, firedTS, game, version, event string
	body                                string // the body text (raw object, or a string's value)
	raw                                 bool   // body embedded as an object
}

// sentRecords reads every record the flush sends, checking that each has
// exactly the six contract keys, in contract order, all but body strings.
func sentRecords(t *testing.T, o *Output, f *flush) []sentRecord {
	t.Helper()
	var out []sentRecord
	for _, line := range checkMessages(t, o, f) {
		if keys := strings.Join(topKeys(t, line), ","); keys != contractOrder {
			t.Errorf("sent with keys %s, want exactly %s: %.300s", keys, contractOrder, line)
		}
		m, body := readEvent(t, line)
		out = append(out, sentRecord{uuid: str(t, m["uuid"]), firedTS: str(t, m["fired_ts"]),
			game: str(t, m["game"]), version: str(t, m["version"]), event: str(t, m["event"]),
			body: body, raw: m["body"][0] == '{'})
	}
	return out
}

// derived is the uuid a wrapped record gets: from the chunk and its index.
func derived(tag string, chunk []byte, rt time.Time, i int) string {
	return enrich.FormatUUID(enrich.DeterministicUUID(rt, chunkHash(tag, chunk), i))
}

// TestContractOnly: every record leaves as exactly the contract's six keys.
// A record in the contract under a trusted tag keeps its uuid and fired_ts
// (its other keys dropped); every other record is wrapped, body the whole
// record, uuid derived from the chunk, fired_ts the record time; a record
// without a valid key is sent with the parts not found empty, counted and
// logged.
func TestContractOnly(t *testing.T) {
	rt := time.Date(2026, 11, 22, 10, 0, 0, 987654321, time.UTC)
	const rtTS = "2026-11-22T10:00:00.987Z"
	const fwdRegex = `^forward\.whirlpool\.(?P<game>[A-Za-z0-9_+-]+)\.(?P<event>[A-Za-z0-9_+-]+)\.(?P<version>[A-Za-z0-9._+-]+)$`
	const ownUUID = "0190d6b4-7c2a-7c3e-8f00-000000000001"
	const ownTS = "2026-11-21T23:45:27.123Z"
	forged := append(contractKV("forged-uuid", "2000-01-01T00:00:00.000Z", "chess", "3", "move", `{"x":1}`),
		"columns", map[string]any{"evil": "yes"}, "destinations", []any{"public.pwned"})

	type want struct {
		uuid    string // "" = derived from the chunk and the record's index
		firedTS string
		key     [3]string // game, version, event
		body    string
		raw     bool
	}
	cases := []struct {
		name    string
		cfg     []string
		tag     string
		record  []any
		want    want
		noKey   uint64   // records counted as sent without a valid key
		logs    []string // parts of the one log line expected ("" for none)
		nologs  []string // lines that must not be logged
		wrapped bool
	}{
		{
			name:   "trusted contract record with extra keys: the six keys, its own uuid and fired_ts",
			tag:    "events",
			record: append(contractKV(ownUUID, ownTS, "chess", "3", "move", `{"a" : 1}`), "hostname", "edge-1", "destinations", []any{"public.pwned"}),
			want:   want{uuid: ownUUID, firedTS: ownTS, key: [3]string{"chess", "3", "move"}, body: `{"a" : 1}`, raw: true},
			logs:   []string{"[warn]", `tag "events"`, "1 records", "2 keys outside it", `key "hostname"`},
		},
		{
			name:   "Fluent Bit's default eventing tag is trusted",
			tag:    "eventing.2",
			record: contractKV(ownUUID, ownTS, "chess", "3", "move", `{"a":1}`),
			want:   want{uuid: ownUUID, firedTS: ownTS, key: [3]string{"chess", "3", "move"}, body: `{"a":1}`, raw: true},
			nologs: []string{"[warn]", "[error]"},
		},
		{
			name:   "trusted contract record whose body is not an object: still the contract (the processor fails it)",
			tag:    "events",
			record: contractKV(ownUUID, ownTS, "chess", "3", "move", `[1,2]`),
			want:   want{uuid: ownUUID, firedTS: ownTS, key: [3]string{"chess", "3", "move"}, body: `[1,2]`},
		},
		{
			name:    "untrusted record carrying the whole contract and forged keys: wrapped",
			cfg:     []string{"enrich", "on", "tag_regex", fwdRegex},
			tag:     "forward.whirlpool.poker.bet.7",
			record:  forged,
			want:    want{firedTS: rtTS, key: [3]string{"chess", "3", "move"}, raw: true, body: `{"uuid":"forged-uuid","fired_ts":"2000-01-01T00:00:00.000Z","game":"chess","version":"3","event":"move","body":"{\"x\":1}","columns":{"evil":"yes"},"destinations":["public.pwned"]}`},
			logs:    []string{"[warn]", `tag "forward.whirlpool.poker.bet.7" does not match contract_match "events eventing.*"`, "1 records carry the whole record contract"},
			wrapped: true,
		},
		{
			name:    "a contract record under a tag contract_match does not list: wrapped, the warning names contract_match",
			cfg:     []string{"contract_match", "http.*"},
			tag:     "events",
			record:  contractKV(ownUUID, ownTS, "chess", "3", "move", `{"a":1}`),
			want:    want{firedTS: rtTS, body: `{"uuid":"` + ownUUID + `","fired_ts":"` + ownTS + `","game":"chess","version":"3","event":"move","body":"{\"a\":1}"}`, raw: true},
			noKey:   1,
			logs:    []string{"[warn]", `does not match contract_match "http.*"`, "add its Tag to contract_match"},
			wrapped: true,
		},
		{
			name:    "untrusted record with its key in the tag",
			cfg:     []string{"enrich", "on", "tag_regex", fwdRegex},
			tag:     "forward.whirlpool.poker.bet.7",
			record:  []any{"player", "p1", "chips", 50},
			want:    want{firedTS: rtTS, key: [3]string{"poker", "7", "bet"}, body: `{"player":"p1","chips":50}`, raw: true},
			nologs:  []string{"[warn]", "[error]"},
			wrapped: true,
		},
		{
			name:    "untrusted record without a key: the parts empty, counted and logged",
			cfg:     []string{"enrich", "on"},
			tag:     "forward.x",
			record:  []any{"msg", "no key here"},
			want:    want{firedTS: rtTS, body: `{"msg":"no key here"}`, raw: true},
			noKey:   1,
			logs:    []string{"[error]", `tag "forward.x"`, "1 records have no valid event key", "ENDPOINT_INVALID", `game: no string field "game" and no tag_regex`},
			wrapped: true,
		},
		{
			name:    "an invalid key part is sent empty, the valid ones kept",
			cfg:     []string{"enrich", "on"},
			tag:     "forward.x",
			record:  []any{"game", "bad game!", "version", "1", "event", "e"},
			want:    want{firedTS: rtTS, key: [3]string{"", "1", "e"}, body: `{"game":"bad game!","version":"1","event":"e"}`, raw: true},
			noKey:   1,
			logs:    []string{"[error]", `invalid game "bad game!"`},
			wrapped: true,
		},
		{
			name:    "the tag does not match tag_regex",
			cfg:     []string{"enrich", "on", "tag_regex", fwdRegex},
			tag:     "whirlpool.poker.bet.7",
			record:  []any{"player", "p1"},
			want:    want{firedTS: rtTS, body: `{"player":"p1"}`, raw: true},
			noKey:   1,
			logs:    []string{"[error]", `tag "whirlpool.poker.bet.7" does not match tag_regex`},
			wrapped: true,
		},
		{
			name:    "enrich off: no key is looked for, the record is a failure",
			cfg:     []string{"tag_regex", fwdRegex},
			tag:     "forward.whirlpool.poker.bet.7",
			record:  []any{"game", "chess", "version", "3", "event", "move"},
			want:    want{firedTS: rtTS, body: `{"game":"chess","version":"3","event":"move"}`, raw: true},
			noKey:   1,
			logs:    []string{"[error]", "enrich is off"},
			wrapped: true,
		},
		{
			name:    "trusted record whose body is not a string: wrapped",
			cfg:     []string{"enrich", "on"},
			tag:     "events",
			record:  []any{"uuid", ownUUID, "fired_ts", ownTS, "game", "chess", "version", "3", "event", "move", "body", map[string]any{"a": 1}},
			want:    want{firedTS: rtTS, key: [3]string{"chess", "3", "move"}, raw: true, body: `{"uuid":"` + ownUUID + `","fired_ts":"` + ownTS + `","game":"chess","version":"3","event":"move","body":{"a":1}}`},
			nologs:  []string{"[warn]", "[error]"},
			wrapped: true,
		},
		{
			name:    "trusted record with a contract key twice: wrapped",
			cfg:     []string{"enrich", "on"},
			tag:     "events",
			record:  append(contractKV(ownUUID, ownTS, "chess", "3", "move", `{}`), "uuid", "other"),
			want:    want{firedTS: rtTS, key: [3]string{"chess", "3", "move"}, raw: true, body: `{"uuid":"` + ownUUID + `","fired_ts":"` + ownTS + `","game":"chess","version":"3","event":"move","body":"{}","uuid":"other"}`},
			wrapped: true,
		},
		{
			name:    "trusted record with a uuid that is not a string: wrapped",
			tag:     "events",
			record:  []any{"uuid", 7, "fired_ts", ownTS, "game", "chess", "version", "3", "event", "move", "body", `{}`},
			want:    want{firedTS: rtTS, raw: true, body: `{"uuid":7,"fired_ts":"` + ownTS + `","game":"chess","version":"3","event":"move","body":"{}"}`},
			noKey:   1,
			wrapped: true,
		},
		{
			name:    "trusted record with non-string keys: wrapped, the keys written as strings",
			cfg:     []string{"enrich", "on"},
			tag:     "events",
			record:  append(contractKV(ownUUID, ownTS, "chess", "3", "move", `{}`), 1, "one", true, "yes"),
			want:    want{firedTS: rtTS, key: [3]string{"chess", "3", "move"}, raw: true, body: `{"uuid":"` + ownUUID + `","fired_ts":"` + ownTS + `","game":"chess","version":"3","event":"move","body":"{}","1":"one","true":"yes"}`},
			wrapped: true,
		},
		{
			name:    "untrusted record with a non-string key and no key",
			cfg:     []string{"enrich", "on"},
			tag:     "forward.x",
			record:  []any{int64(-3), "minus three"},
			want:    want{firedTS: rtTS, body: `{"-3":"minus three"}`, raw: true},
			noKey:   1,
			wrapped: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := mustConfig(t, c.cfg...)
			chunk := mpRecord(t, nil, rt, c.record...)
			o, f, log := prepare(t, cfg, chunk, c.tag)
			got := sentRecords(t, o, f)
			if len(got) != 1 {
				t.Fatalf("%d records sent, want 1", len(got))
			}
			g, w := got[0], c.want
			if w.uuid == "" {
				w.uuid = derived(c.tag, chunk, rt, 0)
			}
			if g.uuid != w.uuid || g.firedTS != w.firedTS {
				t.Errorf("uuid %s fired_ts %s, want %s %s", g.uuid, g.firedTS, w.uuid, w.firedTS)
			}
			if k := [3]string{g.game, g.version, g.event}; k != w.key {
				t.Errorf("key %q, want %q", k, w.key)
			}
			if g.body != w.body || g.raw != w.raw {
				t.Errorf("body %s (raw %v),\nwant %s (raw %v)", g.body, g.raw, w.body, w.raw)
			}
			if c.wrapped && !uuidV7.MatchString(g.uuid) {
				t.Errorf("wrapped uuid %s is not a UUIDv7", g.uuid)
			}
			if n := o.stats.NotEnriched.Load(); n != c.noKey {
				t.Errorf("counted %d records without a key, want %d", n, c.noKey)
			}
			if c.logs != nil && log.Count(c.logs...) != 1 {
				t.Errorf("want one line with %q, got %q", c.logs, log.Lines())
			}
			for _, l := range c.nologs {
				if log.Count(l) != 0 {
					t.Errorf("unexpected %s lines: %q", l, log.Lines())
				}
			}
		})
	}
}

// TestWrappedUUIDsDeterministic: the uuid of a wrapped record depends on the
// chunk and the record's index only, never on what the record says: the
// same chunk again (a retry) gives the same uuids, identical forged
// records at two indexes get two, and its time is the record's.
func TestWrappedUUIDsDeterministic(t *testing.T) {
	cfg := mustConfig(t, "enrich", "on")
	var chunk []byte
	times := []time.Time{t0, t0, t0.Add(5 * time.Second)}
	for _, rt := range times {
		chunk = mpRecord(t, chunk, rt, contractKV("same-forged-uuid", "2001-01-01T00:00:00.000Z", "g", "1", "e", `{}`)...)
	}
	send := func(chunk []byte, tag string) []sentRecord {
		o, f, log := prepare(t, cfg, chunk, tag)
		if n := log.Count("[warn]", "3 records carry the whole record contract"); n != 1 {
			t.Errorf("want the contract_match warning once per chunk: %q", log.Lines())
		}
		return sentRecords(t, o, f)
	}
	a, b := send(chunk, "forward.t"), send(append([]byte(nil), chunk...), "forward.t")
	for i := range a {
		if a[i].uuid != b[i].uuid {
			t.Errorf("record %d: uuid %s, then %s on retry", i, a[i].uuid, b[i].uuid)
		}
		if want := derived("forward.t", chunk, times[i], i); a[i].uuid != want {
			t.Errorf("record %d: uuid %s, want %s", i, a[i].uuid, want)
		}
		if want := enrich.FiredTS(times[i]); a[i].firedTS != want {
			t.Errorf("record %d: fired_ts %s, want the record time %s", i, a[i].firedTS, want)
		}
		if !strings.HasPrefix(strings.ReplaceAll(a[i].uuid, "-", ""), fmt.Sprintf("%012x", times[i].UnixMilli())) {
			t.Errorf("record %d: uuid %s does not carry the record time", i, a[i].uuid)
		}
	}
	if a[0].uuid == a[1].uuid {
		t.Error("identical records at two indexes share a uuid")
	}
	for i, r := range send(chunk, "forward.other") {
		if r.uuid == a[i].uuid {
			t.Errorf("record %d: the same uuid under another tag", i)
		}
	}
}

// TestContractFIFO: FIFO ids come from the records as sent: the group from
// the game (a wrapped record without a key goes to "default"), the
// deduplication id from the uuid.
func TestContractFIFO(t *testing.T) {
	cfg := mustConfig(t, "queue_url", "http://h/1/q.fifo", "format", "event", "enrich", "on")
	const own = "0190d6b4-7c2a-7c3e-8f00-000000000001"
	var chunk []byte
	chunk = mpRecord(t, chunk, t0, append(contractKV(own, "2026-11-21T23:45:27.123Z", "chess", "1", "e", `{}`), "game_extra", "x")...)
	chunk = mpRecord(t, chunk, t0, "game", "poker", "version", "2", "event", "bet")
	chunk = mpRecord(t, chunk, t0, "msg", "no key")
	o, f, _ := prepare(t, cfg, chunk, "events")
	got := sentRecords(t, o, f)
	want := []struct{ group, dedup string }{{"chess", own}, {"poker", got[1].uuid}, {"default", got[2].uuid}}
	for i, e := range entries(o, f.pk.msgs) {
		if *e.MessageGroupId != want[i].group || *e.MessageDeduplicationId != want[i].dedup {
			t.Errorf("message %d: group %s dedup %s, want %s %s", i, *e.MessageGroupId, *e.MessageDeduplicationId, want[i].group, want[i].dedup)
		}
	}
	if got[1].uuid != derived("events", chunk, t0, 1) || got[2].game != "" {
		t.Errorf("records %+v", got)
	}

	// ndjson: one message per group, its id the hash of its uuids.
	cfg = mustConfig(t, "queue_url", "http://h/1/q.fifo", "enrich", "on")
	o, f, _ = prepare(t, cfg, bytes.Repeat(chunk, 2), "events")
	groups := map[string]int{}
	for _, e := range entries(o, f.pk.msgs) {
		groups[*e.MessageGroupId] += count(e)
	}
	if fmt.Sprint(groups) != "map[chess:2 default:2 poker:2]" {
		t.Errorf("events per group %v", groups)
	}
}

func TestMatchTag(t *testing.T) {
	for _, c := range []struct {
		pattern, tag string
		want         bool
	}{
		{"events", "events", true},
		{"events", "events.x", false},
		{"events", "Events", false},
		{"events", "forward.events", false},
		{"eventing.*", "eventing.0", true},
		{"eventing.*", "eventing.", true},
		{"eventing.*", "eventing", false},
		{"eventing.*", "eventing.a.b", true},
		{"*.events", "a.b.events", true},
		{"*.events", "events", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZcd", false},
		{"a**c", "ac", true},
		{"forward.*", "forward.whirlpool.g.e.1", true},
		{"", "", true},
		{"", "x", false},
	} {
		if got := MatchTag(c.pattern, c.tag); got != c.want {
			t.Errorf("MatchTag(%q, %q) = %v, want %v", c.pattern, c.tag, got, c.want)
		}
	}
	cfg := mustConfig(t)
	for tag, want := range map[string]bool{"events": true, "eventing.0": true, "forward.events": false, "eventing": false, "whirlpool.g.e.1": false} {
		if got := cfg.Trusts(tag); got != want {
			t.Errorf("default contract_match trusts %q: %v, want %v", tag, got, want)
		}
	}
	if cfg = mustConfig(t, "contract_match", " http  edge.* "); !cfg.Trusts("edge.1") || !cfg.Trusts("http") || cfg.Trusts("events") {
		t.Errorf("contract_match %q", cfg.ContractMatch)
	}
}

// TestUnwritableRecordLeftOut: a record that cannot be written as JSON (a
// map key that is an array) cannot be wrapped either: it is left out,
// logged and counted, and the records around it are sent.
func TestUnwritableRecordLeftOut(t *testing.T) {
	var chunk []byte
	chunk = mpRecord(t, chunk, t0, "a", "before")
	chunk = mpRecord(t, chunk, t0, []any{"array", "key"}, "x")
	chunk = mpRecord(t, chunk, t0, "a", "after")
	o, f, log := prepare(t, mustConfig(t), chunk, "events")
	got := sentRecords(t, o, f)
	if len(got) != 2 || got[0].body != `{"a":"before"}` || got[1].body != `{"a":"after"}` {
		t.Fatalf("sent %+v", got)
	}
	if got[1].uuid != derived("events", chunk, t0, 2) {
		t.Error("the record after the left-out one does not keep its index")
	}
	if o.stats.Undecodable.Load() != 1 || log.Count("[error]", "1 records cannot be written as JSON", "record 1") != 1 {
		t.Errorf("undecodable %d, logs %q", o.stats.Undecodable.Load(), log.Lines())
	}
}
