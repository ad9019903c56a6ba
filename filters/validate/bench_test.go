package validate

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	jsoniter "github.com/json-iterator/go"
	"github.com/tinylib/msgp/msgp"
	"github.com/valyala/fastjson"

	"github.com/whirlpool-events/whirlpool/internal/benchcpu"
	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// Benchmarks: go test ./filters/validate -run '^$' -bench . -cpu 1
// Each reports records/s (per CPU with -cpu 1) beside a baseline in the
// same run that does the same checks through encoding/json and
// map[string]any.

const benchModel = `
games:
  - name: galaxy
    mappings:
      - {version: '1\.[0-4](\.[0-9]+)*', definition: v1}
      - {version: '1\.([5-9]|[1-9][0-9]+)(\.[0-9]+)*|([2-9]|[1-9][0-9]+)(\.[0-9]+)*', definition: v2}
    events:
      - name: match_end
        definitions:
          - version: v2
            destinations: [events.match_end]
            fields:
              - {name: player_id, path: player_id, type: string, mandatory: true, max_length: 64}
              - {name: session_id, path: session_id, type: string, format: uuid, mandatory: true}
              - {name: level, path: level, type: integer, mandatory: true, min: 1, max: 1000}
              - {name: score, path: score, type: integer, min: 0}
              - {name: xp, path: xp, type: number, min: 0}
              - {name: coins, path: coins, type: integer}
              - {name: gems, path: gems, type: integer}
              - {name: won, path: won, type: boolean, mandatory: true}
              - {name: mode, path: mode, type: string, format: 'pattern:(casual|ranked)'}
              - {name: map_name, path: map, type: string, max_length: 64}
              - {name: duration_ms, path: duration_ms, type: integer, min: 0}
              - {name: client_ts, path: ts, type: timestamp, mandatory: true}
              - {name: device_os, path: device.os, type: string, max_length: 32}
              - {name: device_model, path: device.model, type: string, max_length: 64}
              - {name: country, path: geo.country, type: string, max_length: 2}
              - {name: region, path: geo.region, type: string, max_length: 8}
              - {name: tags, path: tags, type: array, max_length: 1024}
              - {name: kills, path: kills, type: integer, min: 0}
              - {name: deaths, path: deaths, type: integer, min: 0}
              - {name: assists, path: assists, type: integer, min: 0}
      - name: match_start
        definitions:
          - version: v2
            destinations: [events.match_start]
            fields:
              - {name: player_id, path: player_id, type: string, mandatory: true, max_length: 64}
              - {name: session_id, path: session_id, type: string, format: uuid, mandatory: true}
              - {name: mode, path: mode, type: string, format: 'pattern:(casual|ranked)'}
              - {name: map_name, path: map, type: string, max_length: 64}
              - {name: client_ts, path: ts, type: timestamp, mandatory: true}
              - {name: device_os, path: device.os, type: string, max_length: 32}
              - {name: country, path: geo.country, type: string, max_length: 2}
              - {name: party_size, path: party.size, type: integer, min: 1, max: 8}
`

// benchStart is a match_start event (BenchmarkValidateMixedEvents).
const benchStart = `{"player_id":"p-8f2c1a9e","session_id":"5f0e9a7c-1b2d-4e3f-8a9b-0c1d2e3f4a5b","mode":"ranked","map":"desert_storm","ts":"2026-11-21T23:42:20.123Z","device":{"os":"android","os_version":"14","model":"Pixel 8"},"geo":{"country":"DE","region":"BY"},"party":{"size":3,"leader":"p-1"},"client_build":"a1b2c3d4e5f6","locale":"de-DE"}`

// ~500-byte events: one valid, one with three errors.
const (
	benchValid   = `{"player_id":"p-8f2c1a9e","session_id":"5f0e9a7c-1b2d-4e3f-8a9b-0c1d2e3f4a5b","level":42,"score":123456,"xp":9876.5,"coins":350,"gems":12,"won":true,"mode":"ranked","map":"desert_storm","duration_ms":183000,"ts":"2026-11-21T23:45:20.123Z","device":{"os":"android","os_version":"14","model":"Pixel 8"},"geo":{"country":"DE","region":"BY"},"tags":["daily","event","weekend"],"kills":17,"deaths":3,"assists":9,"client_build":"a1b2c3d4e5f6","locale":"de-DE","network":"wifi","battery":87,"fps_avg":58.7}`
	benchInvalid = `{"player_id":"p-8f2c1a9e","session_id":"5f0e9a7c-1b2d-4e3f-8a9b-0c1d2e3f4a5b","level":"high","score":123456,"xp":9876.5,"coins":350,"gems":12,"won":true,"mode":"ranked","map":"desert_storm","duration_ms":183000,"ts":"1999-11-21T23:45:20.123Z","device":{"os":"android","os_version":"14","model":"Pixel 8"},"geo":{"country":"DEU","region":"BY"},"tags":["daily","event","weekend"],"kills":17,"deaths":3,"assists":9,"client_build":"a1b2c3d4e5f6","locale":"de-DE","network":"wifi","battery":87,"fps_avg":58.7}`
)

