package sqs

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/whirlpool-events/whirlpool/internal/testenv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/fluent/fluent-bit-go/output"
	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/internal/benchcpu"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

const benchRecords = 1000

// benchEvent is a ~530-byte game event (perf_anchors.md §7), nested.
func benchEvent(i int) []byte {
	return fmt.Appendf(nil, `{"event_id":"evt-%08d","player":{"id":"p-7f3a9c2e-41b8-4d0a-9a55-%012d","level":%d,"guild":"Night Owls","premium":true},`+
		`"session":{"id":"s-2c1e","started_at":"2026-11-21T23:40:00.000Z","device":{"os":"Android","os_version":"14","model":"Pixel 8","locale":"en-GB"}},`+
		`"match":{"id":"m-99813","mode":"ranked","map":"harbor","duration_s":612.5,"score":[3,2],"mvp":false},`+
		`"items":[{"sku":"sword_01","qty":1,"price":1.99},{"sku":"potion_hp","qty":3,"price":0.49}],"client_ts":1763768727123,"tags":["weekend","event_x"]}`,
		i, i, i%80)
}

// benchChunk is a chunk of benchRecords contract records, as the eventing
// input hands them to the output.
func benchChunk(tb testing.TB) []byte {
	var e enrich.Enricher
	var chunk []byte
	for i := 0; i < benchRecords; i++ {
		chunk = e.AppendRecord(chunk, enrich.Key{Game: "chess", Version: "1.4.2", Event: "match_end"}, benchEvent(i), t0.Add(time.Duration(i)*time.Millisecond))
	}
	return chunk
}

func reportRecords(b *testing.B, records int) {
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkOutput measures the output's work per record without the
// network: decode, encode, pack and batch, with an SQS API that accepts
// everything and sends nothing. Run at -cpu 1 for records per CPU-second.
func BenchmarkOutput(b *testing.B) {
	chunk := benchChunk(b)
	for _, m := range []struct {
		name string
		kv   []string
	}{
		{"whirlpool/ndjson", nil},
		{"whirlpool/ndjson-gzip", []string{"compression", "gzip"}},
		// As the shipped edge sends: conf/edge.conf's compression and message size.
		{"whirlpool/ndjson-s2", []string{"compression", "s2", "max_message_bytes", "256K"}},
		{"whirlpool/event", []string{"format", "event"}},
	} {
		b.Run(m.name, func(b *testing.B) {
			o := NewWithAPI(mustConfig(b, m.kv...), discard{}, &testenv.Log{})
			b.SetBytes(int64(len(chunk)))
			b.ReportAllocs()
			cpu := benchcpu.Start(b)
			for i := 0; i < b.N; i++ {
				if r := o.Flush(chunk, "events"); r != plugin.OK {
					b.Fatalf("flush = %v", r)
				}
			}
			if got := o.stats.Events.Load(); got != uint64(b.N*benchRecords) {
				b.Fatalf("%d events delivered, want %d", got, b.N*benchRecords)
			}
			reportRecords(b, b.N*benchRecords)
			cpu.Report(b, b.N*benchRecords, "records/cpu-s")
			b.ReportMetric(float64(o.stats.Messages.Load())/float64(b.N), "msgs/chunk")
		})
	}

	// The naive way, as the AWS Go plugins do it: fluent-bit-go's decoder,
	// the record map made JSON-able and marshalled with encoding/json, one
	// message per event, ten per request.
	b.Run("baseline/fluent-bit-go+encoding-json", func(b *testing.B) {
		var api API = discard{}
		queue := "http://127.0.0.1:1/123456789012/q"
		b.SetBytes(int64(len(chunk)))
		b.ReportAllocs()
		sent := 0
		cpu := benchcpu.Start(b)
		for i := 0; i < b.N; i++ {
			dec := output.NewDecoder(unsafe.Pointer(&chunk[0]), len(chunk))
			var entries []types.SendMessageBatchRequestEntry
			flush := func() {
				if _, err := api.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: &queue, Entries: entries}); err != nil {
					b.Fatal(err)
				}
				sent += len(entries)
				entries = entries[:0]
			}
			for {
				ret, _, rec := output.GetRecord(dec)
				if ret != 0 {
					break
				}
				body, err := json.Marshal(jsonable(rec))
				if err != nil {
					b.Fatal(err)
				}
				entries = append(entries, types.SendMessageBatchRequestEntry{
					Id:          aws.String(strconv.Itoa(len(entries))),
					MessageBody: aws.String(string(body)),
				})
				if len(entries) == 10 {
					flush()
				}
			}
			if len(entries) > 0 {
				flush()
			}
		}
		if sent != b.N*benchRecords {
			b.Fatalf("%d sent, want %d", sent, b.N*benchRecords)
		}
		reportRecords(b, sent)
		cpu.Report(b, sent, "records/cpu-s")
	})
}

// jsonable converts fluent-bit-go's decoded map (interface keys, []byte
// strings) to what encoding/json takes, as the AWS Go plugins' DecodeMap.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				if kb, isB := k.([]byte); isB {
					ks = string(kb)
				} else {
					ks = fmt.Sprint(k)
				}
			}
			m[ks] = jsonable(e)
		}
		return m
	case []any:
		for i := range x {
			x[i] = jsonable(x[i])
		}
		return x
	case []byte:
		return string(x)
	}
	return v
}

// BenchmarkCompress compares, in one run, the compressors the output could
// pack messages with (the gzip writers at BestSpeed, and S2's block encoder,
// compression s2), on the ndjson of benchChunk as the output encodes it:
// bytes in per second and the compressed share.
func BenchmarkCompress(b *testing.B) {
	o := NewWithAPI(mustConfig(b), discard{}, &testenv.Log{})
	chunk := benchChunk(b)
	f := o.getFlush()
	o.encode(f, chunk, "events", &chunkID{tag: "events", chunk: chunk}, false)
	lines := append([]byte(nil), f.pk.arena...)
	std, _ := stdgzip.NewWriterLevel(nil, stdgzip.BestSpeed)
	kp, _ := kgzip.NewWriterLevel(nil, kgzip.BestSpeed)
	for _, w := range []struct {
		name string
		z    interface {
			Reset(io.Writer)
			Write([]byte) (int, error)
			Close() error
		}
	}{{"compress-gzip", std}, {"klauspost-gzip", kp}} {
		b.Run(w.name, func(b *testing.B) {
			var out bytes.Buffer
			b.SetBytes(int64(len(lines)))
			for i := 0; i < b.N; i++ {
				out.Reset()
				w.z.Reset(&out)
				if _, err := w.z.Write(lines); err != nil {
					b.Fatal(err)
				}
				if err := w.z.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(out.Len())/float64(len(lines)), "compressed/raw")
		})
	}
	b.Run("klauspost-s2", func(b *testing.B) {
		var out []byte
		b.SetBytes(int64(len(lines)))
		for i := 0; i < b.N; i++ {
			out = s2.Encode(out[:cap(out)], lines)
		}
		b.ReportMetric(float64(len(out))/float64(len(lines)), "compressed/raw")
	})
}
