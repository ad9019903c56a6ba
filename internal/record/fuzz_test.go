package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tinylib/msgp/msgp"
)

// FuzzDecode feeds arbitrary bytes to the Decoder and to everything that
// reads a decoded record: none of it may panic or loop, Offset must grow
// with every record, a clean end must consume the whole chunk, and JSON
// that is written must be valid.
func FuzzDecode(f *testing.F) {
	body := obj(f, kv{"a", "b"}, kv{"n", []any{1, 2.5, nil, map[string]any{"x": []byte{0xff}}}}, kv{"ts", msgp.Raw(tsExt(1, 2))})
	good := current(tsExt(1, 2), obj(f, kv{"m", true}), body)
	seeds := [][]byte{
		nil,
		good,
		cat(good, good),
		legacy(tsInt(5), body),
		legacy(tsFloat(5.5), body),
		legacy(tsUint(1<<40), body),
		current(tsMarkerExt(-1), emptyMap, emptyMap),
		cat(current(tsInt(-2), emptyMap, emptyMap), legacy(tsFloat(-1), emptyMap), good),
		good[:len(good)-3],
		cat(good, []byte{0xc1}),
		{0x92, 0xdf, 0xff, 0xff, 0xff, 0xff},
		legacy(tsInt(1), []byte{0x81, 0xa1, 'k', 0xdd, 0xff, 0xff, 0xff, 0xff}),
		legacy(tsInt(1), []byte{0x81, 0xa1, 'k', 0x91, 0x91, 0x91, 0x91, 0xc0}),
		legacy(tsInt(1), []byte{0x82, 0x01, 0x02, 0x91, 0x03, 0x04}),
		legacy(tsInt(1), obj(f, kv{"s", "a\xff\u2028\"\\\x01"}, kv{"f", math.NaN()}, kv{"e", msgp.Raw([]byte{0xc7, 8, 0, 0, 0, 0, 1, 0, 0, 0, 1})})),
		legacy([]byte{0xc7, 8, 0, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0}, emptyMap),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(data)
		var r Record
		var jsonBuf []byte
		last, n := 0, 0
		for d.Next(&r) {
			n++
			if n > len(data) {
				t.Fatalf("more records (%d) than bytes (%d)", n, len(data))
			}
			if d.Offset() <= last || d.Offset() > len(data) {
				t.Fatalf("Offset %d after %d (len %d)", d.Offset(), last, len(data))
			}
			last = d.Offset()
			for _, m := range []Map{r.Meta, r.Body} {
				exercise(t, Value(m), 0)
				sameEntries(t, m, 0)
				var err error
				jsonBuf, err = m.AppendJSON(jsonBuf[:0])
				if err == nil && !json.Valid(jsonBuf) {
					t.Fatalf("invalid JSON %q from % x", jsonBuf, []byte(m))
				}
				m.Get("a")
				m.Len()
			}
		}
		if err := d.Err(); err == nil {
			if d.Offset() != len(data) {
				t.Fatalf("clean end at %d of %d", d.Offset(), len(data))
			}
		} else {
			var de *DecodeError
			if !errors.As(err, &de) || de.Offset != d.Offset() || de.At < de.Offset || de.At > len(data) || de.Index != n+d.Markers() {
				t.Fatalf("bad error %#v (offset %d, %d records, %d markers)", err, d.Offset(), n, d.Markers())
			}
		}
		// Also treat the raw input as one value.
		exercise(t, Value(data), 0)
		if out, err := Value(data).AppendJSON(nil); err == nil && !json.Valid(out) {
			t.Fatalf("invalid JSON %q", out)
		}
	})
}

