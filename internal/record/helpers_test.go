package record

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// Test inputs are built with msgp's encoders (an implementation independent
// of the decoder under test); expected values are plain Go values.

// kv is one entry of an ordered map built by obj.
type kv struct {
	k string
	v any
}

// obj encodes an ordered map with string keys; values go through
// msgp.AppendIntf (string -> str, []byte -> bin, int -> int, uint64 -> uint,
// float64, bool, nil, []any, map[string]any, msgp.Raw for raw bytes).
func obj(t testing.TB, entries ...kv) []byte {
	t.Helper()
	b := msgp.AppendMapHeader(nil, uint32(len(entries)))
	for _, e := range entries {
		b = msgp.AppendString(b, e.k)
		var err error
		if b, err = msgp.AppendIntf(b, e.v); err != nil {
			t.Fatalf("encode %q: %v", e.k, err)
		}
	}
	return b
}

// enc encodes one Go value with msgp.
func enc(t testing.TB, v any) []byte {
	t.Helper()
	b, err := msgp.AppendIntf(nil, v)
	if err != nil {
		t.Fatalf("encode %#v: %v", v, err)
	}
	return b
}

// Timestamps in each encoding.
func tsExt(sec, nsec uint32) []byte {
	return AppendEventTime(nil, time.Unix(int64(sec), int64(nsec)))
}
func tsExt8(sec, nsec uint32) []byte { // ext 8 with length 8 instead of fixext 8
	b := []byte{0xc7, 8, 0}
	return append(b, AppendEventTime(nil, time.Unix(int64(sec), int64(nsec)))[2:]...)
}
func tsInt(i int64) []byte     { return msgp.AppendInt64(nil, i) }
func tsUint(u uint64) []byte   { return msgp.AppendUint64(nil, u) }
func tsFloat(f float64) []byte { return msgp.AppendFloat64(nil, f) }
func tsFloat32(f float32) []byte {
	return msgp.AppendFloat32(nil, f)
}
func tsMarkerExt(sec int32) []byte { // EventTime whose seconds read as int32 are sec
	b := []byte{0xd7, 0}
	u := uint32(sec)
	return append(b, byte(u>>24), byte(u>>16), byte(u>>8), byte(u), 0, 0, 0, 0)
}

// current builds [[ts, meta], body]; legacy builds [ts, body].
func current(ts, meta, body []byte) []byte {
	return cat([]byte{0x92, 0x92}, ts, meta, body)
}
func legacy(ts, body []byte) []byte { return cat([]byte{0x92}, ts, body) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

var emptyMap = []byte{0x80}

// toGo converts a Value to plain Go values through the public accessors
// (Kind, Str, Int, Uint, Float, Bool, Map.Range, Array, Time), so tests of
// decoded records also exercise them. Maps become []kv to keep order and
// duplicates.
func toGo(t testing.TB, v Value) any {
	t.Helper()
	switch v.Kind() {
	case KindNil:
		if !v.IsNil() {
			t.Fatalf("Kind nil but IsNil false: % x", []byte(v))
		}
		return nil
	case KindBool:
		b, ok := v.Bool()
		mustOK(t, ok, "Bool", v)
		return b
	case KindInt:
		i, ok := v.Int()
		mustOK(t, ok, "Int", v)
		return i
	case KindUint:
		u, ok := v.Uint()
		mustOK(t, ok, "Uint", v)
		return u
	case KindFloat:
		f, ok := v.Float()
		mustOK(t, ok, "Float", v)
		return f
	case KindStr:
		s, ok := v.Str()
		mustOK(t, ok, "Str", v)
		return string(s)
	case KindBin:
		s, ok := v.Str()
		mustOK(t, ok, "Str(bin)", v)
		return append([]byte{}, s...)
	case KindArray:
		out := []any{}
		err := v.Array(func(i int, e Value) bool {
			if i != len(out) {
				t.Fatalf("Array index %d, want %d", i, len(out))
			}
			out = append(out, toGo(t, e))
			return true
		})
		if err != nil {
			t.Fatalf("Array: %v", err)
		}
		return out
	case KindMap:
		m, ok := v.Map()
		mustOK(t, ok, "Map", v)
		return mapToGo(t, m)
	case KindExt:
		if tm, ok := v.Time(); ok {
			return tm
		}
		return "ext"
	}
	t.Fatalf("invalid value % x", []byte(v))
	return nil
}

func mapToGo(t testing.TB, m Map) []kv {
	t.Helper()
	out := []kv{}
	err := m.Range(func(k []byte, v Value) bool {
		out = append(out, kv{string(k), toGo(t, v)})
		return true
	})
	if err != nil {
		t.Fatalf("Range: %v", err)
	}
	if m.Len() != len(out) {
		t.Fatalf("Len %d, Range saw %d entries", m.Len(), len(out))
	}
	return out
}

func mustOK(t testing.TB, ok bool, what string, v Value) {
	t.Helper()
	if !ok {
		t.Fatalf("%s failed on % x", what, []byte(v))
	}
}

// equal compares decoded values with expectations (reflect.DeepEqual, but
// times compared with Equal).
func equal(a, b any) bool {
	if ta, ok := a.(time.Time); ok {
		tb, ok := b.(time.Time)
		return ok && ta.Equal(tb)
	}
	if la, ok := a.([]kv); ok {
		lb, ok := b.([]kv)
		if !ok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if la[i].k != lb[i].k || !equal(la[i].v, lb[i].v) {
				return false
			}
		}
		return true
	}
	if la, ok := a.([]any); ok {
		lb, ok := b.([]any)
		if !ok || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !equal(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	if ba, ok := a.([]byte); ok {
		bb, ok := b.([]byte)
		return ok && bytes.Equal(ba, bb)
	}
	return reflect.DeepEqual(a, b)
}

// parseJSON parses JSON with numbers as exact rationals, so that "1e+21"
// and "1000000000000000000000" compare equal and big integers stay exact.
func parseJSON(t testing.TB, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("invalid JSON %q: %v", data, err)
	}
	if dec.More() {
		t.Fatalf("trailing data after JSON %q", data)
	}
	return normNumbers(t, v)
}

func normNumbers(t testing.TB, v any) any {
	switch x := v.(type) {
	case json.Number:
		r, ok := new(big.Rat).SetString(string(x))
		if !ok {
			t.Fatalf("bad number %q", x)
		}
		return r.RatString()
	case []any:
		for i := range x {
			x[i] = normNumbers(t, x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normNumbers(t, x[k])
		}
	}
	return v
}

// refJSON is the reference: encoding/json's rendering of a Go value.
func refJSON(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal(%#v): %v", v, err)
	}
	return parseJSON(t, b)
}

func dump(v any) string { return fmt.Sprintf("%#v", v) }
