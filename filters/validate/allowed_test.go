package validate

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/fieldname"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// Every valid record the validator writes passes Allowed; what a forged
// record would bring does not.
func TestAllowedAcceptsExactlyWhatTheValidatorWrites(t *testing.T) {
	v := testValidator(t, Options{})
	for _, in := range []struct{ version, event, body string }{
		{"1.2", "level_up", `{"player":{"id":"p1"},"level":7,"score":120,"xp":1.5,"won":true,"ts":"2026-11-21T20:00:00Z","device":{"os":"x"},"tags":["a"]}`},
		{"1.6", "level_up", `{"player":{"id":"p2","name":"Zed"},"level":9,"mode":"ranked","ts":"2026-11-21T21:00:00Z"}`},
		{"1.2", "purchase", `{"order":"o1","items":[{"sku":"a","qty":1},{"sku":"b","qty":2,"price":{"amount":2.5}}]}`},
	} {
		out := v.AppendValidated(nil, decodeOne(t, inputRecord("galaxy", in.version, in.event, in.body)))
		d := record.NewDecoder(out)
		var r record.Record
		for d.Next(&r) {
			label := str(t, r.Body, fieldname.DefinitionVersion)
			a, ok := v.Allowed([]byte("galaxy"), []byte(in.event), label)
			if !ok {
				t.Fatalf("%s %s: definition %s not allowed", in.event, in.version, label)
			}
			dests, _ := r.Body.Get(fieldname.Destinations)
			dests.Array(func(_ int, e record.Value) bool {
				if s, _ := e.Str(); !a.Destination(s) {
					t.Errorf("destination %s not allowed", s)
				}
				return true
			})
			cols, _ := r.Body.Get(fieldname.Columns)
			m, _ := cols.Map()
			m.Range(func(k []byte, val record.Value) bool {
				if msg := a.Column(k, val); msg != "" {
					t.Errorf("%s: %s", in.event, msg)
				}
				return true
			})
		}
	}

	a, _ := v.Allowed([]byte("galaxy"), []byte("level_up"), []byte("v1"))
	cache := &ColumnCache{}
	for _, tc := range []struct {
		name, column string
		value        []byte
		want         string // in the reason; "" when allowed
	}{
		{"nil", "score", msgp.AppendNil(nil), ""},
		{"a column outside the definition", "evil", msgp.AppendString(nil, "yes"), "not a column"},
		{"a column in other case", "Player_ID", msgp.AppendString(nil, "p"), "not a column"},
		{"a metadata column", "uuid", msgp.AppendString(nil, "u"), "not a column"},
		{"a string over max_length", "player_id", msgp.AppendString(nil, strings.Repeat("p", 200)), "more than max_length 64"},
		{"a string for an integer", "level", msgp.AppendString(nil, "7"), "not what the validator writes"},
		{"an integer out of min/max", "level", msgp.AppendInt(nil, 5000), "outside"},
		{"an integer for a number", "xp", msgp.AppendInt(nil, 2), "not what the validator writes"},
		{"a negative number under min 0", "xp", msgp.AppendFloat64(nil, -1), "outside"},
		{"a string for a boolean", "won", msgp.AppendString(nil, "true"), "not what the validator writes"},
		{"a timestamp that is not RFC 3339", "client_ts", msgp.AppendString(nil, "yesterday"), "not an RFC 3339 time"},
		{"an object that is not JSON", "device", msgp.AppendString(nil, "{x"), "not the JSON text of an object"},
		{"an array for an object", "device", msgp.AppendString(nil, "[]"), "not the JSON text"},
		{"a map value", "device", msgp.AppendMapHeader(nil, 0), "not what the validator writes"},
		{"a valid value", "player_id", msgp.AppendString(nil, strings.Repeat("p", 64)), ""},
	} {
		got := a.Column([]byte(tc.column), tc.value)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: Column(%s) = %q, want %q", tc.name, tc.column, got, tc.want)
		}
		// ColumnAt says the same, at a position where the cache holds
		// another column, and again once it holds this one.
		for _, at := range []int{0, 0, 1} {
			if c := a.ColumnAt(cache, at, []byte(tc.column), tc.value); c != got {
				t.Errorf("%s: ColumnAt(%d, %s) = %q, Column says %q", tc.name, at, tc.column, c, got)
			}
		}
	}
	for _, d := range []string{"public.pwned", "events.level_up_v2", "Events.Level_Up", "whirlpool_model.games"} {
		if a.Destination([]byte(d)) {
			t.Errorf("destination %s allowed for v1", d)
		}
	}
	for _, k := range [][3]string{{"galaxy", "level_up", "v9"}, {"galaxy", "nope", "v1"}, {"nope", "level_up", "v1"}, {"galaxy", "tutorial_step", "v1"}} {
		if _, ok := v.Allowed([]byte(k[0]), []byte(k[1]), []byte(k[2])); ok {
			t.Errorf("Allowed%v: want false (missing or invalid definition)", k)
		}
	}
	// AllowedCached answers as Allowed, whatever was asked before.
	var c ColumnCache
	for _, k := range [][3]string{{"galaxy", "level_up", "v1"}, {"galaxy", "level_up", "v1"}, {"galaxy", "level_up", "v9"}, {"galaxy", "level_up", "v2"},
		{"galaxy", "purchase", "v2"}, {"nope", "level_up", "v1"}, {"galaxy", "level_up", "v1"}, {"galaxy", "tutorial_step", "v1"}} {
		want, wantOK := v.Allowed([]byte(k[0]), []byte(k[1]), []byte(k[2]))
		if got, ok := v.AllowedCached(&c, []byte(k[0]), []byte(k[1]), []byte(k[2])); got != want || ok != wantOK {
			t.Errorf("AllowedCached%v = %v, %v; Allowed says %v, %v", k, got, ok, want, wantOK)
		}
	}
	// InOrder holds for the columns as the validator writes them.
	out := v.AppendValidated(nil, decodeOne(t, inputRecord("galaxy", "1.2", "level_up", `{"player":{"id":"p1"},"level":3}`)))
	cols, _ := decodeOne(t, out).Body.Get("columns")
	m, _ := cols.Map()
	n := 0
	m.Range(func(k []byte, _ record.Value) bool {
		if !a.InOrder(n, k) || a.ColumnName(n) != string(k) {
			t.Errorf("column %d %s: not in the definition's order", n, k)
		}
		n++
		return true
	})
	if n != a.NumColumns() || a.InOrder(0, []byte("level")) {
		t.Errorf("%d columns written, NumColumns %d; InOrder(0, level) %v", n, a.NumColumns(), a.InOrder(0, []byte("level")))
	}
}

