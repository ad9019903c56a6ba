package eventing

import (
	"encoding/json"
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
		strings.Repeat("[", maxFastBrackets+1) + strings.Repeat("]", maxFastBrackets+1),
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