// sameEntries checks that RangeDecoded passes the entries Range passes,
// byte for byte, and fails where Range fails, on m (a Map a Decoder cut, or
// one inside it) and on every map within it: the last value it does not
// walk is exactly the one Range finds by walking it.
func sameEntries(t *testing.T, m Map, depth int) {
	type entry struct{ k, v []byte }
	var want, got []entry
	werr := m.Range(func(k []byte, v Value) bool { want = append(want, entry{k, v}); return true })
	gerr := m.RangeDecoded(func(k []byte, v Value) bool { got = append(got, entry{k, v}); return true })
	if (werr == nil) != (gerr == nil) { // a key that is not a string fails both
		t.Fatalf("a decoded map: Range error %v, RangeDecoded error %v", werr, gerr)
	}
	if len(got) != len(want) {
		t.Fatalf("RangeDecoded passed %d entries, Range %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i].k, want[i].k) || !bytes.Equal(got[i].v, want[i].v) {
			t.Fatalf("entry %d: RangeDecoded %q=% x, Range %q=% x", i, got[i].k, got[i].v, want[i].k, want[i].v)
		}
		if sub, ok := Value(want[i].v).Map(); ok && depth < 8 {
			sameEntries(t, sub, depth+1)
		}
	}
}

// exercise calls every accessor on v and, recursively, on its contents.
func exercise(t *testing.T, v Value, depth int) {
	if depth > MaxDepth+1 {
		t.Fatalf("recursed %d levels", depth)
	}
	v.Kind()
	v.Str()
	v.Int()
	v.Uint()
	v.Float()
	v.Bool()
	v.IsNil()
	v.Time()
	if m, ok := v.Map(); ok {
		_ = m.Range(func(k []byte, e Value) bool {
			exercise(t, e, depth+1)
			return true
		})
	}
	_ = v.Array(func(i int, e Value) bool {
		exercise(t, e, depth+1)
		return true
	})
}

// FuzzRoundTrip encodes records built from the fuzzer's values with
// AppendRecord (and the legacy form, and group markers around them) and
// checks they decode back equal, and that their JSON matches encoding/json.
func FuzzRoundTrip(f *testing.F) {
	f.Add(uint32(1715949296), uint32(789000123), "k", "value", int64(-5), uint64(7), 1.5, []byte("bin"), true, "meta")
	f.Add(uint32(0), uint32(0), "", "", int64(math.MinInt64), uint64(math.MaxUint64), math.Inf(1), []byte{0xff, 0xfe}, false, "")
	f.Add(uint32(math.MaxUint32-2), uint32(999999999), "\u2028\xff\"", "a\x00b\\", int64(math.MaxInt64), uint64(1<<63), math.NaN(), []byte(nil), true, "\xc3")
	f.Add(uint32(5), uint32(1), "k", "k", int64(0), uint64(0), math.Copysign(0, -1), []byte("\u2029"), false, "k")
	f.Fuzz(func(t *testing.T, sec, nsec uint32, key, s string, i int64, u uint64, fl float64, bin []byte, flag bool, mkey string) {
		if int32(sec) == groupStart || int32(sec) == groupEnd {
			sec = 0 // these seconds mean "group marker" in an EventTime
		}
		nsec %= 1e9
		tm := time.Unix(int64(sec), int64(nsec))
		body := obj(t,
			kv{key, s}, kv{"i", i}, kv{"u", u}, kv{"f", fl}, kv{"bin", bin}, kv{"flag", flag},
			kv{"nested", map[string]any{mkey: []any{s, i, map[string]any{key: bin}}}},
			kv{"ts", msgp.Raw(AppendEventTime(nil, tm))},
		)
		meta := obj(t, kv{mkey, s})
		var chunk []byte
		chunk = AppendRecord(chunk, time.Unix(0xffffffff, 0), nil, emptyMap) // group start marker
		chunk = AppendRecord(chunk, tm, meta, body)
		chunk = AppendRecord(chunk, tm, nil, body)
		chunk = append(chunk, legacy(AppendEventTime(nil, tm), body)...)
		chunk = AppendRecord(chunk, time.Unix(int64(uint32(0xfffffffe)), 0), nil, emptyMap) // group end marker

		wantBody := []kv{
			{key, s}, {"i", i}, {"u", u}, {"f", fl}, {"bin", append([]byte{}, bin...)}, {"flag", flag},
			{"nested", []kv{{mkey, []any{s, i, []kv{{key, append([]byte{}, bin...)}}}}}},
			{"ts", tm},
		}
		wantMeta := []kv{{mkey, s}}

		got, d := decodeAll(t, chunk)
		if d.Err() != nil || len(got) != 3 || d.Markers() != 2 || d.Offset() != len(chunk) {
			t.Fatalf("%d records, %d markers, err %v", len(got), d.Markers(), d.Err())
		}
		for n, rec := range got {
			if !rec.time.Equal(tm) {
				t.Errorf("record %d: time %v, want %v", n, rec.time, tm)
			}
			wm := wantMeta
			if n > 0 {
				wm = []kv{}
			}
			if !equal(rec.meta, wm) {
				t.Errorf("record %d: meta %s, want %s", n, dump(rec.meta), dump(wm))
			}
			if !equalLoose(rec.body, wantBody) {
				t.Errorf("record %d: body\n got %s\nwant %s", n, dump(rec.body), dump(wantBody))
			}
		}

		// JSON of the body against encoding/json of the same values.
		d.Reset(chunk)
		var r Record
		d.Next(&r)
		out, err := r.Body.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		var jf any = fl
		if math.IsNaN(fl) || math.IsInf(fl, 0) {
			jf = nil
		}
		var jbin any = bin
		if utf8.Valid(bin) {
			jbin = string(bin)
		}
		ref := map[string]any{}
		// Duplicate keys: the JSON object keeps every entry; a parser keeps
		// the last, so fill the reference in the same order.
		for _, e := range []kv{
			{key, s}, {"i", i}, {"u", u}, {"f", jf}, {"bin", jbin}, {"flag", flag},
			{"nested", map[string]any{mkey: []any{s, i, map[string]any{key: jbin}}}},
			{"ts", json.RawMessage(eventTimeText(tm))},
		} {
			ref[jsonKey(e.k)] = e.v
		}
		if got, want := parseJSON(t, out), refJSON(t, ref); !equalJSON(got, want) {
			t.Errorf("JSON\n got %s\nwant %s\n out %s", dump(got), dump(want), out)
		}
	})
}

