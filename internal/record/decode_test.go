package record

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
)

type wantRec struct {
	time time.Time
	meta []kv
	body []kv
}

func decodeAll(t *testing.T, chunk []byte) ([]wantRec, *Decoder) {
	t.Helper()
	d := NewDecoder(chunk)
	var got []wantRec
	var r Record
	last := 0
	for d.Next(&r) {
		if d.Offset() <= last {
			t.Fatalf("Offset did not advance: %d after %d", d.Offset(), last)
		}
		last = d.Offset()
		got = append(got, wantRec{r.Time, mapToGo(t, r.Meta), mapToGo(t, r.Body)})
	}
	if d.Next(&r) {
		t.Fatal("Next returned true after returning false")
	}
	return got, d
}

func TestDecode(t *testing.T) {
	body := obj(t, kv{"msg", "hello"}, kv{"n", 42})
	wantBody := []kv{{"msg", "hello"}, {"n", int64(42)}}
	meta := obj(t, kv{"tag", "app"})
	wantMeta := []kv{{"tag", "app"}}
	t0 := time.Unix(1715949296, 789000123)
	sec := uint32(t0.Unix())

	tests := []struct {
		name    string
		chunk   []byte
		want    []wantRec
		markers int
	}{
		{"empty chunk", nil, nil, 0},
		{"current form, EventTime, nanoseconds kept",
			current(tsExt(sec, 789000123), meta, body),
			[]wantRec{{t0, wantMeta, wantBody}}, 0},
		{"current form, empty metadata",
			current(tsExt(sec, 1), emptyMap, body),
			[]wantRec{{time.Unix(int64(sec), 1), []kv{}, wantBody}}, 0},
		{"current form, EventTime as ext8",
			current(tsExt8(sec, 5), meta, body),
			[]wantRec{{time.Unix(int64(sec), 5), wantMeta, wantBody}}, 0},
		{"current form, int seconds",
			current(tsInt(1700000000), meta, body),
			[]wantRec{{time.Unix(1700000000, 0), wantMeta, wantBody}}, 0},
		{"current form, uint seconds",
			current(tsUint(1700000000), meta, body),
			[]wantRec{{time.Unix(1700000000, 0), wantMeta, wantBody}}, 0},
		{"current form, float seconds, fraction kept",
			current(tsFloat(1700000000.25), meta, body),
			[]wantRec{{time.Unix(1700000000, 250000000), wantMeta, wantBody}}, 0},
		{"current form, float32 seconds",
			current(tsFloat32(1.5), meta, body),
			[]wantRec{{time.Unix(1, 500000000), wantMeta, wantBody}}, 0},
		{"legacy form, EventTime",
			legacy(tsExt(sec, 789000123), body),
			[]wantRec{{t0, []kv{}, wantBody}}, 0},
		{"legacy form, int",
			legacy(tsInt(1700000000), body),
			[]wantRec{{time.Unix(1700000000, 0), []kv{}, wantBody}}, 0},
		{"legacy form, uint64 encoding",
			legacy([]byte{0xcf, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00}, body),
			[]wantRec{{time.Unix(0x6553f100, 0), []kv{}, wantBody}}, 0},
		{"legacy form, float",
			legacy(tsFloat(1700000000.5), body),
			[]wantRec{{time.Unix(1700000000, 500000000), []kv{}, wantBody}}, 0},
		{"bin body values",
			current(tsExt(1, 0), emptyMap, obj(t, kv{"raw", []byte("bytes")}, kv{"log", []byte{0xff, 0}})),
			[]wantRec{{time.Unix(1, 0), []kv{}, []kv{{"raw", []byte("bytes")}, {"log", []byte{0xff, 0}}}}}, 0},
		{"bin keys",
			current(tsExt(1, 0), emptyMap, cat([]byte{0x81}, msgp.AppendBytes(nil, []byte("k")), msgp.AppendString(nil, "v"))),
			[]wantRec{{time.Unix(1, 0), []kv{}, []kv{{"k", "v"}}}}, 0},
		{"nested values and every scalar kind",
			current(tsExt(1, 0), emptyMap, obj(t,
				kv{"nil", nil}, kv{"t", true}, kv{"f", false},
				kv{"neg", -5}, kv{"big", int64(math.MinInt64)}, kv{"u", uint64(math.MaxUint64)},
				kv{"pi", 3.25}, kv{"f32", float32(0.5)},
				kv{"arr", []any{1, "two", []any{}, map[string]any{"x": nil}}},
				kv{"obj", map[string]any{"deep": map[string]any{"deeper": []any{true}}}},
				kv{"when", msgp.Raw(tsExt(7, 8))},
				kv{"ext", msgp.Raw([]byte{0xd4, 9, 1})},
				kv{"dup", 1}, kv{"dup", 2},
			)),
			[]wantRec{{time.Unix(1, 0), []kv{}, []kv{
				{"nil", nil}, {"t", true}, {"f", false},
				{"neg", int64(-5)}, {"big", int64(math.MinInt64)}, {"u", uint64(math.MaxUint64)},
				{"pi", 3.25}, {"f32", 0.5},
				{"arr", []any{int64(1), "two", []any{}, []kv{{"x", nil}}}},
				{"obj", []kv{{"deep", []kv{{"deeper", []any{true}}}}}},
				{"when", time.Unix(7, 8)},
				{"ext", "ext"},
				{"dup", int64(1)}, {"dup", int64(2)},
			}}}, 0},
		{"several records, both forms mixed",
			cat(current(tsExt(1, 1), meta, body), legacy(tsInt(2), body), current(tsFloat(3), emptyMap, emptyMap)),
			[]wantRec{
				{time.Unix(1, 1), wantMeta, wantBody},
				{time.Unix(2, 0), []kv{}, wantBody},
				{time.Unix(3, 0), []kv{}, []kv{}},
			}, 0},
		{"group markers skipped in every form",
			cat(
				current(tsMarkerExt(-1), obj(t, kv{"group", "start"}), emptyMap),
				current(tsExt(10, 0), meta, body),
				current(tsInt(-1), emptyMap, emptyMap),
				current(tsInt(-2), emptyMap, emptyMap),
				current(tsFloat(-1), emptyMap, emptyMap),
				current(tsFloat(-2), emptyMap, emptyMap),
				legacy(tsMarkerExt(-1), emptyMap),
				legacy(tsInt(-1), emptyMap),
				legacy(tsFloat(-2), emptyMap),
				legacy(tsExt(11, 0), body),
				current(tsMarkerExt(-2), emptyMap, emptyMap),
			),
			[]wantRec{
				{time.Unix(10, 0), wantMeta, wantBody},
				{time.Unix(11, 0), []kv{}, wantBody},
			}, 9},
		{"a chunk of markers only", cat(current(tsMarkerExt(-1), emptyMap, emptyMap), current(tsMarkerExt(-2), emptyMap, emptyMap)), nil, 2},
		{"-3 and 0 are ordinary timestamps",
			cat(current(tsInt(-3), emptyMap, emptyMap), legacy(tsInt(0), emptyMap), current(tsMarkerExt(-3), emptyMap, emptyMap)),
			[]wantRec{
				{time.Unix(-3, 0), []kv{}, []kv{}},
				{time.Unix(0, 0), []kv{}, []kv{}},
				{time.Unix(int64(uint32(0xfffffffd)), 0), []kv{}, []kv{}},
			}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, d := decodeAll(t, tc.chunk)
			if err := d.Err(); err != nil {
				t.Fatalf("Err: %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d records, want %d: %s", len(got), len(tc.want), dump(got))
			}
			for i := range got {
				if !got[i].time.Equal(tc.want[i].time) {
					t.Errorf("record %d time %v, want %v", i, got[i].time, tc.want[i].time)
				}
				if got[i].time.Location() != time.UTC {
					t.Errorf("record %d time not UTC", i)
				}
				if !equal(got[i].meta, tc.want[i].meta) {
					t.Errorf("record %d meta\n got %s\nwant %s", i, dump(got[i].meta), dump(tc.want[i].meta))
				}
				if !equal(got[i].body, tc.want[i].body) {
					t.Errorf("record %d body\n got %s\nwant %s", i, dump(got[i].body), dump(tc.want[i].body))
				}
			}
			if d.Markers() != tc.markers {
				t.Errorf("Markers %d, want %d", d.Markers(), tc.markers)
			}
			if d.Offset() != len(tc.chunk) {
				t.Errorf("Offset %d, want %d", d.Offset(), len(tc.chunk))
			}
		})
	}
}

