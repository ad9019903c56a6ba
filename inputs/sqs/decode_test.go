package sqs

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/plugins/record"
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
		{"no attribute (fluentd)", "", contractLine, []string{"0190d6b4-7c2a-7c3e-8f00-000000000001"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if tc.format == "ndjson.gz.b64" {
				body = gzB64(t, contractLine+"\n"+second)
			}
			out, n, failed := newDecoder(1<<20).appendMessage(nil, message{id: "m1", body: body, format: tc.format, sent: sent})
			if n != len(tc.uuids) || failed != 0 {
				t.Fatalf("%d records, %d failed", n, failed)
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

func TestDecodeGenericRecord(t *testing.T) {
	body := `{"__tag":"app.log","n":42,"big":12345678901234567890,"f":1.5,"ok":true,"none":null,"arr":[1,"x",{"y":[]}],"s":"a\"b"}`
	out, n, failed := newDecoder(1<<20).appendMessage(nil, message{id: "m", body: body, sent: sent})
	if n != 1 || failed != 0 {
		t.Fatalf("%d records, %d failed", n, failed)
	}
	r := readRecords(t, out)[0]
	if !r.time.Equal(sent) {
		t.Errorf("time %v, want SentTimestamp", r.time)
	}
	got, _ := json.Marshal(r.fields)
	want := `{"__tag":"app.log","arr":[1,"x",{"y":[]}],"big":12345678901234567890,"f":1.5,"n":42,"none":null,"ok":true,"s":"a\"b"}`
	if string(got) != want {
		t.Errorf("record %s\nwant   %s", got, want)
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
		{"unknown format", "xml", "<a/>", 1, 1, `unknown whirlpool.format "xml"`},
		{"empty ndjson", "ndjson", "\n\n", 1, 1, "holds no record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec := newDecoder(1 << 20)
			out, n, failed := dec.appendMessage(nil, message{id: "msg-7", body: tc.body, format: tc.format, sent: sent})
			if n != tc.records || failed != tc.failed {
				t.Fatalf("%d records, %d failed; want %d, %d", n, failed, tc.records, tc.failed)
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
			if e["code"] != UndecodableMessage || !strings.Contains(e["message"].(string), tc.reason) || !strings.Contains(e["message"].(string), "msg-7") {
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
			again, _, _ := newDecoder(1<<20).appendMessage(nil, message{id: "msg-7", body: tc.body, format: tc.format, sent: sent})
			if !bytes.Equal(again, out) {
				t.Error("decoding the same message twice gave different records")
			}
		})
	}
}

func TestDecompressedSizeIsLimited(t *testing.T) {
	big := strings.Repeat(contractLine+"\n", 100)
	_, n, failed := newDecoder(1024).appendMessage(nil, message{id: "m", body: gzB64(t, big), format: "ndjson.gz.b64", sent: sent})
	if n != 1 || failed != 1 {
		t.Errorf("a message over max_message_bytes: %d records, %d failed", n, failed)
	}
}
