package validate

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/fieldname"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

func TestPrefixUTF8NeverSplitsACharacter(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"ascii", "abcdef", 3, "abc"},
		{"whole", "abc", 3, "abc"},
		{"longer than the text", "abc", 10, "abc"},
		{"zero", "abc", 0, ""},
		{"before a 2-byte character", "ab\u00e9", 2, "ab"},
		{"inside a 2-byte character", "ab\u00e9", 3, "ab"},
		{"after a 2-byte character", "ab\u00e9c", 4, "ab\u00e9"},
		{"inside a 3-byte character, 1 byte in", "a\u20acb", 2, "a"},
		{"inside a 3-byte character, 2 bytes in", "a\u20acb", 3, "a"},
		{"inside a 4-byte character, 3 bytes in", "a\U0001F600b", 4, "a"},
		{"after a 4-byte character", "a\U0001F600b", 5, "a\U0001F600"},
		{"stray continuation bytes stay", "\x80\x80\x80\x80\x80\x80", 4, "\x80\x80\x80\x80"},
		{"invalid lead byte stays", "a\xffb", 2, "a\xff"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(PrefixUTF8([]byte(tc.in), tc.n))
			if got != tc.want {
				t.Errorf("PrefixUTF8(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
			if utf8.ValidString(tc.in) && !utf8.ValidString(got) {
				t.Errorf("prefix %q of valid UTF-8 is not valid", got)
			}
		})
	}
}

// contractRecord builds a record of the contract with the given body text;
// without game it is outside the contract (ENDPOINT_INVALID).
func contractRecord(body string, withGame bool) []byte {
	kvs := [][2]string{{"uuid", testUUID}, {"fired_ts", testFired}, {"version", "1.0"}, {"event", "level_up"}, {"body", body}}
	if withGame {
		kvs = append(kvs, [2]string{"game", "galaxy"})
	}
	b := msgp.AppendMapHeader(nil, uint32(len(kvs)))
	for _, kv := range kvs {
		b = msgp.AppendString(b, kv[0])
		b = msgp.AppendString(b, kv[1])
	}
	return record.AppendRecord(nil, testTime, nil, b)
}

