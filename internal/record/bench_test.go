package record

import (
	"encoding/json"
	"testing"
	"time"

	jsoniter "github.com/json-iterator/go"
	"github.com/tinylib/msgp/msgp"
)

// benchRecords records per chunk, as Fluent Bit hands a Go output.
const benchRecords = 1000

// benchChunk builds one chunk of benchRecords records in the current
// [[EventTime, {}], body] form whose body is the ~530-byte (469 B as
// msgpack) game event of perf_anchors.md §7, nested as there.
func benchChunk(tb testing.TB) []byte {
	body := gameEvent(tb)
	chunk := make([]byte, 0, benchRecords*(len(body)+16))
	t0 := time.Unix(1715949296, 789000000)
	for i := 0; i < benchRecords; i++ {
		chunk = AppendRecord(chunk, t0.Add(time.Duration(i)*time.Millisecond), nil, body)
	}
	return chunk
}

func reportRecords(b *testing.B, records int) {
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkDecodeChunk decodes every record of a chunk.
func BenchmarkDecodeChunk(b *testing.B) {
	chunk := benchChunk(b)

	// Decoder + Range over every top-level body field, reading each string
	// value with Str(): the work a plugin does to look at a record.
	b.Run("whirlpool", func(b *testing.B) {
		var d Decoder
		var r Record
		sink := 0
		fn := func(key []byte, v Value) bool {
			if s, ok := v.Str(); ok {
				sink += len(s)
			}
			sink += len(key)
			return true
		}
		b.SetBytes(int64(len(chunk)))
		b.ReportAllocs()
		records := 0
		for i := 0; i < b.N; i++ {
			d.Reset(chunk)
			n := 0
			for d.Next(&r) {
				if err := r.Body.Range(fn); err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != benchRecords || d.Err() != nil {
				b.Fatalf("%d records, %v", n, d.Err())
			}
			records += n
		}
		reportRecords(b, records)
		if sink == 0 {
			b.Fatal("nothing read")
		}
	})

	// The baseline: how every fluent-bit-go plugin decodes (see
	// flbgoDecode; needs cgo).
	b.Run("fluent-bit-go", func(b *testing.B) {
		if flbgoDecode == nil {
			b.Skip("fluent-bit-go needs cgo")
		}
		b.SetBytes(int64(len(chunk)))
		b.ReportAllocs()
		records := 0
		for i := 0; i < b.N; i++ {
			n, err := flbgoDecode(chunk)
			if err != nil || n != benchRecords {
				b.Fatalf("%d records, %v", n, err)
			}
			records += n
		}
		reportRecords(b, records)
	})
}

// BenchmarkAppendJSON turns every record body of a chunk into JSON.
func BenchmarkAppendJSON(b *testing.B) {
	chunk := benchChunk(b)

	b.Run("whirlpool", func(b *testing.B) {
		var d Decoder
		var r Record
		buf := make([]byte, 0, 1024)
		b.SetBytes(int64(len(chunk)))
		b.ReportAllocs()
		records := 0
		for i := 0; i < b.N; i++ {
			d.Reset(chunk)
			for d.Next(&r) {
				var err error
				if buf, err = r.Body.AppendJSON(buf[:0]); err != nil {
					b.Fatal(err)
				}
				records++
			}
		}
		reportRecords(b, records)
	})

	// Baselines: decode each record to Go maps with msgp.ReadIntfBytes
	// (the fastest generic decoder of perf_anchors §7.1; fluent-bit-go's
	// map[interface{}]interface{} cannot be given to encoding/json at all),
	// then marshal the body.
	baseline := func(marshal func(any) ([]byte, error)) func(b *testing.B) {
		return func(b *testing.B) {
			b.SetBytes(int64(len(chunk)))
			b.ReportAllocs()
			records := 0
			for i := 0; i < b.N; i++ {
				for p := chunk; len(p) > 0; {
					v, o, err := msgp.ReadIntfBytes(p)
					if err != nil {
						b.Fatal(err)
					}
					p = o
					body := v.([]any)[1].(map[string]any)
					if _, err := marshal(body); err != nil {
						b.Fatal(err)
					}
					records++
				}
			}
			reportRecords(b, records)
		}
	}
	b.Run("msgp+encoding-json", baseline(json.Marshal))
	b.Run("msgp+jsoniter", baseline(jsoniter.Marshal))
}