func str(t testing.TB, m record.Map, key string) []byte {
	t.Helper()
	v, _ := m.Get(key)
	s, ok := v.Str()
	if !ok {
		t.Fatalf("%s is not a string", key)
	}
	return s
}

// Refresh re-reads the model at once, but not more often than asked.
func TestRefreshReadsTheModelNowAndNotTooOften(t *testing.T) {
	path := filepath.Join(t.TempDir(), "model.yaml")
	src, err := os.ReadFile("testdata/model.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(string(src))
	v, err := newValidator(&fileSource{path: path}, nil, Options{ReloadInterval: time.Hour}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	newEvent := strings.Replace(string(src), "      - name: purchase\n", "      - name: boss\n        definitions:\n          - version: v1\n            destinations: [events.boss]\n            fields:\n              - {name: hp, path: hp, type: integer}\n      - name: purchase\n", 1)
	write(newEvent)
	if v.Refresh(time.Hour) {
		t.Fatal("refreshed although the model was read less than an hour ago")
	}
	// AllowedCached remembers the last look-up, but not past a new model.
	var cache ColumnCache
	if _, ok := v.Allowed([]byte("galaxy"), []byte("boss"), []byte("v1")); ok {
		t.Fatal("the new event is known before any refresh")
	}
	if _, ok := v.AllowedCached(&cache, []byte("galaxy"), []byte("boss"), []byte("v1")); ok {
		t.Fatal("AllowedCached: the new event is known before any refresh")
	}
	if !v.Refresh(0) {
		t.Fatal("Refresh(0) did not pick up the changed model")
	}
	if _, ok := v.Allowed([]byte("galaxy"), []byte("boss"), []byte("v1")); !ok {
		t.Fatal("the new event is unknown after Refresh")
	}
	if _, ok := v.AllowedCached(&cache, []byte("galaxy"), []byte("boss"), []byte("v1")); !ok {
		t.Fatal("AllowedCached: the new event is unknown after Refresh (a stale cached answer)")
	}
	if v.Refresh(0) {
		t.Fatal("an unchanged model reported as changed")
	}
}

// columnsOneByOne checks cols column by column, as a loader does when
// ColumnsInOrder says no: whether every column is allowed, in the
// definition's order and all there, and the values.
func columnsOneByOne(a Allowed, cols record.Map) (ok bool, vals []record.Value) {
	ok = true
	i := 0
	err := cols.Range(func(k []byte, v record.Value) bool {
		if !a.InOrder(i, k) || a.ValueAt(i, v) != "" {
			ok = false
		}
		vals = append(vals, v)
		i++
		return true
	})
	return ok && err == nil && i == a.NumColumns(), vals
}

// allowedColumns is a valid record's definition and columns, as the
// validator writes them.
func allowedColumns(t testing.TB, v *Validator, version, event, body string) (Allowed, record.Map) {
	t.Helper()
	out := v.AppendValidated(nil, decodeOne(t, inputRecord("galaxy", version, event, body)))
	r := decodeOne(t, out)
	a, ok := v.Allowed([]byte("galaxy"), []byte(event), str(t, r.Body, fieldname.DefinitionVersion))
	cols, _ := r.Body.Get(fieldname.Columns)
	m, isMap := cols.Map()
	if !ok || !isMap {
		t.Fatalf("%s %s: not a valid record: %q", event, body, out)
	}
	return a, m
}

// ColumnsInOrder takes the columns the validator writes, with the values
// a column-by-column check reads, and nothing else.
func TestColumnsInOrder(t *testing.T) {
	v := testValidator(t, Options{})
	a, cols := allowedColumns(t, v, "1.2", "level_up", `{"player":{"id":"p1"},"level":7,"score":120,"xp":1.5,"won":true,"ts":"2026-11-21T20:00:00Z","device":{"os":"x"},"tags":["a"]}`)
	vals := make([]record.Value, a.NumColumns())
	if !a.ColumnsInOrder(cols, vals) {
		t.Fatalf("ColumnsInOrder refused the columns the validator wrote: %q", cols)
	}
	if _, want := columnsOneByOne(a, cols); !reflect.DeepEqual(vals, want) {
		t.Fatalf("values %q, column by column %q", vals, want)
	}
	// the same columns, changed
	entries := [][2][]byte{}
	cols.Range(func(k []byte, v record.Value) bool {
		entries = append(entries, [2][]byte{msgp.AppendString(nil, string(k)), v})
		return true
	})
	build := func(n int, es [][2][]byte) record.Map {
		b := msgp.AppendMapHeader(nil, uint32(n))
		for _, e := range es {
			b = append(append(b, e[0]...), e[1]...)
		}
		return record.Map(b)
	}
	with := func(i int, key, val []byte) [][2][]byte {
		es := append([][2][]byte{}, entries...)
		if key != nil {
			es[i][0] = key
		}
		if val != nil {
			es[i][1] = val
		}
		return es
	}
	level := -1
	for i, e := range entries {
		if string(e[0]) == string(msgp.AppendString(nil, "level")) {
			level = i
		}
	}
	n := len(entries)
	for _, tc := range []struct {
		name string
		cols record.Map
	}{
		{"a column missing", build(n-1, entries[:n-1])},
		{"a column more", build(n+1, append(append([][2][]byte{}, entries...), [2][]byte{msgp.AppendString(nil, "evil"), msgp.AppendNil(nil)}))},
		{"two columns swapped", build(n, append([][2][]byte{entries[1], entries[0]}, entries[2:]...))},
		{"a value of another type", build(n, with(level, nil, msgp.AppendString(nil, "7")))},
		{"a value out of range", build(n, with(level, nil, msgp.AppendInt(nil, 5000)))},
		{"a map value", build(n, with(level, nil, msgp.AppendMapHeader(nil, 0)))},
		{"a key as str 8", build(n, with(level, append([]byte{0xd9, 5}, "level"...), nil))},
		{"a key as bin", build(n, with(level, msgp.AppendBytes(nil, []byte("level")), nil))},
		{"the header as map 16", record.Map(append([]byte{0xde, 0, byte(n)}, cols[1:]...))},
		{"bytes after the map", record.Map(append(append([]byte{}, cols...), 0xc0))},
		{"the map cut", cols[:len(cols)-1]},
	} {
		if a.ColumnsInOrder(tc.cols, make([]record.Value, a.NumColumns())) {
			t.Errorf("%s: ColumnsInOrder took %q", tc.name, tc.cols)
		}
	}
}

// What ColumnsInOrder takes, a column-by-column check takes too, with the
// same values: a loader that trusts it loads nothing the model does not
// allow.
func FuzzColumnsInOrder(f *testing.F) {
	v := testValidator(f, Options{})
	a, cols := allowedColumns(f, v, "1.2", "level_up", `{"player":{"id":"p1"},"level":7,"score":120,"xp":1.5,"won":true,"ts":"2026-11-21T20:00:00Z","device":{"os":"x"},"tags":["a"]}`)
	f.Add([]byte(cols))
	_, small := allowedColumns(f, v, "1.2", "level_up", `{"player":{"id":"p1"},"level":3}`)
	f.Add([]byte(small))
	f.Fuzz(func(t *testing.T, b []byte) {
		vals := make([]record.Value, a.NumColumns())
		if !a.ColumnsInOrder(record.Map(b), vals) {
			return
		}
		ok, want := columnsOneByOne(a, record.Map(b))
		if !ok || !reflect.DeepEqual(vals, want) {
			t.Fatalf("ColumnsInOrder took %q (values %q); column by column: allowed %v, values %q", b, vals, ok, want)
		}
	})
}

// hasKey finds a column's key at the start of the bytes, whatever its
// length (either side of the 8 and 16 bytes compared as words) and however
// many bytes follow it, and refuses it with any one of its bytes changed
// or cut short.
func TestHasKey(t *testing.T) {
	for n := 1; n <= 20; n++ {
		f := compiledField(t, strings.Repeat("k", n))
		for after := 0; after <= 17; after++ {
			b := append(append([]byte{}, f.key...), bytes.Repeat([]byte{0xc0}, after)...)
			if !hasKey(b, f) {
				t.Fatalf("key of %d bytes, %d after it: not found", len(f.key), after)
			}
			for i := range f.key {
				c := append([]byte{}, b...)
				c[i] ^= 0x20
				if hasKey(c, f) {
					t.Fatalf("key of %d bytes, %d after it, byte %d changed: found", len(f.key), after, i)
				}
			}
			if after == 0 && hasKey(b[:len(b)-1], f) {
				t.Fatalf("key of %d bytes cut by one: found", len(f.key))
			}
		}
	}
}

// compiledField is a string field named name, as compileField makes it.
func compiledField(t *testing.T, name string) *cfield {
	t.Helper()
	cf, ok := compileField(Field{Name: name, Path: name, Type: "string"}, Problem{}, func(Problem, string, ...any) {})
	if !ok {
		t.Fatalf("compiling field %q", name)
	}
	return cf
}
