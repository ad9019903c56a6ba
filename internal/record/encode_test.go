package record

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
)

func TestAppendEventTimeRoundTrip(t *testing.T) {
	for _, tm := range []time.Time{
		time.Unix(0, 0),
		time.Unix(1, 1),
		time.Unix(1715949296, 789123456),
		time.Unix(1715949296, 999999999),
		time.Date(2024, 5, 17, 12, 34, 56, 789000000, time.FixedZone("X", 3600)),
		time.Unix(math.MaxUint32-2, 5), // the last second before the marker values
	} {
		b := AppendEventTime([]byte{0xaa}, tm)
		if b[0] != 0xaa || len(b) != 11 || b[1] != 0xd7 || b[2] != 0 {
			t.Fatalf("%v: encoded % x", tm, b)
		}
		v := Value(b[1:])
		if v.Kind() != KindExt {
			t.Errorf("Kind %v", v.Kind())
		}
		got, ok := v.Time()
		if !ok || !got.Equal(tm) {
			t.Errorf("Time() = %v %v, want %v", got, ok, tm)
		}
		// And as a record timestamp.
		d := NewDecoder(AppendRecord(nil, tm, nil, emptyMap))
		var r Record
		if !d.Next(&r) || !r.Time.Equal(tm) {
			t.Errorf("record time %v (%v), want %v", r.Time, d.Err(), tm)
		}
	}
}

func TestAppendRecordRoundTrip(t *testing.T) {
	body := gameEvent(t)
	meta := obj(t, kv{"otlp", map[string]any{"trace_id": "abc"}}, kv{"n", 1})
	t1 := time.Unix(1715949296, 789000001)
	t2 := time.Unix(1715949297, 0)

	var chunk []byte
	chunk = AppendRecord(chunk, t1, nil, body)
	chunk = AppendRecord(chunk, t2, meta, body)

	got, d := decodeAll(t, chunk)
	if d.Err() != nil || len(got) != 2 || d.Offset() != len(chunk) {
		t.Fatalf("%d records, err %v, offset %d/%d", len(got), d.Err(), d.Offset(), len(chunk))
	}
	wantBody := mapToGo(t, Map(body))
	if len(wantBody) != len(gameEventKV()) {
		t.Fatalf("body has %d fields", len(wantBody))
	}
	if !got[0].time.Equal(t1) || len(got[0].meta) != 0 || !equal(got[0].body, wantBody) {
		t.Errorf("record 0: %s", dump(got[0]))
	}
	wantMeta := []kv{{"otlp", []kv{{"trace_id", "abc"}}}, {"n", int64(1)}}
	if !got[1].time.Equal(t2) || !equal(got[1].meta, wantMeta) || !equal(got[1].body, wantBody) {
		t.Errorf("record 1: %s", dump(got[1]))
	}
	// The decoded body is exactly the bytes given to AppendRecord.
	d.Reset(chunk)
	var r Record
	d.Next(&r)
	if string(r.Body) != string(body) || string(r.Meta) != "\x80" {
		t.Error("Body/Meta are not the encoded maps")
	}
}

// AppendStr writes what msgp.AppendStringFromBytes writes, at every length
// around the encodings' bounds, into buffers with and without room.
func TestAppendStrMatchesMsgp(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 30, 31, 32, 33, 255, 256, 65535, 65536} {
		s := bytes.Repeat([]byte{'x'}, n)
		for _, room := range []int{0, 1, 31, 32, 100} {
			dst := append(make([]byte, 0, 3+room), "abc"...)
			want := msgp.AppendStringFromBytes(append([]byte(nil), dst...), s)
			if got := AppendStr(dst, s); !bytes.Equal(got, want) {
				t.Fatalf("AppendStr of %d bytes with %d spare: % x..., want % x...", n, room, got[:min(len(got), 8)], want[:min(len(want), 8)])
			}
		}
	}
}