func TestLegacyMetaIsEmpty(t *testing.T) {
	d := NewDecoder(legacy(tsInt(1), obj(t, kv{"a", 1})))
	var r Record
	r.Meta = Map{0x81, 0xa1, 'x', 0x01} // left over from an earlier record
	if !d.Next(&r) {
		t.Fatal(d.Err())
	}
	if len(r.Meta) != 0 || r.Meta.Len() != 0 {
		t.Fatalf("legacy Meta = % x, want empty", []byte(r.Meta))
	}
	if out, _ := r.Meta.AppendJSON(nil); string(out) != "{}" {
		t.Fatalf("empty Meta JSON %q", out)
	}
}

func TestRecordsAliasChunk(t *testing.T) {
	chunk := current(tsExt(1, 0), emptyMap, obj(t, kv{"k", "value"}))
	d := NewDecoder(chunk)
	var r Record
	if !d.Next(&r) {
		t.Fatal(d.Err())
	}
	v, _ := r.Body.Get("k")
	s, _ := v.Str()
	i := bytes.Index(chunk, []byte("value"))
	if &s[0] != &chunk[i] {
		t.Fatal("Str does not alias the chunk")
	}
}

func TestDecoderReset(t *testing.T) {
	var d Decoder // zero value: empty
	var r Record
	if d.Next(&r) || d.Err() != nil {
		t.Fatal("zero Decoder should be at a clean end")
	}
	d.Reset([]byte{0xc1})
	if d.Next(&r) || d.Err() == nil {
		t.Fatal("want an error")
	}
	chunk := cat(current(tsMarkerExt(-1), emptyMap, emptyMap), current(tsExt(5, 0), emptyMap, emptyMap))
	d.Reset(chunk)
	if d.Err() != nil || d.Offset() != 0 || d.Markers() != 0 {
		t.Fatal("Reset did not clear state")
	}
	if !d.Next(&r) || !r.Time.Equal(time.Unix(5, 0)) || d.Markers() != 1 {
		t.Fatalf("after Reset: %v %v %d", r.Time, d.Err(), d.Markers())
	}
	if allocs := testing.AllocsPerRun(100, func() {
		d.Reset(chunk)
		for d.Next(&r) {
		}
	}); allocs != 0 {
		t.Errorf("decoding allocates %v times per chunk", allocs)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := current(tsExt(1, 0), emptyMap, obj(t, kv{"a", "b"}))
	nest := func(levels int) []byte { // body map holding `levels` nested arrays
		b := []byte{0x81, 0xa1, 'x'}
		for i := 0; i < levels; i++ {
			b = append(b, 0x91)
		}
		return append(b, 0xc0)
	}
	tests := []struct {
		name     string
		chunk    []byte
		records  int    // records returned before the error
		index    int    // DecodeError.Index
		offset   int    // DecodeError.Offset
		at       int    // DecodeError.At
		contains string // in the message
	}{
		{"not an array", []byte{0xc0}, 0, 0, 0, 0, "record"},
		{"a map instead of a record", obj(t, kv{"a", 1}), 0, 0, 0, 0, "record"},
		{"array of 3", cat([]byte{0x93}, tsInt(1), emptyMap, emptyMap), 0, 0, 0, 0, "3 elements"},
		{"array of 1", cat([]byte{0x91}, tsInt(1)), 0, 0, 0, 0, "1 elements"},
		{"header of 3", cat([]byte{0x92, 0x93}, tsInt(1), emptyMap, emptyMap, emptyMap), 0, 0, 0, 1, "header"},
		{"timestamp is a string", legacy(enc(t, "now"), emptyMap), 0, 0, 0, 1, "timestamp"},
		{"timestamp is another ext", legacy([]byte{0xd7, 1, 0, 0, 0, 0, 0, 0, 0, 0}, emptyMap), 0, 0, 0, 1, "timestamp"},
		{"timestamp ext truncated", []byte{0x92, 0xd7, 0, 0, 0}, 0, 0, 0, 1, "truncated"},
		{"timestamp uint too big", legacy(tsUint(math.MaxUint64), emptyMap), 0, 0, 0, 1, "out of range"},
		{"timestamp NaN", legacy(tsFloat(math.NaN()), emptyMap), 0, 0, 0, 1, "out of range"},
		{"body is a string", legacy(tsInt(1), enc(t, "text")), 0, 0, 0, 2, "body"},
		{"body is an array", current(tsInt(1), emptyMap, enc(t, []any{1})), 0, 0, 0, 4, "want map"},
		{"metadata is nil", current(tsInt(1), []byte{0xc0}, emptyMap), 0, 0, 0, 3, "metadata"},
		{"second record truncated", cat(good, good[:len(good)-1]), 1, 1, len(good), len(good) + 13, "truncated"},
		{"trailing garbage", cat(good, good, []byte{0x01}), 2, 2, 2 * len(good), 2 * len(good), "record"},
		{"invalid byte", cat(good, []byte{0xc1}), 1, 1, len(good), len(good), "0xc1"},
		{"invalid byte in body", legacy(tsInt(1), []byte{0x81, 0xa1, 'k', 0xc1}), 0, 0, 0, 2, "body"},
		{"huge map length", legacy(tsInt(1), []byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 'k'}), 0, 0, 0, 2, "truncated"},
		{"huge string length", legacy(tsInt(1), []byte{0x81, 0xa1, 'k', 0xdb, 0xff, 0xff, 0xff, 0xff, 'x'}), 0, 0, 0, 2, "truncated"},
		{"huge array length", legacy(tsInt(1), []byte{0x81, 0xa1, 'k', 0xdd, 0xff, 0xff, 0xff, 0xff, 1}), 0, 0, 0, 2, "truncated"},
		{"huge bin length", legacy(tsInt(1), []byte{0x81, 0xa1, 'k', 0xc6, 0x7f, 0xff, 0xff, 0xff}), 0, 0, 0, 2, "truncated"},
		{"1000 levels deep", legacy(tsInt(1), nest(1000)), 0, 0, 0, 2, "deeper than 1000"},
		{"100000 levels deep", legacy(tsInt(1), nest(100000)), 0, 0, 0, 2, "deeper than 1000"},
		{"missing body", []byte{0x92, 0x01}, 0, 0, 0, 2, "truncated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, d := decodeAll(t, tc.chunk)
			if len(got) != tc.records {
				t.Errorf("got %d records before the error, want %d", len(got), tc.records)
			}
			err := d.Err()
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Err = %v, want a *DecodeError", err)
			}
			if de.Index != tc.index || de.Offset != tc.offset || de.At != tc.at {
				t.Errorf("index %d offset %d at %d, want %d %d %d (%v)", de.Index, de.Offset, de.At, tc.index, tc.offset, tc.at, err)
			}
			if d.Offset() != tc.offset {
				t.Errorf("Offset() %d, want %d", d.Offset(), tc.offset)
			}
			msg := err.Error()
			t.Log(msg)
			for _, s := range []string{"record", "offset", tc.contains} {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not mention %q", msg, s)
				}
			}
		})
	}
}

