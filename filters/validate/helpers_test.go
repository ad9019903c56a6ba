package validate

import (
	"sort"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/record"
)

const (
	testUUID  = "019a2b3c-4d5e-7f60-8a9b-0c1d2e3f4a5b"
	testFired = "2026-11-21T23:45:27.123Z"
)

var testTime = time.Date(2026, 11, 21, 23, 45, 27, 123000000, time.UTC)

// inputRecord builds one record in the contract of filters/enrich.
func inputRecord(game, version, event, body string) []byte {
	b := msgp.AppendMapHeader(nil, 6)
	for _, kv := range [][2]string{{"uuid", testUUID}, {"fired_ts", testFired}, {"game", game}, {"version", version}, {"event", event}, {"body", body}} {
		b = msgp.AppendString(b, kv[0])
		b = msgp.AppendString(b, kv[1])
	}
	return record.AppendRecord(nil, testTime, nil, b)
}

func decodeOne(t testing.TB, chunk []byte) record.Record {
	t.Helper()
	d := record.NewDecoder(chunk)
	var r record.Record
	if !d.Next(&r) {
		t.Fatalf("no record: %v", d.Err())
	}
	return r
}

// validate runs one input through v and decodes the output records.
func validate(t testing.TB, v *Validator, in []byte) []map[string]any {
	t.Helper()
	out := v.AppendValidated(nil, decodeOne(t, in))
	return decodeAll(t, out)
}

func decodeAll(t testing.TB, out []byte) []map[string]any {
	t.Helper()
	d := record.NewDecoder(out)
	var res []map[string]any
	var r record.Record
	for d.Next(&r) {
		if !r.Time.Equal(testTime) && !r.Time.IsZero() {
			t.Errorf("record time %v, want the input's %v", r.Time, testTime)
		}
		res = append(res, toGo(t, record.Value(r.Body)).(map[string]any))
	}
	if err := d.Err(); err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	return res
}

func toGo(t testing.TB, v record.Value) any {
	switch v.Kind() {
	case record.KindNil:
		return nil
	case record.KindBool:
		b, _ := v.Bool()
		return b
	case record.KindInt, record.KindUint:
		i, ok := v.Int()
		if !ok {
			t.Fatalf("int out of range")
		}
		return i
	case record.KindFloat:
		f, _ := v.Float()
		return f
	case record.KindStr:
		s, _ := v.Str()
		return string(s)
	case record.KindArray:
		var a []any
		v.Array(func(_ int, e record.Value) bool { a = append(a, toGo(t, e)); return true })
		return a
	case record.KindMap:
		m := map[string]any{}
		mm, _ := v.Map()
		mm.Range(func(k []byte, e record.Value) bool { m[string(k)] = toGo(t, e); return true })
		return m
	}
	t.Fatalf("unexpected kind %v", v.Kind())
	return nil
}

// codes lists the error codes of a failure record.
func codes(rec map[string]any) []string {
	var c []string
	errs, _ := rec["errors"].([]any)
	for _, e := range errs {
		c = append(c, e.(map[string]any)["code"].(string))
	}
	return c
}

func errorsOf(rec map[string]any) []map[string]any {
	var out []map[string]any
	errs, _ := rec["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any))
	}
	return out
}

func loadTestModel(t testing.TB) *Model {
	t.Helper()
	m, err := LoadFile("testdata/model.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func testValidator(t testing.TB, o Options) *Validator {
	t.Helper()
	v, err := NewWithModel(loadTestModel(t), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func sortedKeys(m map[string]any) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// config is a plugin.Config over a map.
