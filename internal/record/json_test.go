package record

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tinylib/msgp/msgp"
)

// gameEventKV is the ~530-byte game event of perf_anchors.md §7, nested as
// there, in field order.
func gameEventKV() []kv {
	return []kv{
		{"event_name", "level_complete"},
		{"game", "moshi_monsters"},
		{"game_version", "5.12.3"},
		{"platform", "ios"},
		{"user_id", "0b9f3c1e-6c2a-4f7e-9d3b-5a1e2c4d6f80"},
		{"session_id", "7d2e9a41-3b5c-4e8f-a1d6-2c9b8e7f5a34"},
		{"client_ts", "2024-05-17T12:34:56.789Z"},
		{"seq", 18342},
		{"level", map[string]any{"id": "world3_level12", "difficulty": "hard", "duration_ms": 184230, "stars": 3, "retries": 2}},
		{"rewards", []any{map[string]any{"type": "coins", "amount": 250}, map[string]any{"type": "gem", "amount": 1}}},
		{"device", map[string]any{"model": "iPhone14,2", "os": "17.4.1", "locale": "en_GB"}},
		{"ab_groups", []any{"shop_v2", "tutorial_b"}},
		{"is_paying", true},
	}
}

func gameEvent(t testing.TB) []byte { return obj(t, gameEventKV()...) }

// goMap turns ordered entries into the map encoding/json gets as reference.
func goMap(entries []kv) map[string]any {
	m := map[string]any{}
	for _, e := range entries {
		m[e.k] = e.v
	}
	return m
}