// benchChunk builds 1000 input records, invalidEvery-th of them invalid
// (0: none).
func benchChunk(invalidEvery int) []byte {
	var chunk []byte
	for i := 0; i < 1000; i++ {
		body := benchValid
		if invalidEvery > 0 && i%invalidEvery == 0 {
			body = benchInvalid
		}
		chunk = append(chunk, inputRecord("galaxy", "1.7.2", "match_end", body)...)
	}
	return chunk
}

var mixes = []struct {
	name         string
	invalidEvery int
}{{"valid", 0}, {"invalid10pct", 10}, {"invalid", 1}}

func benchValidator(b *testing.B) *Validator {
	m, err := ParseModel([]byte(benchModel))
	if err != nil {
		b.Fatal(err)
	}
	v, err := NewWithModel(m, Options{})
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func BenchmarkValidate(b *testing.B) {
	v := benchValidator(b)
	defer v.Close()
	for _, mix := range mixes {
		chunk := benchChunk(mix.invalidEvery)
		b.Run(mix.name, func(b *testing.B) {
			// sanity: the mix produces what it claims
			out := v.AppendValidated(nil, decodeOne(b, inputRecord("galaxy", "1.7.2", "match_end", benchInvalid)))
			if StatusOf(decodeOne(b, out).Body) != Failure {
				b.Fatal("invalid event validated")
			}
			runChunk(b, chunk, v.AppendValidated)
		})
	}
}

// BenchmarkValidateShuffledKeys is BenchmarkValidate/valid with the body's
// top-level keys in another order in every event: the scan's key
// predictions (the order of the event before) then mostly miss.
func BenchmarkValidateShuffledKeys(b *testing.B) {
	v := benchValidator(b)
	defer v.Close()
	var members []string
	var err error
	fastjson.MustParse(benchValid).GetObject().Visit(func(k []byte, x *fastjson.Value) {
		var kb []byte
		if kb, err = json.Marshal(string(k)); err == nil {
			members = append(members, string(kb)+":"+string(x.MarshalTo(nil)))
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	var chunk []byte
	for range 1000 {
		rnd.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
		body := "{" + strings.Join(members, ",") + "}"
		chunk = append(chunk, inputRecord("galaxy", "1.7.2", "match_end", body)...)
	}
	runValidChunk(b, v, chunk, 10)
}

// BenchmarkValidateMixedEvents is BenchmarkValidate/valid with the events
// of two definitions interleaved (match_end, match_start, match_end, ...),
// as a chunk of one game's events holds them: each definition keeps its
// own key predictions.
func BenchmarkValidateMixedEvents(b *testing.B) {
	v := benchValidator(b)
	defer v.Close()
	var chunk []byte
	for i := range 1000 {
		event, body := "match_end", benchValid
		if i%2 == 1 {
			event, body = "match_start", benchStart
		}
		chunk = append(chunk, inputRecord("galaxy", "1.7.2", event, body)...)
	}
	runValidChunk(b, v, chunk, 2)
}

// runValidChunk runs chunk (runChunk) after checking that its first n
// events are valid: a benchmark of valid events must not measure failures.
func runValidChunk(b *testing.B, v *Validator, chunk []byte, n int) {
	d := record.NewDecoder(chunk)
	var r record.Record
	for i := 0; i < n && d.Next(&r); i++ {
		if out := v.AppendValidated(nil, r); StatusOf(decodeOne(b, out).Body) != Valid {
			b.Fatalf("event %d of the chunk is not valid: %q", i, out)
		}
	}
	runChunk(b, chunk, v.AppendValidated)
}

// runChunk validates every record of chunk with validate per iteration and
// reports records per second.
func runChunk(b *testing.B, chunk []byte, validate func(dst []byte, r record.Record) []byte) {
	var dec record.Decoder
	var r record.Record
	var buf []byte
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := benchcpu.Start(b)
	n := 0
	for i := 0; i < b.N; i++ {
		dec.Reset(chunk)
		buf = buf[:0]
		for dec.Next(&r) {
			buf = validate(buf, r)
			n++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	cpu.Report(b, n, "records/cpu-s")
}

// BenchmarkBaselineEncodingJSON does the same checks with encoding/json
// into map[string]any (UseNumber, for exact integers) and writes the same
// output records.
func BenchmarkBaselineEncodingJSON(b *testing.B) {
	v := benchValidator(b)
	defer v.Close()
	d := v.snap.Load().games["galaxy"].events["match_end"].defs["v2"]
	for _, mix := range mixes {
		chunk := benchChunk(mix.invalidEvery)
		b.Run(mix.name, func(b *testing.B) {
			runChunk(b, chunk, func(buf []byte, r record.Record) []byte { return baselineValidate(v, d, buf, r) })
		})
	}
}

func baselineValidate(v *Validator, d *cdef, dst []byte, rec record.Record) []byte {
	w := new(worker)
	var env envelope
	if !env.read(rec.Body, w) {
		return appendFailure(dst, rec, &env, w, nil, v.opts.MaxEventSize)
	}
	s := v.snap.Load()
	if v.resolve(s, &env, w) == nil {
		return appendFailure(dst, rec, &env, w, nil, v.opts.MaxEventSize)
	}
	dec := json.NewDecoder(bytes.NewReader(env.body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		w.add(failcode.PayloadNotJSON, "", "json", "", "", err.Error())
		return appendFailure(dst, rec, &env, w, d, v.opts.MaxEventSize)
	}
	cols := msgp.AppendMapHeader(nil, uint32(len(d.columns)))
	for _, f := range d.columns {
		var x any = m
		found := true
		for _, k := range f.path {
			o, ok := x.(map[string]any)
			if !ok {
				found = false
				break
			}
			if x, ok = o[k]; !ok {
				found = false
				break
			}
		}
		cols = append(cols, f.key...)
		if !found || x == nil {
			if f.mandatory {
				w.add(failcode.MandatoryFieldMissing, f.pathText, "mandatory", "", "", "missing "+f.name)
			}
			cols = msgp.AppendNil(cols)
			continue
		}
		bad := func(c failcode.Code) { w.add(c, f.pathText, "", "", "", "field "+f.name); cols = msgp.AppendNil(cols) }
		switch f.typ {
		case tString:
			s, ok := x.(string)
			switch {
			case !ok:
				bad(failcode.FieldTypeMismatch)
			case !utf8.ValidString(s):
				bad(failcode.FieldFormatInvalid)
			case len(s) > f.maxLen:
				bad(failcode.FieldTooLong)
			case f.format != fmtNone && !formatOK(f, []byte(s)):
				bad(failcode.FieldFormatInvalid)
			default:
				cols = msgp.AppendString(cols, s)
			}
		case tInteger:
			num, ok := x.(json.Number)
			if !ok {
				bad(failcode.FieldTypeMismatch)
				break
			}
			i, err := strconv.ParseInt(string(num), 10, 64)
			if err != nil {
				bad(failcode.FieldTypeMismatch)
			} else if (f.hasMin && i < f.imin) || (f.hasMax && i > f.imax) {
				bad(failcode.FieldOutOfRange)
			} else {
				cols = msgp.AppendInt64(cols, i)
			}
		case tNumber:
			num, ok := x.(json.Number)
			if !ok {
				bad(failcode.FieldTypeMismatch)
				break
			}
			fl, err := num.Float64()
			if err != nil || math.IsInf(fl, 0) || (f.hasMin && fl < f.fmin) || (f.hasMax && fl > f.fmax) {
				bad(failcode.FieldOutOfRange)
			} else {
				cols = msgp.AppendFloat64(cols, fl)
			}
		case tBoolean:
			bv, ok := x.(bool)
			if !ok {
				bad(failcode.FieldTypeMismatch)
			} else {
				cols = msgp.AppendBool(cols, bv)
			}
		case tTimestamp:
			s, ok := x.(string)
			if !ok {
				bad(failcode.FieldTypeMismatch)
				break
			}
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				bad(failcode.FieldFormatInvalid)
			} else if t.Before(v.opts.TimestampMin) || t.After(env.fired.Add(v.opts.TimestampMaxAhead)) {
				bad(failcode.TimestampOutOfRange)
			} else {
				cols = msgp.AppendString(cols, FormatTimestamp(t))
			}
		case tObject, tArray:
			j, _ := json.Marshal(x)
			if len(j) > f.maxLen {
				bad(failcode.FieldTooLong)
			} else {
				cols = msgp.AppendStringFromBytes(cols, j)
			}
		}
	}
	if len(w.errs) > 0 {
		return appendFailure(dst, rec, &env, w, d, v.opts.MaxEventSize)
	}
	dst = record.AppendRecord(dst, rec.Time, nil, nil)
	dst = msgp.AppendMapHeader(dst, 9)
	dst = appendEnvelope(dst, &env)
	dst = msgp.AppendString(dst, keyDefinition)
	dst = append(dst, d.labelMsgp...)
	dst = msgp.AppendString(dst, keyExpand)
	dst = msgp.AppendInt(dst, -1)
	dst = msgp.AppendString(dst, keyDests)
	dst = append(dst, d.destsMsgp...)
	dst = msgp.AppendString(dst, keyColumns)
	return append(dst, cols...)
}

// The baseline accepts and rejects the same events as the validator.
func TestBaselineAgrees(t *testing.T) {
	m, _ := ParseModel([]byte(benchModel))
	v := validatorWith(t, m, Options{})
	d := v.snap.Load().games["galaxy"].events["match_end"].defs["v2"]
	for _, body := range []string{benchValid, benchInvalid} {
		in := decodeOne(t, inputRecord("galaxy", "1.7.2", "match_end", body))
		got := decodeAll(t, v.AppendValidated(nil, in))
		base := decodeAll(t, baselineValidate(v, d, nil, in))
		if len(got) != 1 || len(base) != 1 || len(codes(got[0])) != len(codes(base[0])) {
			t.Fatalf("validator %v\nbaseline %v", got, base)
		}
		if body == benchValid && len(got[0]["columns"].(map[string]any)) != 20 {
			t.Fatalf("columns %v", got[0]["columns"])
		}
		if body == benchInvalid && strings.Join(codes(got[0]), ",") != "FIELD_TYPE_MISMATCH,TIMESTAMP_OUT_OF_RANGE,FIELD_TOO_LONG" {
			t.Fatalf("codes %v", codes(got[0]))
		}
	}
	if n := len(benchValid); n < 450 || n > 550 {
		t.Fatalf("bench event is %d bytes, want about 500", n)
	}
}

// Parsers compared on the same work: parse the event once and read the
// 20 paths of the benchmark definition. (github.com/buger/jsonparser was
// measured the same way in a scratch module: about 2x slower than fastjson.
// So was a one-pass index on internal/jsonscan, its members looked up in a
// table of the definition's keys, each value read from its raw text: on
// 2026-12-01, 8 alternating runs, median ~850k against fastjson's ~870k
// records/cpu-s, so the validator keeps fastjson.)
func BenchmarkParse(b *testing.B) {
	v := benchValidator(b)
	defer v.Close()
	d := v.snap.Load().games["galaxy"].events["match_end"].defs["v2"]
	ev := []byte(benchValid)
	b.Run("fastjson", func(b *testing.B) {
		var p fastjson.Parser
		b.ReportAllocs()
		n := 0
		for i := 0; i < b.N; i++ {
			root, err := p.ParseBytes(ev)
			if err != nil {
				b.Fatal(err)
			}
			for _, f := range d.columns {
				if x := root.Get(f.path...); x != nil {
					n++
				}
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("jsoniter-iterator", func(b *testing.B) {
		root := &trie{}
		for _, f := range d.columns {
			root.add(f.path)
		}
		it := jsoniter.NewIterator(jsoniter.ConfigFastest)
		b.ReportAllocs()
		n := 0
		var walk func(t *trie)
		walk = func(t *trie) {
			it.ReadMapCB(func(it *jsoniter.Iterator, k string) bool {
				c := t.kids[k]
				switch {
				case c == nil:
					it.Skip()
				case c.open:
					it.Skip()
					n++
				default:
					walk(c)
				}
				return true
			})
		}
		for i := 0; i < b.N; i++ {
			it.ResetBytes(ev)
			walk(root)
			if it.Error != nil {
				b.Fatal(it.Error)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("encoding-json-map", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for i := 0; i < b.N; i++ {
			var m map[string]any
			if err := json.Unmarshal(ev, &m); err != nil {
				b.Fatal(err)
			}
			for _, f := range d.columns {
				var x any = m
				for _, k := range f.path {
					o, _ := x.(map[string]any)
					x = o[k]
				}
				if x != nil {
					n++
				}
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	})
}