func TestDepthLimit(t *testing.T) {
	// The body map is level 1, so it may hold 999 nested containers.
	for _, levels := range []int{999, 1000} {
		body := []byte{0x81, 0xa1, 'x'}
		for i := 0; i < levels; i++ {
			body = append(body, 0x91)
		}
		body = append(body, 0x01)
		_, d := decodeAll(t, legacy(tsInt(1), body))
		_, jerr := Map(body).AppendJSON(nil)
		rerr := Map(body).Range(func(_ []byte, v Value) bool { return true })
		ok := levels < MaxDepth
		if (d.Err() == nil) != ok || (jerr == nil) != ok || (rerr == nil) != ok {
			t.Errorf("%d levels: decode %v, json %v, range %v; want ok=%v", levels, d.Err(), jerr, rerr, ok)
		}
	}
}

func TestMapAccessors(t *testing.T) {
	m := Map(obj(t,
		kv{"a", "x"}, kv{"b", []byte("y")}, kv{"n", -7}, kv{"u", uint64(1 << 63)},
		kv{"f", 1.5}, kv{"t", true}, kv{"z", nil}, kv{"a", "second"},
		kv{"m", map[string]any{"k": "v"}}, kv{"arr", []any{"p", "q", "r"}},
		kv{"ts", msgp.Raw(tsExt(100, 200))}, kv{"tsf", 100.5},
	))
	if m.Len() != 12 {
		t.Errorf("Len %d", m.Len())
	}
	if v, ok := m.Get("a"); !ok || string(mustStr(t, v)) != "x" {
		t.Error("Get returns the first of duplicate keys")
	}
	if v, ok := m.Get("b"); !ok || v.Kind() != KindBin || string(mustStr(t, v)) != "y" {
		t.Error("bin value")
	}
	if _, ok := m.Get("missing"); ok {
		t.Error("Get of a missing key")
	}
	if v, _ := m.Get("n"); v.Kind() != KindInt {
		t.Errorf("Kind %v", v.Kind())
	} else if i, ok := v.Int(); !ok || i != -7 {
		t.Error("Int")
	} else if f, ok := v.Float(); !ok || f != -7 {
		t.Error("Float of an int")
	} else if _, ok := v.Uint(); ok {
		t.Error("Uint of a negative int")
	} else if _, ok := v.Str(); ok {
		t.Error("Str of an int")
	}
	if v, _ := m.Get("u"); v.Kind() != KindUint {
		t.Errorf("Kind %v", v.Kind())
	} else if _, ok := v.Int(); ok {
		t.Error("Int of a uint that does not fit")
	} else if u, ok := v.Uint(); !ok || u != 1<<63 {
		t.Error("Uint")
	}
	if v, _ := m.Get("f"); v.Kind() != KindFloat {
		t.Errorf("Kind %v", v.Kind())
	} else if f, ok := v.Float(); !ok || f != 1.5 {
		t.Error("Float")
	} else if _, ok := v.Int(); ok {
		t.Error("Int of a float")
	}
	if v, _ := m.Get("t"); v.Kind() != KindBool {
		t.Errorf("Kind %v", v.Kind())
	} else if b, ok := v.Bool(); !ok || !b {
		t.Error("Bool")
	}
	if v, _ := m.Get("z"); v.Kind() != KindNil || !v.IsNil() {
		t.Error("nil")
	}
	if v, _ := m.Get("a"); v.IsNil() {
		t.Error("IsNil of a string")
	}
	if v, _ := m.Get("m"); v.Kind() != KindMap {
		t.Errorf("Kind %v", v.Kind())
	} else if sub, ok := v.Map(); !ok {
		t.Error("Map")
	} else if s, ok := sub.Get("k"); !ok || string(mustStr(t, s)) != "v" {
		t.Error("nested Get")
	}
	if v, _ := m.Get("arr"); v.Kind() != KindArray {
		t.Errorf("Kind %v", v.Kind())
	} else {
		var seen []string
		err := v.Array(func(i int, e Value) bool {
			seen = append(seen, string(mustStr(t, e)))
			return i < 1 // stop after the second
		})
		if err != nil || strings.Join(seen, ",") != "p,q" {
			t.Errorf("Array early stop: %v %v", seen, err)
		}
		if _, ok := v.Map(); ok {
			t.Error("Map of an array")
		}
	}
	if v, _ := m.Get("ts"); v.Kind() != KindExt {
		t.Errorf("Kind %v", v.Kind())
	} else if tm, ok := v.Time(); !ok || !tm.Equal(time.Unix(100, 200)) {
		t.Error("Time of EventTime")
	}
	if v, _ := m.Get("tsf"); true {
		if tm, ok := v.Time(); !ok || !tm.Equal(time.Unix(100, 5e8)) {
			t.Error("Time of a float")
		}
	}
	if v, _ := m.Get("a"); true {
		if _, ok := v.Time(); ok {
			t.Error("Time of a string")
		}
		if err := v.Array(func(int, Value) bool { return true }); err == nil {
			t.Error("Array of a string")
		}
	}
	// Range stops early.
	n := 0
	if err := m.Range(func([]byte, Value) bool { n++; return n < 3 }); err != nil || n != 3 {
		t.Errorf("Range early stop: %d %v", n, err)
	}
	// Get does not allocate.
	if a := testing.AllocsPerRun(100, func() { m.Get("tsf") }); a != 0 {
		t.Errorf("Get allocates %v", a)
	}
	// Invalid values.
	for _, v := range []Value{nil, {0xc1}} {
		if v.Kind() != KindInvalid {
			t.Errorf("Kind of % x = %v", []byte(v), v.Kind())
		}
	}
}