// TestAppendJSONReference encodes Go values with msgp, writes them as JSON
// and compares the parsed result with encoding/json's rendering of the same
// Go values.
func TestAppendJSONReference(t *testing.T) {
	longStr := strings.Repeat("abc\"\\\n\u00e9\u2028", 100)
	tests := []struct {
		name string
		in   any // encoded with msgp
		ref  any // given to encoding/json; nil means same as in
	}{
		{"game event", goMap(gameEventKV()), nil},
		{"strings", map[string]any{
			"plain": "hello", "quote": `say "hi"`, "backslash": `C:\dir\`, "controls": "\x00\x01\x08\x09\x0a\x0c\x0d\x1f\x7f",
			"unicode": "héllo wörld ✓ 😀 中文", "separators": "a\u2028b\u2029c", "invalid": "a\xffb\xc3(c\xed\xa0\x80d", "empty": "",
			"truncated rune": "x\xe2\x82", "html": "<a href='x'>&amp;</a>", "long": longStr,
			"key \"quoted\"\n": "k", "\xff": "invalid key",
		}, nil},
		{"numbers", map[string]any{
			"zero": 0, "neg": -1, "minint": int64(math.MinInt64), "maxint": int64(math.MaxInt64),
			"maxuint": uint64(math.MaxUint64), "u8": uint8(200), "i16": int16(-30000),
			"f": 0.1, "third": 1.0 / 3, "big": 1e21, "small": 1e-7, "negzero": math.Copysign(0, -1), "whole": 3.0,
			"maxf": math.MaxFloat64, "tiny": math.SmallestNonzeroFloat64, "f32": float32(0.1), "f32big": float32(3.4e38),
		}, nil},
		{"nan and inf are null", map[string]any{"nan": math.NaN(), "inf": math.Inf(1), "ninf": math.Inf(-1), "f32nan": float32(math.NaN())},
			map[string]any{"nan": nil, "inf": nil, "ninf": nil, "f32nan": nil}},
		{"bin as text or base64", map[string]any{"text": []byte("plain text ✓"), "binary": []byte{0xff, 0x00, 0x10}, "empty": []byte{}},
			map[string]any{"text": "plain text ✓", "binary": []byte{0xff, 0x00, 0x10}, "empty": ""}},
		{"nested", map[string]any{
			"a": []any{1, "x", nil, true, false, []any{}, map[string]any{}, []any{[]any{[]any{2.5}}}},
			"m": map[string]any{"n": map[string]any{"o": map[string]any{"p": "q"}}},
		}, nil},
		{"empty map", map[string]any{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := enc(t, tc.in)
			ref := tc.ref
			if ref == nil {
				ref = tc.in
			}
			out, err := Map(b).AppendJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(out) {
				t.Fatalf("invalid JSON: %s", out)
			}
			if got, want := parseJSON(t, out), refJSON(t, ref); !equalJSON(got, want) {
				t.Errorf("\n got %s\nwant %s\n out %s", dump(got), dump(want), out)
			}
		})
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y) // maps marshal with sorted keys
}

// TestAppendJSONExact pins the exact text of cases the reference test
// cannot (escaping choices, timestamps, extensions, key conversion).
func TestAppendJSONExact(t *testing.T) {
	tests := []struct {
		name string
		v    []byte
		want string
	}{
		{"escapes", enc(t, "\"\\/\n\r\t\b\f\x00\x1f\x7f"), `"\"\\/\n\r\t\b\f\u0000\u001f` + "\x7f" + `"`},
		{"U+2028 U+2029 escaped", enc(t, "a\u2028b\u2029"), `"a\u2028b\u2029"`},
		{"U+FFFE U+FFFF escaped (SQS refuses them raw)", enc(t, "a\ufffeb\uffffc\ufffd"), `"a\ufffeb\uffffc` + "\ufffd" + `"`},
		{"other unicode kept", enc(t, "é✓😀\u2027\u202a"), "\"é✓😀\u2027\u202a\""},
		{"each invalid byte replaced", enc(t, "a\xff\xfeb"), `"a\ufffd\ufffdb"`},
		{"surrogate half replaced", enc(t, "\xed\xa0\x80"), `"\ufffd\ufffd\ufffd"`},
		{"html not escaped", enc(t, "<&>"), `"<&>"`},
		{"bin text", msgp.AppendBytes(nil, []byte("hi\n")), `"hi\n"`},
		{"bin base64", msgp.AppendBytes(nil, []byte{0xfb, 0xff, 0xbf}), `"+/+/"`},
		{"bin with U+2028", msgp.AppendBytes(nil, []byte("\u2028")), `"\u2028"`},
		{"int", enc(t, -42), `-42`},
		{"fixint", []byte{0x7f}, `127`},
		{"uint64 max", enc(t, uint64(math.MaxUint64)), `18446744073709551615`},
		{"int64 min", enc(t, int64(math.MinInt64)), `-9223372036854775808`},
		{"float shortest", enc(t, 0.1), `0.1`},
		{"float32 shortest", enc(t, float32(0.1)), `0.1`},
		{"float exponent", enc(t, 1e21), `1e+21`},
		{"float whole", enc(t, 2.0), `2`},
		{"NaN", enc(t, math.NaN()), `null`},
		{"-Inf", enc(t, math.Inf(-1)), `null`},
		{"bool", enc(t, []any{true, false, nil}), `[true,false,null]`},
		{"EventTime", tsExt(1700000000, 123000000), `1700000000.123`},
		{"EventTime 1 ns", tsExt(1, 1), `1.000000001`},
		{"EventTime whole", tsExt(5, 0), `5`},
		{"EventTime ext8", tsExt8(5, 500000000), `5.5`},
		{"EventTime nsec overflow normalised", tsExt(5, 1500000000), `6.5`},
		{"other ext", []byte{0xd4, 7, 1}, `null`},
		{"ext 0 of other size", []byte{0xd6, 0, 1, 2, 3, 4}, `null`},
		{"msgp time ext", enc(t, time.Unix(1, 0)), `null`},
		{"empty map", []byte{0x80}, `{}`},
		{"empty array", []byte{0x90}, `[]`},
		{"key order and duplicates kept", obj(t, kv{"b", 1}, kv{"a", 2}, kv{"b", 3}), `{"b":1,"a":2,"b":3}`},
		{"number keys as strings", []byte{0x84, 0x01, 0x02, 0xd0, 0xff, 0x03, 0xc3, 0x04, 0xc0, 0x05}, `{"1":2,"-1":3,"true":4,"null":5}`},
		{"bin key", cat([]byte{0x81}, msgp.AppendBytes(nil, []byte("k")), []byte{0x01}), `{"k":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Value(tc.v).AppendJSON([]byte("prefix:"))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimPrefix(string(out), "prefix:"); got != tc.want || !strings.HasPrefix(string(out), "prefix:") {
				t.Errorf("got %s, want %s", out, tc.want)
			}
			if !json.Valid([]byte(tc.want)) {
				t.Errorf("expectation %s is not JSON", tc.want)
			}
		})
	}
}

func TestAppendJSONErrors(t *testing.T) {
	tests := []struct {
		name string
		v    []byte
	}{
		{"empty", nil},
		{"invalid byte", []byte{0xc1}},
		{"truncated str", []byte{0xa5, 'a'}},
		{"truncated array", []byte{0x92, 0x01}},
		{"truncated ext", []byte{0xd7, 0, 1}},
		{"truncated float", []byte{0xcb, 0, 0}},
		{"map key is an array", []byte{0x81, 0x90, 0x01}},
		{"map key is a map", []byte{0x81, 0x80, 0x01}},
		{"trailing bytes", []byte{0x01, 0x02}},
		{"too deep", append(append([]byte{}, strings.Repeat("\x91", 1001)...), 0x01)},
		{"huge array", []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0x01}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Value(tc.v).AppendJSON([]byte("keep"))
			if err == nil {
				t.Fatalf("no error; wrote %s", out)
			}
			if string(out) != "keep" {
				t.Errorf("dst changed to %q", out)
			}
		})
	}
	if _, err := Map(enc(t, "str")).AppendJSON(nil); err == nil {
		t.Error("Map.AppendJSON of a string: no error")
	}
	deep := append([]byte(strings.Repeat("\x91", 999)), 0x01) // 999 levels are fine
	if out, err := Value(deep).AppendJSON(nil); err != nil || !json.Valid(out) {
		t.Errorf("999 levels: %v", err)
	}
}

