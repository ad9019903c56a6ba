package enrich

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/record"
)

// decoded is one record read back with msgp's readers.
type decoded struct {
	sec, nsec uint32
	metaLen   uint32
	keys      []string
	vals      map[string][]byte
}

func decodeRecord(t *testing.T, b []byte) (decoded, []byte) {
	t.Helper()
	var d decoded
	n, b, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil || n != 2 {
		t.Fatalf("outer array: n=%d err=%v", n, err)
	}
	n, b, err = msgp.ReadArrayHeaderBytes(b)
	if err != nil || n != 2 {
		t.Fatalf("header array: n=%d err=%v", n, err)
	}
	if len(b) < 10 || b[0] != 0xd7 || b[1] != 0 {
		t.Fatalf("timestamp is not a fixext8 EventTime: % x", b[:min(len(b), 10)])
	}
	d.sec = binary.BigEndian.Uint32(b[2:6])
	d.nsec = binary.BigEndian.Uint32(b[6:10])
	b = b[10:]
	d.metaLen, b, err = msgp.ReadMapHeaderBytes(b)
	if err != nil {
		t.Fatalf("meta: %v", err)
	}
	sz, b, err := msgp.ReadMapHeaderBytes(b)
	if err != nil {
		t.Fatalf("body map: %v", err)
	}
	d.vals = map[string][]byte{}
	for i := uint32(0); i < sz; i++ {
		var k, v []byte
		k, b, err = msgp.ReadMapKeyZC(b)
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		if msgp.NextType(b) != msgp.StrType {
			t.Fatalf("value of %q is %v, want str", k, msgp.NextType(b))
		}
		v, b, err = msgp.ReadStringZC(b)
		if err != nil {
			t.Fatalf("value of %q: %v", k, err)
		}
		d.keys = append(d.keys, string(k))
		d.vals[string(k)] = v
	}
	return d, b
}

func TestAppendRecordFields(t *testing.T) {
	var e Enricher
	received := time.Date(2026, 11, 21, 23, 45, 27, 123456789, time.FixedZone("X", 3600))
	key := Key{Game: "space-race", Version: "1.2.0+b7", Event: "level_up"}
	// The client sends its own uuid, game and fired_ts: they must stay inside body.
	event := []byte(`{"uuid":"mine","game":"other","fired_ts":1, "s":"\u00e9 é\n"}`)

	prefix := []byte("keep")
	out := e.AppendRecord(prefix, key, event, received)
	if !bytes.HasPrefix(out, []byte("keep")) {
		t.Fatal("dst prefix was not kept")
	}
	d, rest := decodeRecord(t, out[4:])
	if len(rest) != 0 {
		t.Fatalf("%d trailing bytes", len(rest))
	}
	if d.sec != uint32(received.Unix()) || d.nsec != uint32(received.Nanosecond()) {
		t.Errorf("record time = %d.%09d, want the receipt time %d.%09d", d.sec, d.nsec, received.Unix(), received.Nanosecond())
	}
	if d.metaLen != 0 {
		t.Errorf("metadata map has %d entries, want 0", d.metaLen)
	}
	want := []string{"uuid", "fired_ts", "game", "version", "event", "body"}
	if strings.Join(d.keys, ",") != strings.Join(want, ",") {
		t.Fatalf("keys = %v, want exactly %v", d.keys, want)
	}
	if got := string(d.vals["fired_ts"]); got != "2026-11-21T22:45:27.123Z" {
		t.Errorf("fired_ts = %q, want 2026-11-21T22:45:27.123Z (UTC, ms truncated)", got)
	}
	for k, w := range map[string]string{"game": key.Game, "version": key.Version, "event": key.Event} {
		if got := string(d.vals[k]); got != w {
			t.Errorf("%s = %q, want %q", k, got, w)
		}
	}
	if !bytes.Equal(d.vals["body"], event) {
		t.Errorf("body = %q, want the event byte for byte %q", d.vals["body"], event)
	}
	u, err := uuid.Parse(string(d.vals["uuid"]))
	if err != nil {
		t.Fatalf("uuid %q: %v", d.vals["uuid"], err)
	}
	if u.Version() != 7 || u.Variant() != uuid.RFC4122 {
		t.Errorf("uuid %s: version %d variant %v, want 7 RFC4122", u, u.Version(), u.Variant())
	}
	if string(d.vals["uuid"]) != u.String() {
		t.Errorf("uuid %q is not in canonical lower-case form", d.vals["uuid"])
	}
	if ms := int64(binary.BigEndian.Uint64(append([]byte{0, 0}, u[:6]...))); ms != received.UnixMilli() {
		t.Errorf("uuid timestamp %d ms, want the receipt time %d ms", ms, received.UnixMilli())
	}
}

