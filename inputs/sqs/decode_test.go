package sqs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/klauspost/compress/s2"
	"github.com/valyala/fastjson"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/fieldname"
	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/jsonscan"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

var sent = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// decoded is one record read back for assertions.
type decoded struct {
	time   time.Time
	fields map[string]any
}

func readRecords(t *testing.T, b []byte) []decoded {
	t.Helper()
	var out []decoded
	d := record.NewDecoder(b)
	var r record.Record
	for d.Next(&r) {
		j, err := r.Body.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		dec := json.NewDecoder(bytes.NewReader(j))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		out = append(out, decoded{r.Time, m})
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

const contractLine = `{"uuid":"0190d6b4-7c2a-7c3e-8f00-000000000001","fired_ts":"2026-11-21T23:45:27.123Z","game":"g","version":"1.4","event":"level_up","body":{ "level" : 3, "name":"caf\u00e9" }}`

func gzB64(t *testing.T, s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func s2B64(t *testing.T, s string) string {
	return base64.StdEncoding.EncodeToString(s2.Encode(nil, []byte(s)))
}

func s2Repeat(t *testing.T, line string, size int) string {
	return s2B64(t, strings.Repeat(line, size/len(line)))
}

func TestDecodeFormats(t *testing.T) {
	second := strings.Replace(contractLine, "0001", "0002", 1)
	for _, tc := range []struct {
		name, format, body string
		uuids              []string
	}{
		{"event", "event", contractLine, []string{"0190d6b4-7c2a-7c3e-8f00-000000000001"}},
		{"ndjson", "ndjson", contractLine + "\n" + second + "\n", []string{"0190d6b4-7c2a-7c3e-8f00-000000000001", "0190d6b4-7c2a-7c3e-8f00-000000000002"}},
		{"ndjson without a final newline, blank lines", "ndjson", "\n" + contractLine + "\n\n" + second, []string{"0190d6b4-7c2a-7c3e-8f00-000000000001", "0190d6b4-7c2a-7c3e-8f00-000000000002"}},
		{"gzip base64", "ndjson.gz.b64", "", []string{"0190d6b4-7c2a-7c3e-8f00-000000000001", "0190d6b4-7c2a-7c3e-8f00-000000000002"}},
		{"s2 base64", "ndjson.s2.b64", "", []string{"0190d6b4-7c2a-7c3e-8f00-000000000001", "0190d6b4-7c2a-7c3e-8f00-000000000002"}},
		{"no attribute (fluentd)", "", contractLine, []string{"0190d6b4-7c2a-7c3e-8f00-000000000001"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			switch tc.format {
			case "ndjson.gz.b64":
				body = gzB64(t, contractLine+"\n"+second)
			case "ndjson.s2.b64":
				body = s2B64(t, contractLine+"\n"+second+"\n")
			}
			out, pieces := newDecoder(bounds{maxBytes: 1 << 20, maxRecords: 1_000_000}).appendMessage(nil, message{id: "m1", body: body, format: tc.format, sent: sent})
			if len(pieces) != len(tc.uuids) || failures(pieces) != 0 {
				t.Fatalf("%d records, %d failed", len(pieces), failures(pieces))
			}
			recs := readRecords(t, out)
			for i, r := range recs {
				if r.fields["uuid"] != tc.uuids[i] {
					t.Errorf("record %d uuid %v", i, r.fields["uuid"])
				}
				// The client's object comes back byte for byte.
				if r.fields["body"] != `{ "level" : 3, "name":"caf\u00e9" }` {
					t.Errorf("record %d body %q", i, r.fields["body"])
				}
				if !r.time.Equal(time.Date(2026, 11, 21, 23, 45, 27, 123e6, time.UTC)) {
					t.Errorf("record time %v, want fired_ts", r.time)
				}
				if len(r.fields) != 6 {
					t.Errorf("contract record has fields %v", r.fields)
				}
			}
		})
	}
}

// A message record is reduced to the record contract: keys of the
// validated-record form, or any other, are dropped and never reach Fluent
// Bit; the rest is the contract record, to be validated like any other.
func TestDecodeKeepsOnlyTheContract(t *testing.T) {
	for _, extra := range []string{
		`"columns":{"evil":"yes"},"destinations":["public.pwned"]`,
		`"errors":[{"code":"PAYLOAD_NOT_JSON"}],"definition_version":"v9"`,
		`"expand_index":7,"__tag":"app.log","loaded_at":"x"`,
	} {
		t.Run(extra, func(t *testing.T) {
			line := strings.Replace(contractLine, `"uuid"`, extra+`,"uuid"`, 1)
			out, pieces := newDecoder(bounds{maxBytes: 1 << 20, maxRecords: 1_000_000}).appendMessage(nil, message{id: "m", body: line, format: "event", sent: sent})
			if len(pieces) != 1 || pieces[0].failure {
				t.Fatalf("pieces %+v", pieces)
			}
			r := readRecords(t, out)[0]
			got, _ := json.Marshal(r.fields)
			want := `{"body":"{ \"level\" : 3, \"name\":\"caf\\u00e9\" }","event":"level_up","fired_ts":"2026-11-21T23:45:27.123Z","game":"g","uuid":"0190d6b4-7c2a-7c3e-8f00-000000000001","version":"1.4"}`
			if string(got) != want {
				t.Errorf("record %s\nwant   %s", got, want)
			}
		})
	}
}

// The sqs output writes a body that is not one compact JSON object (e.g.
// pretty-printed, with newlines) as a JSON string of its text: the decoder
// takes that text as the body, for the validator to read, and a forged
// failure record written that way is only its contract keys.
func TestDecodeTakesAStringBodyAsItsText(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"pretty-printed", `"{\n  \"level\": 3\n}"`, "{\n  \"level\": 3\n}"},
		{"not JSON at all", `"level=3"`, "level=3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			line := `{"uuid":"u1","fired_ts":"2026-11-21T23:45:27.123Z","game":"g","version":"1.4","event":"level_up",` +
				`"errors":[{"code":"PAYLOAD_NOT_JSON"}],"definition_version":"v9","body":` + tc.body + `}`
			out, pieces := newDecoder(bounds{maxBytes: 1 << 20, maxRecords: 1_000_000}).appendMessage(nil, message{id: "m", body: line, format: "event", sent: sent})
			if len(pieces) != 1 || pieces[0].failure {
				t.Fatalf("pieces %+v, want one contract record", pieces)
			}
			r := readRecords(t, out)[0]
			if r.fields["body"] != tc.want || len(r.fields) != 6 {
				t.Errorf("record %v, want the six contract keys with body %q", r.fields, tc.want)
			}
		})
	}
}

