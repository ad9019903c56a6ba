package jsonscan

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tidwall/gjson"
	"github.com/valyala/fastjson"

	"github.com/whirlpool-events/whirlpool/internal/benchcpu"
)

var cases = []string{
	`{}`, ` { } `, `[]`, `[ ]`, `{"a":1}`, `{"a":-0.5e+10,"b":[true,false,null,{"c":"d"}],"e":"\u00e9\n\"\\\/"}`,
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":1E+}`, `{"a":-}`, `{"a":+1}`, `{"a":1,}`, `{,}`, `{"a"}`, `{"a":}`,
	`{"a":[1,]}`, `{"a":[,1]}`, `{"a":tru}`, `{"a":nul}`, `{"a":fals}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"\u12G4"}`, `{"a":"\uABcd"}`,
	"{\"a\":\"tab\there\"}", "{\"a\":\"\x01\"}", "{\"a\x01\":1}", `{"a":"unterminated}`, `{"a":1}}`, `{"a":1} {}`, `[1]`, `"s"`, `1`, `-0`, `-01`,
	"{\"a\":\"\xff\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\uFFFE\"}", "{\"a\":\"\uFFFF\"}", "{\"a\":\"\U0001F600 ok\"}", "{\"\xff\":1}",
	"{\n\"a\" :\r\n 1\t}", `{"a":{"b":{"c":[[[[]]]]}}}`, `{"a":"` + strings.Repeat("x", 100) + `"}`, `{"a":1e5,"b":0,"c":-0,"d":0.0e-0}`,
	``, ` `, `{`, `}`, `{"`, `{"a":[`, `{"a":"\`, `{"a":"\"}`, `{"a\"b":2}`, `[1 2]`, `{"a":1 "b":2}`, `{"a" 1}`, `{1:2}`,
	"\v{}", "{}\v", "{}\x00", `[[],{},[{}],{"a":[]}]`, `{"a":{}}`, `{"a":[],"b":{},"c":""}`, `truex`, `nullnull`, `{"a":truefalse}`,
}

func fastjsonValid(b []byte) bool { return fastjson.ValidateBytes(b) == nil }

// check asserts Valid's answer on b: encoding/json's, and never valid
// where fastjson's validator (the exact path callers fall back to) refuses.
func check(t *testing.T, b []byte) {
	t.Helper()
	got := Valid(b, Options{})
	if want := json.Valid(b); got != want {
		t.Fatalf("Valid(%q) = %v, encoding/json says %v", b, got, want)
	}
	if got && !fastjsonValid(b) {
		t.Fatalf("Valid(%q) = true, fastjson refuses it", b)
	}
}

func TestValid(t *testing.T) {
	for _, c := range cases {
		check(t, []byte(c))
	}
	// fastjson checks for control characters only after a string's last
	// escape; Valid refuses them anywhere, as RFC 8259 does.
	if Valid([]byte("\"\n\\b\""), Options{}) || !fastjsonValid([]byte("\"\n\\b\"")) {
		t.Error("a control character before an escape")
	}
}

// utf8Reference is what UTF8 mode must answer: valid JSON, valid UTF-8,
// neither U+FFFE nor U+FFFF.
func utf8Reference(b []byte) bool {
	return json.Valid(b) && utf8.Valid(b) && !bytes.Contains(b, []byte("\uFFFE")) && !bytes.Contains(b, []byte("\uFFFF"))
}

func TestUTF8Mode(t *testing.T) {
	for _, c := range cases {
		if got, want := Valid([]byte(c), Options{UTF8: true}), utf8Reference([]byte(c)); got != want {
			t.Errorf("Valid(%q, UTF8) = %v, want %v", c, got, want)
		}
	}
}

func TestDepth(t *testing.T) {
	nest := func(n int) []byte {
		return []byte(strings.Repeat(`{"a":[`, n/2) + "1" + strings.Repeat("]}", n/2))
	}
	for _, c := range []struct {
		depth, limit int
		want         bool
	}{{10, 10, true}, {12, 10, false}, {maxDepth, 0, true}, {maxDepth + 2, 0, false}, {maxDepth + 2, maxDepth + 100, false}} {
		if got := Valid(nest(c.depth), Options{MaxDepth: c.limit}); got != c.want {
			t.Errorf("depth %d, MaxDepth %d: %v, want %v", c.depth, c.limit, got, c.want)
		}
	}
}

// members is what Scan hands over, as "key=value" lines.
func members(b []byte) (string, bool) {
	var s strings.Builder
	ok := Scan(b, Options{}, func(k, v []byte) bool {
		s.WriteString(string(k) + "=" + string(v) + "\n")
		return true
	})
	return s.String(), ok
}

// gjsonMembers is the same from gjson, for a valid object.
func gjsonMembers(b []byte) string {
	var s strings.Builder
	gjson.ParseBytes(b).ForEach(func(k, v gjson.Result) bool {
		raw := k.Raw
		s.WriteString(raw[1:len(raw)-1] + "=" + v.Raw + "\n")
		return true
	})
	return s.String()
}

func TestScanMembers(t *testing.T) {
	got, ok := members([]byte(` {"a" : 1 , "b\"c":{"x":[1,{"y":2}]},"d":"s\n","e":[ ],"f":null} `))
	want := "a=1\nb\\\"c={\"x\":[1,{\"y\":2}]}\nd=\"s\\n\"\ne=[ ]\nf=null\n"
	if !ok || got != want {
		t.Errorf("members: %v\n%s\nwant\n%s", ok, got, want)
	}
	if got, ok := members([]byte(`[{"a":1}]`)); !ok || got != "" {
		t.Errorf("an array has no members: %q %v", got, ok)
	}
	stopped := 0
	if Scan([]byte(`{"a":1,"b":2}`), Options{}, func(k, v []byte) bool { stopped++; return false }) || stopped != 1 {
		t.Errorf("a member returning false stops the scan (%d calls)", stopped)
	}
}

// elements is what Elements hands over, one raw element a line.
func elements(b []byte) (string, bool) {
	var s strings.Builder
	ok := Elements(b, Options{}, func(v []byte) bool {
		s.WriteString(string(v) + "\n")
		return true
	})
	return s.String(), ok
}

// gjsonElements is the same from gjson, for a valid array.
func gjsonElements(b []byte) string {
	var s strings.Builder
	gjson.ParseBytes(b).ForEach(func(_, v gjson.Result) bool {
		s.WriteString(v.Raw + "\n")
		return true
	})
	return s.String()
}

func TestElements(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{` [ {"a":[1,2]} , 3,"x]",[ ],{"b":{"c":[4]}} ] `, "{\"a\":[1,2]}\n3\n\"x]\"\n[ ]\n{\"b\":{\"c\":[4]}}\n"},
		{`[]`, ""},
		{`[[1],[2]]`, "[1]\n[2]\n"},
		{`{"a":[1]}`, ""}, // an object has no elements
	} {
		if got, ok := elements([]byte(tc.in)); !ok || got != tc.want {
			t.Errorf("Elements(%s) = %v\n%s\nwant\n%s", tc.in, ok, got, tc.want)
		}
	}
	for _, bad := range []string{`[1,]`, `[1 2]`, `[{"a":1}`, `[{"a":1}]]`, `[{"a":}]`} {
		if _, ok := elements([]byte(bad)); ok {
			t.Errorf("Elements(%s) = true, want false", bad)
		}
	}
	calls := 0
	if Elements([]byte(`[1,2]`), Options{}, func([]byte) bool { calls++; return false }) || calls != 1 {
		t.Errorf("an element returning false stops the scan (%d calls)", calls)
	}
}

func FuzzValid(f *testing.F) {
	for _, c := range cases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if bytes.Count(b, []byte("{"))+bytes.Count(b, []byte("[")) > maxDepth {
			return // the depth bound, which the references do not have
		}
		check(t, b)
		valid := Valid(b, Options{})
		if got, want := Valid(b, Options{UTF8: true}), utf8Reference(b); got != want {
			t.Fatalf("Valid(%q, UTF8) = %v, want %v", b, got, want)
		}
		if t0 := bytes.TrimLeft(b, " \t\r\n"); valid && len(t0) > 0 && t0[0] == '{' {
			if got, want := must(members(b)), gjsonMembers(b); got != want {
				t.Fatalf("members of %q:\n%s\ngjson:\n%s", b, got, want)
			}
		}
		if got, want := Valid(b, Options{PlainTop: true}), valid && !topEscape(b); got != want {
			t.Fatalf("Valid(%q, PlainTop) = %v, want %v", b, got, want)
		}
		if t0 := bytes.TrimLeft(b, " \t\r\n"); len(t0) > 0 && t0[0] == '[' {
			got, ok := elements(b)
			if ok != valid {
				t.Fatalf("Elements(%q) = %v, Valid %v", b, ok, valid)
			}
			if want := gjsonElements(b); ok && got != want {
				t.Fatalf("elements of %q:\n%s\ngjson:\n%s", b, got, want)
			}
		}
	})
}

func must(s string, ok bool) string {
	if !ok {
		return "<invalid>"
	}
	return s
}

// BenchmarkValid: the check of a ~530-byte event, beside fastjson's.
func BenchmarkValid(b *testing.B) {
	ev := []byte(`{"event_name":"level_complete","game":"moshi_monsters","game_version":"5.12.3","platform":"ios","user_id":"2b1e8a9c-4d7f-4a4e-9b1c-3f6a2d8e7c10","session_id":"9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f","client_ts":"2024-05-17T12:34:56.789Z","seq":18342,"level":{"id":"world3_level12","difficulty":"hard","duration_ms":184230,"stars":3,"retries":2},"rewards":[{"type":"coins","amount":250},{"type":"gem","amount":1}],"device":{"model":"iPhone14,2","os":"17.4.1","locale":"en_GB"},"ab_groups":["shop_v2","tutorial_b"],"is_paying":true}`)
	for _, c := range []struct {
		name  string
		valid func([]byte) bool
	}{
		{"fastjson", fastjsonValid},
		{"jsonscan", func(b []byte) bool { return Valid(b, Options{}) }},
		{"jsonscan-utf8", func(b []byte) bool { return Valid(b, Options{UTF8: true}) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(ev)))
			cpu := benchcpu.Start(b)
			for b.Loop() {
				if !c.valid(ev) {
					b.Fatal("invalid")
				}
			}
			cpu.Report(b, b.N, "texts/cpu-s")
		})
	}
}

// skimMembers is what Scan hands over with member "a" skimmed.
func skimMembers(b []byte) (string, bool) {
	var s strings.Builder
	ok := Scan(b, Options{SkimKey: "a"}, func(k, v []byte) bool {
		s.WriteString(string(k) + "=" + string(v) + "\n")
		return true
	})
	return s.String(), ok
}

func TestSkim(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" when refused
	}{
		{`{"a":{"x":"}"},"b":1}`, "a={\"x\":\"}\"}\nb=1\n"},
		{`{"a":{"x":"\"}"},"b":1}`, "a={\"x\":\"\\\"}\"}\nb=1\n"},
		{`{"a":{"x":"\\"},"b":1}`, "a={\"x\":\"\\\\\"}\nb=1\n"},
		{`{"a":[1,{"x":[]}],"b":2}`, "a=[1,{\"x\":[]}]\nb=2\n"},
		{` { "b" : "s" , "a" : { } } `, "b=\"s\"\na={ }\n"},
		// skimmed, not checked: not JSON inside, and brackets of either kind
		{`{"a":{"x":01,"y":tru},"b":1}`, "a={\"x\":01,\"y\":tru}\nb=1\n"},
		{`{"a":{"x":[1}],"b":1}`, "a={\"x\":[1}]\nb=1\n"},
		// everything else is checked as ever
		{`{"b":{"x":01}}`, ""},
		{`{"a":"\x"}`, ""},
		{`{"a":{"x":1},"b":tru}`, ""},
		{`{"a":{"x":1}},"b":1}`, ""},
		{`[{"a":{"x":01}}]`, ""}, // only a top-level member is skimmed
		{`{"c":{"a":{"x":01}}}`, ""},
		// unterminated
		{`{"a":{"x":1}`, ""},
		{`{"a":{"x":"}`, ""},
		{`{"a":{"x":"\`, ""},
		{`{"a":[`, ""},
	} {
		got, ok := skimMembers([]byte(tc.in))
		if !ok {
			got = ""
		}
		if got != tc.want {
			t.Errorf("Scan(%s, SkimKey a) = %v\n%s\nwant\n%s", tc.in, ok, got, tc.want)
		}
	}
}

// FuzzSkim: skimming finds exactly the members a check finds in any JSON,
// and lets nothing through but the skimmed values: a text it accepts
// whose skimmed values are JSON is JSON.
func FuzzSkim(f *testing.F) {
	for _, c := range cases {
		f.Add([]byte(c))
	}
	f.Add([]byte(`{"a":{"x":"}"},"b":1}`))
	f.Add([]byte(`{"a":[1,{"x":"\\"}],"b":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if bytes.Count(b, []byte("{"))+bytes.Count(b, []byte("[")) > maxDepth {
			return // the depth bound, which skimming does not apply
		}
		skimmed, ok := skimMembers(b)
		checked, valid := members(b)
		if valid && (!ok || skimmed != checked) {
			t.Fatalf("JSON %q: skim %v\n%s\ncheck\n%s", b, ok, skimmed, checked)
		}
		if !ok || valid {
			return
		}
		// accepted, not JSON: some skimmed value must not be JSON
		bad := false
		Scan(b, Options{SkimKey: "a"}, func(k, v []byte) bool {
			if string(k) == "a" && (v[0] == '{' || v[0] == '[') && !Valid(v, Options{}) {
				bad = true
			}
			return true
		})
		if !bad {
			t.Fatalf("skimming accepted %q, which is not JSON, though its skimmed values are", b)
		}
	})
}

// StringEnd ends a string where encoding/json does: at random texts of
// quotes, escapes, control and high bytes, from every position, it finds
// the shortest prefix that is a JSON string, or none.
func TestStringEndMatchesEncodingJSON(t *testing.T) {
	shortest := func(b []byte, i int) (int, bool) {
		for e := i + 1; e <= len(b); e++ {
			if b[e-1] == '"' && json.Valid(append([]byte{'"'}, b[i:e]...)) {
				return e, true
			}
		}
		return 0, false
	}
	r := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		b := make([]byte, r.IntN(24))
		for j := range b {
			b[j] = "ab\"\\nu0\x01\xff"[r.IntN(9)]
		}
		start := 0
		if len(b) > 0 {
			start = r.IntN(len(b) + 1)
		}
		wantEnd, wantOK := shortest(b, start)
		if end, ok := StringEnd(b, start); ok != wantOK || ok && end != wantEnd {
			t.Fatalf("StringEnd(%q, %d) = %d, %v; want %d, %v", b, start, end, ok, wantEnd, wantOK)
		}
	}
}

func TestNumberEnd(t *testing.T) {
	for _, tc := range []struct {
		in  string
		end int // -1: refused
	}{
		{"0", 1}, {"-0", 2}, {"12", 2}, {"1.5e+3,", 6}, {"1E5}", 3}, {"0.0", 3}, {"1x", 1}, {"1-2", 1}, {"01", 1},
		{"-", -1}, {"1.", -1}, {"1.e5", -1}, {"1e", -1}, {"1e+", -1}, {"-a", -1}, {"--1", -1},
	} {
		end, ok := NumberEnd([]byte(tc.in), 0)
		if ok != (tc.end >= 0) || ok && end != tc.end {
			t.Errorf("NumberEnd(%q) = %d, %v; want %d", tc.in, end, ok, tc.end)
		}
	}
}

// randomValue is a JSON value of brackets, strings full of brackets,
// quotes and backslashes, numbers and literals, nested up to depth.
func randomValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(6); {
	case k == 0 && depth > 0:
		m := map[string]any{}
		for range r.IntN(5) {
			m[randomString(r)] = randomValue(r, depth-1)
		}
		return m
	case k == 1 && depth > 0:
		a := make([]any, r.IntN(5))
		for j := range a {
			a[j] = randomValue(r, depth-1)
		}
		return a
	case k == 2:
		return r.IntN(100000)
	case k == 3:
		return []any{true, false, nil}[r.IntN(3)]
	}
	return randomString(r)
}

func randomString(r *rand.Rand) string {
	b := make([]byte, r.IntN(20))
	for j := range b {
		b[j] = `ab{}[]"\:,é`[r.IntN(11)]
	}
	return string(b)
}

// Skimming finds every value's end in random JSON, at every alignment of
// its brackets, quotes and escapes to the 8-byte words it reads.
func TestSkimRandomJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 20000 {
		v, err := json.Marshal(randomValue(r, 4))
		if err != nil {
			t.Fatal(err)
		}
		if v[0] != '{' && v[0] != '[' {
			continue
		}
		pad := strings.Repeat(" ", r.IntN(8))
		b := []byte(`{"x":"` + pad + `","a":` + string(v) + `,"b":[1]}`)
		got, ok := skimMembers(b)
		if want := "x=\"" + pad + "\"\na=" + string(v) + "\nb=[1]\n"; !ok || got != want {
			t.Fatalf("skim %q: %v\n%s\nwant\n%s", b, ok, got, want)
		}
	}
}

// topEscape reports whether valid JSON b has an escape in a top-level key
// or in a string that is a top-level member's value (gjson's reading).
func topEscape(b []byte) bool {
	found, r := false, gjson.ParseBytes(b)
	if !r.IsObject() {
		return false // only members count
	}
	r.ForEach(func(k, v gjson.Result) bool {
		if strings.Contains(k.Raw, "\\") || v.Type == gjson.String && strings.Contains(v.Raw, "\\") {
			found = true
		}
		return true
	})
	return found
}

func TestPlainTop(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{`{"a":"b","c":{"d":"e\"f"},"g":["h\\"]}`, true}, // escapes below the top level
		{`{"a\u0062":1}`, false},
		{`{"a key longer than 8\n":1}`, false},
		{`{"a":"b\"c"}`, false},
		{`{"a":"a value longer than 8 bytes\/"}`, false},
		{`["x","y\"z"]`, true}, // elements do not count
		{`[["y\"z"]]`, true},
		{`"top\n"`, true}, // not a member nor an element
	} {
		if got := Valid([]byte(tc.in), Options{PlainTop: true}); got != tc.want {
			t.Errorf("Valid(%s, PlainTop) = %v, want %v", tc.in, got, tc.want)
		}
		if !Valid([]byte(tc.in), Options{}) {
			t.Errorf("Valid(%s) = false", tc.in)
		}
	}
}
