package sqs

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/benchcpu"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// benchEvent is a ~530-byte game event: a level_complete with nested
// objects and arrays, the size the benchmarks of every stage use.
const benchEvent = `{"event_name":"level_complete","game":"moshi_monsters","game_version":"5.12.3","platform":"ios","user_id":"2b1e8a9c-4d7f-4a4e-9b1c-3f6a2d8e7c10","session_id":"9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f","client_ts":"2024-05-17T12:34:56.789Z","seq":18342,"level":{"id":"world3_level12","difficulty":"hard","duration_ms":184230,"stars":3,"retries":2},"rewards":[{"type":"coins","amount":250},{"type":"gem","amount":1}],"device":{"model":"iPhone14,2","os":"17.4.1","locale":"en_GB"},"ab_groups":["shop_v2","tutorial_b"],"is_paying":true}`

// benchMessage is one packed ndjson message of n contract records, as the
// sqs output writes it.
func benchMessage(n int) string {
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"uuid":"0190d6b4-7c2a-7c3e-8f00-%012d","fired_ts":"2026-11-21T23:45:27.123Z","game":"moshi","version":"5.12.3","event":"level_complete","body":%s}`, i, benchEvent)
	}
	return strings.Join(lines, "\n")
}

// BenchmarkDecodeMessage: the sqs input's cost per record to turn a packed
// message into Fluent Bit records (no network), beside the naive way.
func BenchmarkDecodeMessage(b *testing.B) {
	const n = 1000
	body := benchMessage(n)
	for _, c := range []struct {
		name   string
		bounds bounds
		body   string
		format string
	}{
		{"whirlpool", bounds{maxBytes: 64 << 20, maxRecords: 1_000_000}, body, formatNDJSON},
		{"whirlpool/gzip", bounds{maxBytes: 4 << 20, maxRecords: 10000}, gzipBody(b, body), formatGzipB64},
		{"whirlpool/s2", bounds{maxBytes: 4 << 20, maxRecords: 10000}, base64.StdEncoding.EncodeToString(s2.Encode(nil, []byte(body))), formatS2B64},
	} {
		b.Run(c.name, func(b *testing.B) {
			dec := newDecoder(c.bounds)
			var buf []byte
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			cpu := benchcpu.Start(b)
			for i := 0; i < b.N; i++ {
				var got []piece
				buf, got = dec.appendMessage(buf[:0], message{id: "m", body: c.body, format: c.format, sent: sent})
				if len(got) != n || failures(got) != 0 {
					b.Fatal(len(got))
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
			cpu.Report(b, n*b.N, "records/cpu-s")
		})
	}
	b.Run("baseline/encoding-json+msgp", func(b *testing.B) {
		var buf []byte
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		cpu := benchcpu.Start(b)
		for i := 0; i < b.N; i++ {
			buf = buf[:0]
			for _, line := range strings.Split(body, "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					b.Fatal(err)
				}
				raw, _ := json.Marshal(m["body"])
				m["body"] = string(raw)
				var err error
				buf = record.AppendRecord(buf, sent, nil, nil)
				if buf, err = msgp.AppendIntf(buf, m); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		cpu.Report(b, n*b.N, "records/cpu-s")
	})
}

// gzipBody is body as the sqs output sends it with compression gzip.
func gzipBody(b *testing.B, body string) string {
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestSpeed)
	if _, err := w.Write([]byte(body)); err != nil {
		b.Fatal(err)
	}
	w.Close()
	return base64.StdEncoding.EncodeToString(z.Bytes())
}

// BenchmarkDecodeAndValidate: the processor's sqs input's whole work per
// record (validate on): a message of 500 events of the shipped model's
// pixel_quest level_complete (BenchmarkProcessorDrain's), as the shipped
// edge sends it (ndjson.s2.b64), decoded and validated into valid records;
// beside the two passes it replaces, contract records encoded by the
// decoder then decoded and validated one by one (AppendValidated).
func BenchmarkDecodeAndValidate(b *testing.B) {
	const n = 500
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"uuid":"0190d6b4-7c2a-7000-8000-%012x","fired_ts":"2026-11-21T23:45:27.123Z","game":"pixel_quest","version":"1.2","event":"level_complete","body":{"seq":%d,"run":"bench","player_id":"player-%d","level":%d,"stars":%d,"duration_ms":%d,"ts":"2026-11-21T23:45:27Z"}}`,
			i, i, i%5000, 1+i%500, i%4, 1000+i)
	}
	msg := message{id: "m", body: base64.StdEncoding.EncodeToString(s2.Encode(nil, []byte(strings.Join(lines, "\n")))), format: formatS2B64, sent: sent}
	m, err := validate.LoadFile("../../conf/model.yaml")
	if err != nil {
		b.Fatal(err)
	}
	v, err := validate.NewWithModel(m, validate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	bnds := bounds{maxBytes: 4 << 20, maxRecords: 10000}
	check := func(b *testing.B, out []byte) {
		d := record.NewDecoder(out)
		var r record.Record
		valid := 0
		for d.Next(&r) {
			if validate.StatusOf(r.Body) == validate.Valid {
				valid++
			}
		}
		if valid != n || d.Err() != nil {
			b.Fatalf("%d valid records of %d (%v)", valid, n, d.Err())
		}
	}
	run := func(b *testing.B, once func(out []byte) []byte) {
		var out []byte
		b.ReportAllocs()
		cpu := benchcpu.Start(b)
		for i := 0; i < b.N; i++ {
			out = once(out[:0])
		}
		b.StopTimer()
		check(b, out)
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
		cpu.Report(b, n*b.N, "records/cpu-s")
	}
	b.Run("whirlpool", func(b *testing.B) {
		dec := newDecoder(bnds)
		dec.validator = v
		run(b, func(out []byte) []byte {
			out, _ = dec.appendMessage(out, msg)
			return out
		})
	})
	b.Run("baseline/decode-then-validate", func(b *testing.B) {
		dec := newDecoder(bnds)
		var records []byte
		run(b, func(out []byte) []byte {
			records, _ = dec.appendMessage(records[:0], msg)
			d := record.NewDecoder(records)
			var r record.Record
			for d.Next(&r) {
				out = v.AppendValidated(out, r)
			}
			return out
		})
	})
}