// A JSON object that is not in the record contract becomes an
// ENDPOINT_INVALID failure the decoder builds (and marks as its own),
// holding the raw text; never a silent drop, never a record passed on.
func TestNotInTheContractBecomesFailure(t *testing.T) {
	forgedFailure := `{"uuid":"0190d6b4-7c2a-7c3e-8f00-000000000001","fired_ts":"2026-11-21T23:45:27.123Z","game":"g","version":"1.4","event":"level_up",` +
		`"body":"{\"x\":1}","definition_version":null,"errors":[{"code":"PAYLOAD_NOT_JSON","path":"","rule":"","expected":"","actual":"","message":"m"}]}`
	for _, tc := range []struct {
		name, line, path, reason string
	}{
		{"any JSON object", `{"__tag":"app.log","n":42}`, "uuid", `key "uuid" is missing`},
		{"a body that is neither an object nor a string", strings.Replace(forgedFailure, `"body":"{\"x\":1}"`, `"body":[1]`, 1), "body", "body is neither a JSON object nor a string"},
		{"a forged valid record without body", `{"uuid":"u","fired_ts":"2026-11-21T23:45:27.123Z","game":"g","version":"1","event":"e","destinations":["public.pwned"],"columns":{"evil":"yes"}}`, "body", `key "body" is missing`},
		{"a key that is not a string", strings.Replace(contractLine, `"game":"g"`, `"game":7`, 1), "game", `key "game" is not a string`},
		{"a key twice", strings.Replace(contractLine, `"game":"g"`, `"game":"g","game":"h"`, 1), "game", `key "game" appears twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, pieces := newDecoder(bounds{maxBytes: 1 << 20, maxRecords: 1_000_000}).appendMessage(nil, message{id: "msg-3", body: tc.line, format: "event", sent: sent})
			if len(pieces) != 1 || !pieces[0].failure {
				t.Fatalf("pieces %+v, want one failure", pieces)
			}
			r := readRecords(t, out)[0]
			errs, _ := r.fields["errors"].([]any)
			if len(errs) != 1 {
				t.Fatalf("record %v", r.fields)
			}
			e := errs[0].(map[string]any)
			if e["code"] != "ENDPOINT_INVALID" || e["path"] != tc.path || !strings.Contains(e["message"].(string), tc.reason) || !strings.Contains(e["message"].(string), "msg-3") {
				t.Errorf("error %v", e)
			}
			if r.fields["body"] != tc.line {
				t.Errorf("raw text %q, want the line", r.fields["body"])
			}
			if r.fields["uuid"] == "0190d6b4-7c2a-7c3e-8f00-000000000001" || r.fields["definition_version"] != nil {
				t.Errorf("the failure took the message's uuid or definition_version: %v", r.fields)
			}
			for _, k := range []string{"columns", "destinations", "expand_index"} {
				if _, ok := r.fields[k]; ok {
					t.Errorf("failure has %s: %v", k, r.fields)
				}
			}
		})
	}
}

func TestUndecodableBecomesFailure(t *testing.T) {
	for _, tc := range []struct {
		name, format, body string
		records, failed    int
		reason             string
	}{
		{"not json", "", "hello there", 1, 1, "not valid JSON"},
		{"not an object", "event", `[1,2]`, 1, 1, "not a JSON object"},
		{"one bad line of three", "ndjson", contractLine + "\n{oops\n" + contractLine, 3, 1, "not valid JSON"},
		{"bad base64", "ndjson.gz.b64", "!!!", 1, 1, "base64"},
		{"bad base64, s2", "ndjson.s2.b64", "!!!", 1, 1, "base64"},
		{"not an s2 block", "ndjson.s2.b64", base64.StdEncoding.EncodeToString([]byte("\x05not s2 at all")), 1, 1, "s2"},
		{"unknown format", "xml", "<a/>", 1, 1, `unknown whirlpool.format "xml"`},
		{"empty ndjson", "ndjson", "\n\n", 1, 1, "holds no record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec := newDecoder(bounds{maxBytes: 1 << 20, maxRecords: 1_000_000})
			out, pieces := dec.appendMessage(nil, message{id: "msg-7", body: tc.body, format: tc.format, sent: sent})
			if n, failed := len(pieces), failures(pieces); n != tc.records || failed != tc.failed {
				t.Fatalf("%d records, %d failed; want %d, %d", n, failed, tc.records, tc.failed)
			}
			for i, p := range pieces { // the decoder marks exactly the failures it built
				if _, isFailure := readRecords(t, out[:p.end])[i].fields["errors"]; isFailure != p.failure {
					t.Errorf("record %d: marked failure %v", i, p.failure)
				}
			}
			var fail *decoded
			recs := readRecords(t, out)
			for i := range recs {
				if _, ok := recs[i].fields["errors"]; ok {
					fail = &recs[i]
				}
			}
			if fail == nil {
				t.Fatal("no failure record")
			}
			errs := fail.fields["errors"].([]any)
			e := errs[0].(map[string]any)
			if e["code"] != string(failcode.UndecodableMessage) || !strings.Contains(e["message"].(string), tc.reason) || !strings.Contains(e["message"].(string), "msg-7") {
				t.Errorf("error %v", e)
			}
			// The raw text is kept, and the failure has an identity.
			if raw, _ := fail.fields["body"].(string); raw == "" || !strings.Contains(tc.body, raw) {
				t.Errorf("raw body %q", fail.fields["body"])
			}
			if u, _ := fail.fields["uuid"].(string); len(u) != 36 || fail.fields["fired_ts"] != "2026-11-21T12:00:00.000Z" {
				t.Errorf("failure uuid %v fired_ts %v", fail.fields["uuid"], fail.fields["fired_ts"])
			}
			// A redelivered message gives the same failure uuid (deduplicated downstream).
			again, _ := newDecoder(bounds{maxBytes: 1 << 20, maxRecords: 1_000_000}).appendMessage(nil, message{id: "msg-7", body: tc.body, format: tc.format, sent: sent})
			if !bytes.Equal(again, out) {
				t.Error("decoding the same message twice gave different records")
			}
		})
	}
}

func TestDecompressedSizeIsLimited(t *testing.T) {
	big := strings.Repeat(contractLine+"\n", 100)
	_, pieces := newDecoder(bounds{maxBytes: 1024, maxRecords: 1_000_000}).appendMessage(nil, message{id: "m", body: gzB64(t, big), format: "ndjson.gz.b64", sent: sent})
	if n, failed := len(pieces), failures(pieces); n != 1 || failed != 1 {
		t.Errorf("a message over max_message_bytes: %d records, %d failed", n, failed)
	}
}

// defaultBounds are the properties' defaults, as a receiver reads them.
func defaultBounds(t *testing.T) bounds {
	t.Helper()
	cfg, err := parseConfig(testenv.Config{"queue_url": "http://127.0.0.1:1/q"})
	if err != nil {
		t.Fatal(err)
	}
	return cfg.bounds
}

// gzipRepeat is the gzip+base64 body of line repeated until size bytes,
// written in pieces so the test never holds the decoded size either.
func gzipRepeat(t *testing.T, line string, size int) string {
	t.Helper()
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	chunk := []byte(strings.Repeat(line, max(1, (64<<10)/len(line))))
	for n := 0; n < size; n += len(chunk) {
		w.Write(chunk[:min(len(chunk), size-n)])
	}
	w.Close()
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// TestMessageOverABoundIsOneFailure: a message over a bound (a gzip bomb,
// too many records, more record bytes than the buffer may take) becomes one
// failure holding its first bytes and the length and SHA-256 of its body
// (body_bytes, body_sha256), and decoding it never allocates its decoded
// size.
func TestMessageOverABoundIsOneFailure(t *testing.T) {
	def := defaultBounds(t)
	for _, tc := range []struct {
		name   string
		bounds bounds
		room   int64
		format string
		body   string
		over   bound
		prefix string
	}{
		{"gzip of 1 MB of {} lines", def, 0, formatGzipB64, gzipRepeat(t, "{}\n", 1<<20), overMaxRecords, "{}\n{}\n"},
		{"gzip of 64 MB of {} lines", def, 0, formatGzipB64, gzipRepeat(t, "{}\n", 64<<20), overMaxRecords, "{}\n{}\n"},
		{"gzip of 64 MB of zeros", def, 0, formatGzipB64, gzipRepeat(t, "\x00", 64<<20), overMaxBytes, "\x00\x00\x00"},
		{"gzip of 64 MB of spaces", def, 0, formatGzipB64, gzipRepeat(t, " ", 64<<20), overMaxBytes, "   "},
		{"ndjson over max_message_bytes", bounds{maxBytes: 1 << 10, maxRecords: 100}, 0, formatNDJSON, strings.Repeat(contractLine+"\n", 10), overMaxBytes, contractLine},
		{"event over max_message_bytes", bounds{maxBytes: 1 << 10, maxRecords: 100}, 0, formatEvent, contractLine + strings.Repeat(" ", 1<<10), overMaxBytes, contractLine},
		{"one record over max_records_per_message", bounds{maxBytes: 1 << 20, maxRecords: 10}, 0, formatNDJSON, strings.Repeat(contractLine+"\n", 11), overMaxRecords, contractLine},
		{"gzip, one record over max_records_per_message", bounds{maxBytes: 1 << 20, maxRecords: 10}, 0, formatGzipB64, gzB64(t, strings.Repeat(contractLine+"\n", 11)), overMaxRecords, contractLine},
		{"s2 of 1 MB of {} lines", def, 0, formatS2B64, s2Repeat(t, "{}\n", 1<<20), overMaxRecords, "{}\n{}\n"},
		// An S2 block is decoded whole or not at all: over max_message_bytes
		// (its header says so before any decoding) the failure keeps the
		// first bytes of the body as received.
		{"s2 of 64 MB of zeros", def, 0, formatS2B64, s2Repeat(t, "\x00", 64<<20), overMaxBytes, s2Repeat(t, "\x00", 64<<20)[:16]},
		{"s2, one record over max_records_per_message", bounds{maxBytes: 1 << 20, maxRecords: 10}, 0, formatS2B64, s2B64(t, strings.Repeat(contractLine+"\n", 11)), overMaxRecords, contractLine},
		{"records over the buffer's room", def, 1 << 10, formatNDJSON, strings.Repeat(contractLine+"\n", 10), overBuffered, contractLine},
		{"failures over the buffer's room", def, 64 << 10, formatGzipB64, gzipRepeat(t, "{}\n", 1<<20), overBuffered, "{}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec := newDecoder(tc.bounds)
			dec.room = tc.room
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			out, pieces := dec.appendMessage(nil, message{id: "bomb", body: tc.body, format: tc.format, sent: sent})
			runtime.ReadMemStats(&after)
			// Loose: what the bounds allow (up to max_records_per_message
			// records, or a max_message_bytes line, before the bound is
			// seen), never the decoded size (64 MB for the largest bombs).
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 32<<20 {
				t.Errorf("decoding allocated %d MB", grew>>20)
			}
			if dec.over != tc.over || len(pieces) != 1 || failures(pieces) != 1 {
				t.Fatalf("over %q, %d records (%d failures); want one failure over %q", dec.over, len(pieces), failures(pieces), tc.over)
			}
			f := readRecords(t, out)[0]
			e := f.fields["errors"].([]any)[0].(map[string]any)
			sum := sha256.Sum256([]byte(tc.body))
			msg := e["message"].(string)
			if e["code"] != string(failcode.UndecodableMessage) || !strings.Contains(msg, string(tc.over)) || !strings.Contains(msg, "bomb") {
				t.Errorf("error %v", e)
			}
			if f.fields[fieldname.BodySHA256] != hex.EncodeToString(sum[:]) || f.fields[fieldname.BodyBytes] != json.Number(strconv.Itoa(len(tc.body))) {
				t.Errorf("%s %v, %s %v; want the body's %d bytes and SHA-256 %x", fieldname.BodyBytes, f.fields[fieldname.BodyBytes],
					fieldname.BodySHA256, f.fields[fieldname.BodySHA256], len(tc.body), sum)
			}
			body, _ := f.fields["body"].(string)
			if !strings.HasPrefix(body, tc.prefix) || len(body) > failurePrefix {
				t.Errorf("failure body of %d bytes starts %.20q; want at most %d bytes starting %.20q", len(body), body, failurePrefix, tc.prefix)
			}
		})
	}
}

// TestFailuresKeepAtMostMaxEventSize: every failure the decoder builds
// keeps at most max_event_size bytes of the raw text (a record outside the
// contract can be as large as a message, 64 MB), cut at a character
// boundary, with the whole text's length and SHA-256 when cut; a message
// over a bound keeps the digest of its body even when its prefix is cut
// again.
func TestFailuresKeepAtMostMaxEventSize(t *testing.T) {
	const limit = 1 << 10
	long := strings.Repeat(`\u00e9\u00e9é`, 1000) // JSON escapes and 2-byte characters
	notContract := `{"note":"` + long + `"}`
	notJSON := `{"note":"` + long
	for _, tc := range []struct {
		name   string
		bounds bounds
		body   string
		code   string
		whole  string // the text the digest describes; "": kept whole
		prefix string // the text body is a prefix of
		keep   int    // most bytes body may hold
	}{
		{"record outside the contract", bounds{maxBytes: 1 << 20, maxRecords: 10, maxText: limit}, notContract,
			"ENDPOINT_INVALID", notContract, notContract, limit},
		{"line that is not JSON", bounds{maxBytes: 1 << 20, maxRecords: 10, maxText: limit}, notJSON,
			"UNDECODABLE_MESSAGE", notJSON, notJSON, limit},
		{"small failure kept whole", bounds{maxBytes: 1 << 20, maxRecords: 10, maxText: limit}, `{"note":1}`,
			"ENDPOINT_INVALID", "", `{"note":1}`, limit},
		{"default max_event_size", bounds{maxBytes: 4 << 20, maxRecords: 10}, `{"note":"` + strings.Repeat("x", 2<<20) + `"}`,
			"ENDPOINT_INVALID", `{"note":"` + strings.Repeat("x", 2<<20) + `"}`, `{"note":"` + strings.Repeat("x", 2<<20) + `"}`, validate.DefaultMaxEventSize},
		{"over a bound, prefix under max_event_size", bounds{maxBytes: 1 << 10, maxRecords: 10, maxText: limit}, strings.Repeat(contractLine+"\n", 20),
			"UNDECODABLE_MESSAGE", strings.Repeat(contractLine+"\n", 20), strings.Repeat(contractLine+"\n", 20), limit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, pieces := newDecoder(tc.bounds).appendMessage(nil, message{id: "m", body: tc.body, format: formatNDJSON, sent: sent})
			if len(pieces) != 1 || failures(pieces) != 1 {
				t.Fatalf("%d records, %d failures; want one failure", len(pieces), failures(pieces))
			}
			f := readRecords(t, out)[0]
			if code := f.fields["errors"].([]any)[0].(map[string]any)["code"]; code != tc.code {
				t.Errorf("code %v, want %s", code, tc.code)
			}
			body, _ := f.fields["body"].(string)
			if len(body) > tc.keep || !strings.HasPrefix(tc.prefix, body) || !utf8.ValidString(body) {
				t.Errorf("body of %d bytes (valid UTF-8 %v): want a prefix of the text of at most %d bytes", len(body), utf8.ValidString(body), tc.keep)
			}
			if tc.whole == "" {
				if body != tc.prefix || f.fields[fieldname.BodyBytes] != nil || f.fields[fieldname.BodySHA256] != nil {
					t.Errorf("a small failure is cut or carries a digest: %v", f.fields)
				}
				return
			}
			sum := sha256.Sum256([]byte(tc.whole))
			if f.fields[fieldname.BodySHA256] != hex.EncodeToString(sum[:]) || f.fields[fieldname.BodyBytes] != json.Number(strconv.Itoa(len(tc.whole))) {
				t.Errorf("%s %v, %s %v; want %d and %x", fieldname.BodyBytes, f.fields[fieldname.BodyBytes],
					fieldname.BodySHA256, f.fields[fieldname.BodySHA256], len(tc.whole), sum)
			}
		})
	}
}

// TestPackedMessagesOfTheOutputFit: what the sqs output packs with its
// defaults (at most 1 MiB of ndjson, or 4 MiB before gzip, and 10000
// events) decodes fully within the input's defaults.
func TestPackedMessagesOfTheOutputFit(t *testing.T) {
	def := defaultBounds(t)
	perLine := len(benchMessage(1)) + 1
	for _, tc := range []struct {
		name, format string
		body         string
		n            int
	}{
		{"ndjson of 1 MiB", formatNDJSON, benchMessage((1 << 20) / perLine), (1 << 20) / perLine},
		{"gzip of 4 MiB of ndjson", formatGzipB64, gzB64(t, benchMessage((4<<20)/perLine)), (4 << 20) / perLine},
		{"10000 small records", formatGzipB64, gzB64(t, strings.Repeat(contractLine+"\n", 10000)), 10000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, pieces := newDecoder(def).appendMessage(nil, message{id: "m", body: tc.body, format: tc.format, sent: sent})
			if len(pieces) != tc.n || failures(pieces) != 0 {
				t.Errorf("%d records, %d failures; want %d records", len(pieces), failures(pieces), tc.n)
			}
		})
	}
}

// envelopeCases are lines for the two envelope readers: contract records,
// escapes, duplicates, wrong types, nesting, text that is not JSON.
var envelopeCases = []string{
	`{"uuid":"u","fired_ts":"2026-11-21T23:45:27.123Z","game":"g","version":"1","event":"e","body":{"a":[1,{"b":"c"}]}}`,
	`{"uuid" : "u" , "fired_ts":"t","game":"g","version":"1","event":"e","body":"text" }`,
	`{"u\u0075id":"u","fired_ts":"t","game":"g","version":"1","event":"e","body":{}}`,
	` {"uuid":"u","fired_ts":"t","game":"g\"x","version":"1","event":"e","body":"{\"a\":1}\n"}`,
	`{"uuid":"u","uuid":"v","fired_ts":"t","game":"g","version":"1","event":"e","body":{}}`,
	`{"uuid":1,"fired_ts":null,"game":["g"],"version":{"v":1},"event":true,"body":[1]}`,
	`{"body":"text","columns":{"a":1},"errors":[]}`, `{}`, `[]`, `"s"`, `{"uuid":"u"`, `{"uuid":"u"}}`,
	"{\"uuid\":\"\x01\\n\"}", `{"a":{"uuid":"inner","body":{}},"game":"g"}`,
}

// FuzzScanEnvelope: the one-pass reader of a line's envelope either leaves
// the line to the exact path or reads exactly what it reads, and only from
// JSON that fastjson's validator accepts.
func FuzzScanEnvelope(f *testing.F) {
	for _, c := range envelopeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		d := newDecoder(bounds{})
		fast, ok := d.scanEnvelope(line)
		if !ok {
			return
		}
		got := *fast
		if fastjson.ValidateBytes(line) != nil || line[0] != '{' {
			t.Fatalf("scanEnvelope read %q, which the exact path refuses", line)
		}
		want := *d.readEnvelope(line)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("line %q:\nscanEnvelope %+v\nreadEnvelope %+v", line, got, want)
		}
	})
}

