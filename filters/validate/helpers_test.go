package validate

import (
	"fmt"
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
	res, err := decodeRecords(out)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// decodeRecords is decodeAll reporting instead of failing the test: it may
// run in a goroutine of the test's own.
func decodeRecords(out []byte) ([]map[string]any, error) {
	d := record.NewDecoder(out)
	var res []map[string]any
	var r record.Record
	for d.Next(&r) {
		if !r.Time.Equal(testTime) && !r.Time.IsZero() {
			return nil, fmt.Errorf("record time %v, want the input's %v", r.Time, testTime)
		}
		v, err := goValue(record.Value(r.Body))
		if err != nil {
			return nil, err
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("record body %v is not a map", v)
		}
		res = append(res, m)
	}
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("output does not decode: %w", err)
	}
	return res, nil
}

// goValue turns a msgpack value into Go values (int64, float64, string,
// []any, map[string]any).
func goValue(v record.Value) (any, error) {
	switch v.Kind() {
	case record.KindNil:
		return nil, nil
	case record.KindBool:
		b, _ := v.Bool()
		return b, nil
	case record.KindInt, record.KindUint:
		i, ok := v.Int()
		if !ok {
			return nil, fmt.Errorf("int out of range")
		}
		return i, nil
	case record.KindFloat:
		f, _ := v.Float()
		return f, nil
	case record.KindStr:
		s, _ := v.Str()
		return string(s), nil
	case record.KindArray:
		a := []any(nil)
		var err error
		v.Array(func(_ int, e record.Value) bool {
			var x any
			x, err = goValue(e)
			a = append(a, x)
			return err == nil
		})
		return a, err
	case record.KindMap:
		m := map[string]any{}
		var err error
		mm, _ := v.Map()
		mm.Range(func(k []byte, e record.Value) bool {
			m[string(k)], err = goValue(e)
			return err == nil
		})
		return m, err
	}
	return nil, fmt.Errorf("unexpected kind %v", v.Kind())
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
	return validatorWith(t, loadTestModel(t), o)
}

// validatorWith is a validator over m with options o, closed when the
// test ends.
func validatorWith(t testing.TB, m *Model, o Options) *Validator {
	t.Helper()
	v, err := NewWithModel(m, o)
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