func TestAppendJSONNoAllocs(t *testing.T) {
	chunk := AppendRecord(nil, time.Unix(1, 2), nil, gameEvent(t))
	chunk = AppendRecord(chunk, time.Unix(1, 2), nil, obj(t, kv{"bin", []byte{0xff}}, kv{"f", 0.5}, kv{"ts", msgp.Raw(tsExt(1, 2))}, kv{"esc", "a\"\n\u2028\xff"}))
	d := NewDecoder(chunk)
	dst := make([]byte, 0, 4096)
	var r Record
	allocs := testing.AllocsPerRun(100, func() {
		d.Reset(chunk)
		for d.Next(&r) {
			var err error
			if dst, err = r.Body.AppendJSON(dst[:0]); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("AppendJSON allocates %v times", allocs)
	}
}

// TestAppendJSONStrings checks string escaping byte by byte against
// encoding/json for every 1- and 2-byte input, and the invalid UTF-8 rule
// for bin.
func TestAppendJSONStrings(t *testing.T) {
	check := func(s string) {
		out, err := Value(msgp.AppendString(nil, s)).AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		var got, want string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q -> invalid JSON %s", s, out)
		}
		ref, _ := json.Marshal(s)
		_ = json.Unmarshal(ref, &want)
		if got != want {
			t.Fatalf("%q: got %q want %q", s, got, want)
		}
		out, err = Value(msgp.AppendBytes(nil, []byte(s))).AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		var wantBin any = s
		if !utf8.ValidString(s) {
			wantBin = []byte(s)
		}
		ref, _ = json.Marshal(wantBin)
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("bin %q -> invalid JSON %s", s, out)
		}
		_ = json.Unmarshal(ref, &want)
		if got != want {
			t.Fatalf("bin %q: got %q want %q", s, got, want)
		}
	}
	for i := 0; i < 256; i++ {
		for j := 0; j < 256; j++ {
			check(string([]byte{byte(i), byte(j)}))
		}
	}
	// Every byte at every position of strings of 1 to 19 bytes, which
	// covers the 8-bytes-at-a-time scan, its tail and overlapping load.
	for n := 1; n < 20; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				b := []byte(strings.Repeat("x", n))
				b[pos] = byte(c)
				check(string(b))
			}
		}
	}
	// Multi-byte runes (and U+2028) straddling 8-byte boundaries.
	for _, r := range []string{"é", "✓", "😀", "\u2028", "\u2029", "\ufffe", "\uffff", "\xff"} {
		for pre := 0; pre < 17; pre++ {
			check(strings.Repeat("a", pre) + r + strings.Repeat("b", 9))
			check(strings.Repeat("a", pre) + r)
		}
	}
}
