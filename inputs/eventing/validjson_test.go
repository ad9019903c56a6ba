package eventing

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzValidJSON: validJSON accepts exactly what encoding/json.Valid
// accepts (the seeds run with every go test; go test -fuzz explores more).
func FuzzValidJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"a":1}`, ` {"a":[1,2,{"b":null}]} `, `{"a":1}}`, `{"a":1} x`, `{"a":1}{"b":2}`,
		`{"a":01}`, `{"a":-0}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e5}`, `{"a":1E+5}`, `{"a":1e}`, `{"a":+1}`,
		`{"a":NaN}`, `{"a":Infinity}`, `{"a":-}`, `{"a":tru}`, `{"a":true}`, `{"a":nul}`,
		`{"a":"\u00e9"}`, `{"a":"\u00zz"}`, `{"a":"\x"}`, `{"a":"\/"}`, "{\"a\":\"tab\there\"}", "{\"a\":\"nl\nhere\"}",
		"{\"a\x01\":1}", "{\"a\":\"\xff\xfe\"}", `{"a":"unterminated}`, `{"a" 1}`, `{"a":1,}`, `{,}`, `{"a":[1,]}`,
		`[1,2]`, `"s"`, `12`, `null`, ``, ` `, `{`, `}`, `{"a":{"b":{"c":[[[[]]]]}}}`,
		"{\"a\":1}\u00a0", "\v{}", "{}\f",
		strings.Repeat("[", 4097) + strings.Repeat("]", 4097), // deeper than jsonscan goes
		`{"a":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`,
		`{"a":` + strings.Repeat("[", 300) + strings.Repeat("]", 299) + `}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, encoding/json.Valid says %v", b, got, want)
		}
	})
}

// FuzzSplitArray: the one-pass cut of a valid array gives exactly what the
// exact path gives (events, bad events and the request's error), and the
// exact path is taken for every body that is not a valid array.
func FuzzSplitArray(f *testing.F) {
	for _, s := range []string{
		`[{"a":1},{"b":[1,{"c":"]"}]}]`, `[]`, ` [ ] `, `[{}]`, `[1,{"a":1},"s",null,[{}]]`, `[{"a":1},]`, `[{"a":1} {"b":2}]`,
		`[{"a":1}] x`, `[{"a":1}`, `[{"a":"\u00zz"}]`, `[{"a":1},{"a":` + strings.Repeat("x", 80) + `}]`,
		`[{"pad":"` + strings.Repeat("x", 80) + `"},{"a":1}]`, `[{},{},{},{},{},{}]`,
		`[{},{},{},{},{},00`, // too many events, truncated: the exact path's 400, not 413 `[` + strings.Repeat("[", 4097) + strings.Repeat("]", 4097) + `]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = bytes.TrimSpace(b)
		if len(b) == 0 || b[0] != '[' {
			return
		}
		fast := &splitter{maxEvent: 64, maxEvents: 5}
		exact := &splitter{maxEvent: 64, maxEvents: 5}
		e1, e2 := fast.splitArray(b), exact.cutArray(b)
		same := func(a, b [][]byte) bool { return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b)) }
		sameBad := func(a, b []*apiError) bool { return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b)) }
		if !reflect.DeepEqual(e1, e2) || !same(fast.events, exact.events) || !sameBad(fast.bad, exact.bad) || fast.count != exact.count {
			t.Fatalf("%q:\none pass: %v %q %v %d\nexact:    %v %q %v %d", b,
				e1, fast.events, fast.bad, fast.count, e2, exact.events, exact.bad, exact.count)
		}
	})
}