func mustStr(t *testing.T, v Value) []byte {
	t.Helper()
	s, ok := v.Str()
	if !ok {
		t.Fatalf("not a string: % x", []byte(v))
	}
	return s
}

func TestMapErrors(t *testing.T) {
	tests := []struct {
		name   string
		m      Map
		jsonOK bool // AppendJSON writes number keys as strings
	}{
		{"int key", Map{0x81, 0x01, 0x02}, true},
		{"array key", Map{0x81, 0x91, 0x01, 0x02}, false},
		{"truncated key", Map{0x81, 0xa3, 'a'}, false},
		{"missing value", Map{0x81, 0xa1, 'a'}, false},
		{"truncated value", Map{0x82, 0xa1, 'a', 0x01, 0xa1, 'b', 0xcd, 0x01}, false},
		{"not a map", Map{0x91, 0x01}, false},
		{"huge length", Map{0xdf, 0xff, 0xff, 0xff, 0xff}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.m.Range(func([]byte, Value) bool { return true }); err == nil {
				t.Error("Range: no error")
			}
			if _, ok := tc.m.Get("b"); ok {
				t.Error("Get found a value")
			}
			if tc.jsonOK {
				return
			}
			if out, err := tc.m.AppendJSON([]byte("x")); err == nil || string(out) != "x" {
				t.Errorf("AppendJSON: %q %v, want an error and dst unchanged", out, err)
			}
		})
	}
}

// Appending to a returned slice must not overwrite the chunk.
func TestSlicesCannotOverwriteChunk(t *testing.T) {
	chunk := cat(current(tsExt(1, 0), obj(t, kv{"m", 1}), obj(t, kv{"k", "v"}, kv{"a", []any{"x", 2}})), legacy(tsInt(2), obj(t, kv{"b", 1})))
	orig := string(chunk)
	d := NewDecoder(chunk)
	var r Record
	for d.Next(&r) {
		_ = append(r.Meta, 0xff)
		_ = append(r.Body, 0xff)
		_ = r.Body.Range(func(k []byte, v Value) bool {
			_ = append(k, 0xff)
			_ = append(v, 0xff)
			if s, ok := v.Str(); ok {
				_ = append(s, 0xff)
			}
			_ = v.Array(func(_ int, e Value) bool { _ = append(e, 0xff); return true })
			return true
		})
		if v, ok := r.Body.Get("k"); ok {
			_ = append(v, 0xff)
		}
	}
	if d.Err() != nil || string(chunk) != orig {
		t.Fatalf("chunk changed (err %v)", d.Err())
	}
}