// The in-place body must give the same bytes as record.AppendRecord with a
// separately built body.
func TestAppendRecordMatchesRecordPackage(t *testing.T) {
	var e Enricher
	received := time.Unix(1_800_000_000, 5_000_000)
	key := Key{"g", "v", "e"}
	event := []byte(`{"a":1}`)
	got := e.AppendRecord(nil, key, event, received)
	d, _ := decodeRecord(t, got)

	body := msgp.AppendMapHeader(nil, 6)
	for _, kv := range [][2]string{{"uuid", string(d.vals["uuid"])}, {"fired_ts", FiredTS(received)},
		{"game", "g"}, {"version", "v"}, {"event", "e"}, {"body", string(event)}} {
		body = msgp.AppendString(body, kv[0])
		body = msgp.AppendString(body, kv[1])
	}
	want := record.AppendRecord(nil, received, nil, body)
	if !bytes.Equal(got, want) {
		t.Fatalf("record bytes differ from record.AppendRecord:\n got % x\nwant % x", got, want)
	}
}

func TestBodyBytesUntouched(t *testing.T) {
	var e Enricher
	big := `{"k":"` + strings.Repeat("x", 70000) + `"}` // str32 header
	for _, ev := range []string{`{}`, `{"a":[1,2,{"b":null}],"z":"\ud83d\ude00"}`, "{\n  \"pretty\": true\n}", big} {
		out := e.AppendRecord(nil, Key{"g", "v", "e"}, []byte(ev), time.Now())
		d, _ := decodeRecord(t, out)
		if string(d.vals["body"]) != ev {
			t.Errorf("body changed for %.40q", ev)
		}
	}
}

func TestUUIDsUniqueAndOrdered(t *testing.T) {
	var e Enricher
	const n = 20000
	base := time.Unix(1_800_000_000, 0)
	ids := make([]string, 0, n)
	for i := 0; i < n; i++ {
		// Groups of 1000 share a receipt time, as the events of one request do.
		received := base.Add(time.Duration(i/1000) * 250 * time.Microsecond)
		d, _ := decodeRecord(t, e.AppendRecord(nil, Key{"g", "v", "e"}, []byte(`{}`), received))
		ids = append(ids, string(d.vals["uuid"]))
		u := uuid.MustParse(ids[i])
		if ms := int64(binary.BigEndian.Uint64(append([]byte{0, 0}, u[:6]...))); ms != received.UnixMilli() {
			t.Fatalf("uuid %d: timestamp %d ms, want %d", i, ms, received.UnixMilli())
		}
	}
	for i := 1; i < n; i++ {
		if ids[i] <= ids[i-1] { // canonical hex sorts as the bytes do
			t.Fatalf("uuid %d %s is not greater than uuid %d %s", i, ids[i], i-1, ids[i-1])
		}
	}
}

func TestUUIDsClockBackwardsStillIncrease(t *testing.T) {
	var g v7gen
	var a, b [16]byte
	now := time.Unix(1_800_000_000, 0)
	g.next(now, &a)
	g.next(now.Add(-time.Second), &b)
	if bytes.Compare(b[:], a[:]) <= 0 {
		t.Fatalf("after a clock step back: %x <= %x", b, a)
	}
}

func TestUUIDsCounterExhaustion(t *testing.T) {
	var g v7gen
	var a, b [16]byte
	now := time.Unix(1_800_000_000, 0)
	g.next(now, &a)
	g.counter = counterMax
	g.next(now, &b)
	if bytes.Compare(b[:], a[:]) <= 0 {
		t.Fatalf("after counter exhaustion: %x <= %x", b, a)
	}
	if ms := int64(binary.BigEndian.Uint64(append([]byte{0, 0}, b[:6]...))); ms != now.UnixMilli()+1 {
		t.Fatalf("timestamp %d, want the next millisecond", ms)
	}
}