// Every failure record keeps at most max_event_size bytes of the raw text,
// cut at a character boundary, and says the whole text's length and
// SHA-256 when it cut: a PAYLOAD_TOO_LARGE event or a record outside the
// contract can be tens of megabytes, and no failure row should hold that.
func TestFailuresKeepAtMostMaxEventSize(t *testing.T) {
	const limit = 1 << 10
	v := testValidator(t, Options{MaxEventSize: limit})
	// 3-byte characters after one ASCII byte: the max_event_size-th byte
	// falls inside a character.
	big := `{"pad":"` + strings.Repeat("\u20ac", 2000) + `"}`
	mb := strings.Repeat("\u00e9", 1<<20) // 2 MiB of text
	over := DigestOf([]byte("the whole message, 5 MiB on the wire"))
	over.Bytes = 5 << 20
	for _, tc := range []struct {
		name  string
		out   func() []byte
		code  string
		whole string      // the text the failure is about
		max   int         // most bytes of it the failure may keep
		want  *TextDigest // the digest expected; nil: the text kept whole
		given *TextDigest // DecodeFailure.Whole
		keep  string      // with given: the body expected
	}{
		{name: "payload too large", code: "PAYLOAD_TOO_LARGE", whole: big, max: limit, want: DigestOf([]byte(big)),
			out: func() []byte { return v.AppendValidated(nil, decodeOne(t, contractRecord(big, true))) }},
		{name: "outside the contract, large body", code: "ENDPOINT_INVALID", whole: big, max: limit, want: DigestOf([]byte(big)),
			out: func() []byte { return v.AppendValidated(nil, decodeOne(t, contractRecord(big, false))) }},
		{name: "small failure kept whole", code: "UNKNOWN_EVENT", whole: `{"a":1}`, max: limit,
			out: func() []byte {
				return v.AppendValidated(nil, decodeOne(t, inputRecord("galaxy", "1.0", "nope", `{"a":1}`)))
			}},
		{name: "decode failure with the reader's max", code: "ENDPOINT_INVALID", whole: big, max: limit, want: DigestOf([]byte(big)),
			out: func() []byte {
				return AppendDecodeFailure(nil, DecodeFailure{Time: testTime, UUID: testUUID, Text: []byte(big), MaxText: limit, Code: failcode.EndpointInvalid})
			}},
		{name: "decode failure, default max", code: "UNDECODABLE_MESSAGE", whole: mb, max: DefaultMaxEventSize, want: DigestOf([]byte(mb)),
			out: func() []byte { return AppendUndecodable(nil, testTime, testUUID, []byte(mb), "not JSON") }},
		{name: "decode failure already cut keeps its digest", code: "UNDECODABLE_MESSAGE", whole: "{}\n{}\n", max: limit, want: over,
			given: over, keep: "{}\n{}\n",
			out: func() []byte {
				return AppendDecodeFailure(nil, DecodeFailure{Time: testTime, UUID: testUUID, Text: []byte("{}\n{}\n"), MaxText: limit,
					Whole: over, Code: failcode.UndecodableMessage})
			}},
		{name: "decode failure already cut, cut again", code: "UNDECODABLE_MESSAGE", whole: big, max: limit, want: over, given: over,
			out: func() []byte {
				return AppendDecodeFailure(nil, DecodeFailure{Time: testTime, UUID: testUUID, Text: []byte(big), MaxText: limit,
					Whole: over, Code: failcode.UndecodableMessage})
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := decodeAll(t, tc.out())
			if len(recs) != 1 || codes(recs[0])[0] != tc.code {
				t.Fatalf("got %v, want one %s failure", recs, tc.code)
			}
			r := recs[0]
			body, _ := r["body"].(string)
			if len(body) > tc.max || !strings.HasPrefix(tc.whole, body) || !utf8.ValidString(body) {
				t.Errorf("body of %d bytes (valid UTF-8 %v); want a prefix of the text of at most %d bytes", len(body), utf8.ValidString(body), tc.max)
			}
			switch {
			case tc.keep != "":
				if body != tc.keep {
					t.Errorf("body %q, want %q", body, tc.keep)
				}
			case tc.want == nil:
				if body != tc.whole {
					t.Errorf("body %q, want the whole text %q", body, tc.whole)
				}
			case len(body) < tc.max-utf8.UTFMax:
				t.Errorf("body of %d bytes: cut more than a character short of %d", len(body), tc.max)
			}
			if tc.want == nil {
				if _, ok := r[fieldname.BodyBytes]; ok {
					t.Errorf("a failure kept whole has %s %v", fieldname.BodyBytes, r[fieldname.BodyBytes])
				}
				if _, ok := r[fieldname.BodySHA256]; ok {
					t.Errorf("a failure kept whole has %s %v", fieldname.BodySHA256, r[fieldname.BodySHA256])
				}
				return
			}
			if r[fieldname.BodyBytes] != tc.want.Bytes || r[fieldname.BodySHA256] != hex.EncodeToString(tc.want.SHA256[:]) {
				t.Errorf("%s %v, %s %v; want %d, %s", fieldname.BodyBytes, r[fieldname.BodyBytes], fieldname.BodySHA256, r[fieldname.BodySHA256], tc.want.Bytes, tc.want.Hex())
			}
		})
	}
}

func TestDigestOf(t *testing.T) {
	d := DigestOf([]byte("abc"))
	sum := sha256.Sum256([]byte("abc"))
	if d.Bytes != 3 || d.Hex() != hex.EncodeToString(sum[:]) {
		t.Errorf("DigestOf(abc) = %d %s", d.Bytes, d.Hex())
	}
}