// jsonKey is what a JSON parser gives back for a key written from s
// (invalid UTF-8 becomes U+FFFD), so reference maps collide the same way.
func jsonKey(s string) string {
	b, _ := json.Marshal(s)
	var k string
	_ = json.Unmarshal(b, &k)
	return k
}

// eventTimeText is the expected JSON number for an EventTime, built with
// time formatting rather than the code under test.
func eventTimeText(tm time.Time) string {
	s := tm.UTC().Format("05.999999999")
	secs := tm.Unix()
	frac := ""
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			frac = s[i:]
		}
	}
	b, _ := json.Marshal(secs)
	return string(b) + frac
}

// equalLoose is equal, except that NaN equals NaN and an int64 equals a
// uint64 of the same value (msgp writes small uints as positive fixints,
// which the decoder reports as KindInt).
func equalLoose(a, b any) bool {
	if ia, ok := a.(int64); ok {
		if ub, ok := b.(uint64); ok {
			return ia >= 0 && uint64(ia) == ub
		}
	}
	if fa, ok := a.(float64); ok {
		fb, ok := b.(float64)
		return ok && (fa == fb && math.Signbit(fa) == math.Signbit(fb) || math.IsNaN(fa) && math.IsNaN(fb))
	}
	if la, ok := a.([]kv); ok {
		lb, ok := b.([]kv)
		if !ok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if la[i].k != lb[i].k || !equalLoose(la[i].v, lb[i].v) {
				return false
			}
		}
		return true
	}
	if la, ok := a.([]any); ok {
		lb, ok := b.([]any)
		if !ok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !equalLoose(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	return equal(a, b)
}
