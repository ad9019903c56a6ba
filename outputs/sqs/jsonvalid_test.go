package sqs

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// reference is what validObject must answer: encoding/json's validity, a
// top-level object, valid UTF-8 without U+FFFE / U+FFFF.
func reference(s []byte) bool {
	t := bytes.TrimLeft(s, " \t\r\n")
	if len(t) == 0 || t[0] != '{' || !json.Valid(s) || !utf8.Valid(s) {
		return false
	}
	return !bytes.Contains(s, []byte("\uFFFE")) && !bytes.Contains(s, []byte("\uFFFF"))
}

var validatorCases = []string{
	`{}`, ` { } `, `{"a":1}`, `{"a":-0.5e+10,"b":[true,false,null,{"c":"d"}],"e":"\u00e9\n\"\\\/"}`,
	`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":-}`, `{"a":+1}`, `{"a":1,}`, `{,}`, `{"a"}`, `{"a":}`,
	`{"a":[1,]}`, `{"a":[,1]}`, `{"a":tru}`, `{"a":nul}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"\u12G4"}`,
	"{\"a\":\"tab\there\"}", "{\"a\":\"\x01\"}", `{"a":"unterminated}`, `{"a":1}}`, `{"a":1} {}`, `[1]`, `"s"`, `1`,
	"{\"a\":\"\xff\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\uFFFE\"}", "{\"a\":\"\uFFFF\"}", "{\"a\":\"\U0001F600 ok\"}",
	"{\n\"a\" :\r\n 1\t}", `{"a":{"b":{"c":[[[[]]]]}}}`, `{"a":"` + strings.Repeat("x", 100) + `"}`, `{"a":1e5,"b":0,"c":-0,"d":0.0e-0}`,
	``, `{`, `}`, `{"`, `{"a":[`, `{"a":"\`,
}

func TestValidObjectMatchesReference(t *testing.T) {
	for _, c := range validatorCases {
		if got, want := validObject([]byte(c)), reference([]byte(c)); got != want {
			t.Errorf("validObject(%q) = %v, want %v", c, got, want)
		}
	}
	deep := strings.Repeat(`{"a":`, 1500) + "1" + strings.Repeat("}", 1500)
	if validObject([]byte(deep)) {
		t.Error("nesting beyond record.MaxDepth accepted")
	}
	if ok := strings.Repeat(`{"a":`, 900) + `"}{[\\"` + strings.Repeat("}", 900); !validObject([]byte(ok)) {
		t.Error("nesting within record.MaxDepth, with brackets in a string, refused")
	}
}

func FuzzValidObject(f *testing.F) {
	for _, c := range validatorCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, s []byte) {
		if bytes.Count(s, []byte("{"))+bytes.Count(s, []byte("[")) > 900 {
			return // the depth bound, which encoding/json does not have
		}
		if got, want := validObject(s), reference(s); got != want {
			t.Fatalf("validObject(%q) = %v, want %v", s, got, want)
		}
	})
}