func TestUUIDsConcurrentUnique(t *testing.T) {
	var e Enricher
	const workers, per = 4, 5000
	var mu sync.Mutex
	seen := make(map[string]bool, workers*per)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var u [16]byte
			var s [36]byte
			local := make([]string, 0, per)
			for i := 0; i < per; i++ {
				e.ids.next(time.Now(), &u)
				formatUUID(&s, &u)
				local = append(local, string(s[:]))
			}
			mu.Lock()
			for _, id := range local {
				seen[id] = true
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(seen) != workers*per {
		t.Fatalf("%d unique uuids out of %d", len(seen), workers*per)
	}
}

func TestFiredTS(t *testing.T) {
	for _, c := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "2026-01-02T03:04:05.000Z"},
		{time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC), "2026-12-31T23:59:59.999Z"},
		{time.Date(2027, 1, 1, 0, 30, 0, 7_000_000, time.FixedZone("A", 3600)), "2026-12-31T23:30:00.007Z"},
	} {
		if got := FiredTS(c.in); got != c.want {
			t.Errorf("FiredTS(%v) = %s, want %s", c.in, got, c.want)
		}
		if p, err := time.Parse(time.RFC3339Nano, FiredTS(c.in)); err != nil || !p.Equal(c.in.Truncate(time.Millisecond)) {
			t.Errorf("FiredTS(%v) does not parse back as RFC 3339: %v %v", c.in, p, err)
		}
		if got := string(AppendFiredTS([]byte("x"), c.in)); got != "x"+c.want {
			t.Errorf("AppendFiredTS(%v) = %s, want x%s", c.in, got, c.want)
		}
	}
}

func TestKeyValidate(t *testing.T) {
	long := strings.Repeat("a", MaxKeyPartBytes)
	for _, c := range []struct {
		key  Key
		part string // "" = valid
		msg  string
	}{
		{Key{"g", "v", "e"}, "", ""},
		{Key{"Space_Race-2", "1.2.0+build.7", "level.up"}, "", ""},
		{Key{long, long, long}, "", ""},
		{Key{"", "v", "e"}, "game", `invalid game "": must not be empty`},
		{Key{"g", "", "e"}, "version", `invalid version "": must not be empty`},
		{Key{"g", "v", ""}, "event", `invalid event "": must not be empty`},
		{Key{long + "a", "v", "e"}, "game", "longer than 128 bytes"},
		{Key{"g", "v 1", "e"}, "version", `character ' ' at offset 1 is not allowed`},
		{Key{"g", "v", "a/b"}, "event", `character '/' at offset 1 is not allowed`},
		{Key{"g", "v", "é"}, "event", `byte 0xc3 at offset 0 is not allowed`},
		{Key{"g%", "v", "e"}, "game", `character '%' at offset 1`},
	} {
		err := c.key.Validate()
		if c.part == "" {
			if err != nil {
				t.Errorf("%+v: unexpected error %v", c.key, err)
			}
			continue
		}
		var ke *KeyError
		if !errors.As(err, &ke) {
			t.Errorf("%+v: error %v, want a *KeyError", c.key, err)
			continue
		}
		if ke.Part != c.part || !strings.Contains(err.Error(), c.msg) || !strings.HasPrefix(err.Error(), "invalid "+c.part+" ") {
			t.Errorf("%+v: error %q (part %s), want part %s and %q", c.key, err, ke.Part, c.part, c.msg)
		}
	}
}

func TestRecordOverheadBound(t *testing.T) {
	var e Enricher
	long := strings.Repeat("a", MaxKeyPartBytes)
	ev := []byte(strings.Repeat(" ", 70000))
	out := e.AppendRecord(nil, Key{long, long, long}, ev, time.Now())
	if extra := len(out) - len(ev); extra > RecordOverhead {
		t.Fatalf("record adds %d bytes, RecordOverhead says at most %d", extra, RecordOverhead)
	}
}

func TestAppendRecordAllocs(t *testing.T) {
	var e Enricher
	buf := make([]byte, 0, 4096)
	ev := []byte(`{"a":1}`)
	key := Key{"g", "v", "e"}
	now := time.Now()
	if n := testing.AllocsPerRun(100, func() { buf = e.AppendRecord(buf[:0], key, ev, now) }); n != 0 {
		t.Fatalf("AppendRecord allocates %v times per call with room in dst", n)
	}
}

func TestAppendUUIDMatchesFormatUUID(t *testing.T) {
	u := DeterministicUUID(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), [32]byte{1, 2, 3}, 7)
	if got, want := string(AppendUUID([]byte("x"), u)), "x"+FormatUUID(u); got != want {
		t.Errorf("AppendUUID = %s, want %s", got, want)
	}
}