func TestScanEnvelopeTakesTheCommonLines(t *testing.T) {
	d := newDecoder(bounds{})
	for _, c := range envelopeCases[:2] {
		if _, ok := d.scanEnvelope([]byte(c)); !ok {
			t.Errorf("scanEnvelope left %q to the exact path", c)
		}
	}
	for _, c := range envelopeCases[2:4] {
		if _, ok := d.scanEnvelope([]byte(c)); ok {
			t.Errorf("scanEnvelope read %q, which only the exact path reads (escapes, a space first)", c)
		}
	}
}

// testValidator is a validator of filters/validate's test model (game
// galaxy, version 1.2, event level_up, among others).
func testValidator(tb testing.TB) *validate.Validator {
	tb.Helper()
	root, err := flbhost.ModuleRoot()
	if err != nil {
		tb.Fatal(err)
	}
	m, err := validate.LoadFile(root + "/filters/validate/testdata/model.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	v, err := validate.NewWithModel(m, validate.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { v.Close() })
	return v
}

// TestBodyThatIsNotJSON: with validate on, the envelope scan skims the
// body and the validator parses it. A contract record whose body is not
// JSON fails PAYLOAD_NOT_JSON under its own game, version and event; a
// line that is not JSON in any other way is UNDECODABLE_MESSAGE as ever.
func TestBodyThatIsNotJSON(t *testing.T) {
	const head = `{"uuid":"0190d6b4-7c2a-7c3e-8f00-000000000001","fired_ts":"2026-11-21T23:45:27.123Z","game":"galaxy","version":"1.2","event":"level_up",`
	for _, tc := range []struct {
		name, line, code, body string
	}{
		{"valid", head + `"body":{"player":{"id":"p-1"},"level":3}}`, "", ""},
		{"a number with a leading zero", head + `"body":{"player":{"id":"p-1"},"level":03}}`, string(failcode.PayloadNotJSON), `{"player":{"id":"p-1"},"level":03}`},
		{"brackets that do not match", head + `"body":{"player":["p-1"}]}`, string(failcode.PayloadNotJSON), `{"player":["p-1"}]`},
		{"a body that does not end", head + `"body":{"player":{"id":"p-1"}`, string(failcode.UndecodableMessage), head + `"body":{"player":{"id":"p-1"}`},
		{"the envelope not JSON either", head + `"body":{"level":03},}`, string(failcode.UndecodableMessage), head + `"body":{"level":03},}`},
		{"an envelope problem", `{"uuid":"u","fired_ts":1,"game":"galaxy","version":"1.2","event":"level_up","body":{"level":03}}`,
			string(failcode.UndecodableMessage), `{"uuid":"u","fired_ts":1,"game":"galaxy","version":"1.2","event":"level_up","body":{"level":03}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec := newDecoder(bounds{maxBytes: 1 << 20, maxRecords: 1000})
			dec.validator = testValidator(t)
			out, pieces := dec.appendMessage(nil, message{id: "msg-7", body: tc.line, format: formatEvent, sent: sent})
			recs := readRecords(t, out)
			if len(recs) != 1 || len(pieces) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			errs, _ := recs[0].fields["errors"].([]any)
			if tc.code == "" {
				if errs != nil || recs[0].fields["columns"] == nil {
					t.Fatalf("a valid record failed: %v", recs[0].fields)
				}
				return
			}
			if len(errs) == 0 {
				t.Fatalf("no failure: %v", recs[0].fields)
			}
			if code := errs[0].(map[string]any)["code"]; code != tc.code {
				t.Errorf("code %v, want %s (%v)", code, tc.code, errs[0])
			}
			if recs[0].fields["body"] != tc.body {
				t.Errorf("failure body %q, want %q", recs[0].fields["body"], tc.body)
			}
			if tc.code == string(failcode.PayloadNotJSON) && (recs[0].fields["game"] != "galaxy" || recs[0].fields["event"] != "level_up") {
				t.Errorf("the failure lost its event key: %v", recs[0].fields)
			}
		})
	}
}

// FuzzScanEnvelopeSkim: with a validator (the body skimmed), the one-pass
// reader leaves a line to the exact path or reads what the exact path
// reads. A line it reads that is not JSON has no envelope problem, and is
// JSON but for its body: with the body replaced by {}, the exact path
// reads the same envelope.
func FuzzScanEnvelopeSkim(f *testing.F) {
	for _, c := range envelopeCases {
		f.Add([]byte(c))
	}
	f.Add([]byte(`{"uuid":"u","fired_ts":"t","game":"g","version":"1","event":"e","body":{"a":01,"b":[}]}`))
	f.Add([]byte(`{"uuid":1,"fired_ts":"t","game":"g","version":"1","event":"e","body":{"a":"\"}`))
	v := testValidator(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		d := newDecoder(bounds{})
		d.validator = v
		fast, ok := d.scanEnvelope(line)
		if !ok {
			return
		}
		got := *fast
		if fastjson.ValidateBytes(line) == nil {
			if want := *d.readEnvelope(line); !reflect.DeepEqual(got, want) {
				t.Fatalf("line %q:\nscanEnvelope %+v\nreadEnvelope %+v", line, got, want)
			}
			return
		}
		if got.problem != "" || len(got.body) == 0 || got.body[0] != '{' && got.body[0] != '[' || jsonscan.Valid(got.body, jsonscan.Options{}) {
			t.Fatalf("scanEnvelope read %q, not JSON, as %+v", line, got)
		}
		at := int(uintptr(unsafe.Pointer(unsafe.SliceData(got.body))) - uintptr(unsafe.Pointer(unsafe.SliceData(line))))
		if at <= 0 || at+len(got.body) > len(line) {
			t.Fatalf("body %q is not within line %q", got.body, line)
		}
		fixed := append(append(append([]byte{}, line[:at]...), "{}"...), line[at+len(got.body):]...)
		if fastjson.ValidateBytes(fixed) != nil {
			t.Fatalf("line %q is not JSON beyond its body %q", line, got.body)
		}
		want := *d.readEnvelope(fixed)
		want.body, got.body = nil, nil
		got.uuid, got.firedTS, got.game, got.version, got.event = clone(got.uuid), clone(got.firedTS), clone(got.game), clone(got.version), clone(got.event)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("line %q:\nscanEnvelope %+v\nreadEnvelope of it with body {} %+v", line, got, want)
		}
	})
}

// clone is a copy of b, keeping nil as nil.
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
