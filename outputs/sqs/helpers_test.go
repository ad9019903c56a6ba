package sqs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// cfgMap is a plugin.Config.
type cfgMap map[string]string

func (c cfgMap) Get(k string) string { return c[strings.ToLower(k)] }

func mustConfig(t testing.TB, kv ...string) *Config {
	t.Helper()
	m := cfgMap{"queue_url": "http://127.0.0.1:1/123456789012/q"}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	c, err := ParseConfig(m)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sample is one client event in a contract record.
type sample struct {
	uuid string
	key  enrich.Key
	body string
}

var t0 = time.Date(2026, 11, 21, 23, 45, 27, 123456789, time.UTC)

// contractChunk builds a chunk of n contract records whose bodies are about
// size bytes, keys cycling through games.
func contractChunk(t testing.TB, n, size int, games ...string) ([]byte, []sample) {
	if len(games) == 0 {
		games = []string{"g1"}
	}
	var e enrich.Enricher
	var chunk []byte
	var out []sample
	for i := 0; i < n; i++ {
		k := enrich.Key{Game: games[i%len(games)], Version: "1.2", Event: "level_up"}
		pad := strings.Repeat("x", max(0, size-60))
		body := fmt.Sprintf(`{"player":"p%d","level":%d,"note":"%s","nested":{"a":[1,2.5,true,null]}}`, i, i%50, pad)
		start := len(chunk)
		chunk = e.AppendRecord(chunk, k, []byte(body), t0.Add(time.Duration(i)*time.Millisecond))
		var r record.Record
		d := record.NewDecoder(chunk[start:])
		if !d.Next(&r) {
			t.Fatal(d.Err())
		}
		u, _ := r.Body.Get("uuid")
		us, _ := u.Str()
		out = append(out, sample{uuid: string(us), key: k, body: body})
	}
	return chunk, out
}

// plainRecord appends a record that is not in the contract.
func plainRecord(dst []byte, t time.Time, kv ...string) []byte {
	body := msgp.AppendMapHeader(nil, uint32(len(kv)/2))
	for i := 0; i < len(kv); i += 2 {
		body = msgp.AppendString(body, kv[i])
		body = msgp.AppendString(body, kv[i+1])
	}
	return record.AppendRecord(dst, t, nil, body)
}

// readBody decodes a message body by its attributes into JSON lines.
func readBody(t testing.TB, format, body string) []string {
	t.Helper()
	switch format {
	case FormatEvent:
		return []string{body}
	case FormatNDJSON:
		return strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	case FormatNDJSONGzipBase64, FormatNDJSONS2Base64:
		plain := testenv.DecodeBody(t, format, body)
		return strings.Split(strings.TrimSuffix(string(plain), "\n"), "\n")
	}
	t.Fatalf("unknown format %q", format)
	return nil
}

// readEvent parses one JSON line and returns its fields and the client's
// original body text (raw object or string value).
func readEvent(t testing.TB, line string) (map[string]json.RawMessage, string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("line is not a JSON object: %v: %.200s", err, line)
	}
	b := m["body"]
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		return m, s
	}
	return m, string(b)
}

func str(t testing.TB, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s is not a JSON string", raw)
	}
	return s
}

// discard is an API that accepts everything without sending it anywhere:
// the benchmark's no-op sender.
type discard struct{}

func (discard) SendMessageBatch(_ context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	out := &sqs.SendMessageBatchOutput{Successful: make([]types.SendMessageBatchResultEntry, len(in.Entries))}
	for i, e := range in.Entries {
		out.Successful[i].Id = e.Id
	}
	return out, nil
}

// prepare encodes and packs a chunk as Flush does, without sending.
func prepare(t testing.TB, cfg *Config, chunk []byte, tag string) (*Output, *flush, *testenv.Log) {
	t.Helper()
	log := &testenv.Log{}
	o := NewWithAPI(cfg, discard{}, log)
	f := &flush{}
	n := o.encode(f, chunk, tag, &chunkID{tag: tag, chunk: chunk}, true)
	f.pk.cfg = cfg
	f.pk.pack()
	o.reportDropped(f, tag)
	n.log(o, tag, len(chunk))
	return o, f, log
}

// entries builds the request entries of a flush's messages.
func entries(o *Output, msgs []message) []types.SendMessageBatchRequestEntry {
	var out []types.SendMessageBatchRequestEntry
	for i := range msgs {
		out = append(out, o.entry(msgs, i))
	}
	return out
}

// entrySize is what SQS counts for an entry.
func entrySize(e types.SendMessageBatchRequestEntry) int {
	n := len(*e.MessageBody)
	for name, a := range e.MessageAttributes {
		n += len(name) + len(*a.DataType) + len(aws.ToString(a.StringValue)) + len(a.BinaryValue)
	}
	return n
}

func count(e types.SendMessageBatchRequestEntry) int {
	n, _ := strconv.Atoi(*e.MessageAttributes[AttrCount].StringValue)
	return n
}
