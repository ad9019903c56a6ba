package validate

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/record"
)

// scanModel has a field of every type and format, nested and shared paths,
// an object and an array field, a definition whose object field another
// field looks inside (tree path only) and one that rejects additional
// fields.
const scanModel = `
games:
  - name: g
    mappings:
      - {version: '1', definition: v1}
    events:
      - name: e
        definitions:
          - version: v1
            destinations: [events.e]
            fields:
              - {name: s, path: s, type: string, mandatory: true, max_length: 8}
              - {name: s_again, path: s, type: string}
              - {name: id, path: id, type: string, format: uuid}
              - {name: day, path: day, type: string, format: date}
              - {name: mail, path: mail, type: string, format: email}
              - {name: ip4, path: net.ip4, type: string, format: ipv4}
              - {name: ip6, path: net.ip6, type: string, format: ipv6}
              - {name: mode, path: mode, type: string, format: 'pattern:(casual|ranked)'}
              - {name: n, path: n, type: integer, min: -5, max: 100}
              - {name: big, path: big, type: integer}
              - {name: x, path: a.b.x, type: number, min: 0, max: 10}
              - {name: y, path: a.b.y, type: number}
              - {name: ok, path: ok, type: boolean, mandatory: true}
              - {name: ts, path: ts, type: timestamp}
              - {name: secs, path: secs, type: timestamp, format: epoch_seconds}
              - {name: ms, path: ms, type: timestamp, format: epoch_millis}
              - {name: obj, path: obj, type: object, max_length: 40}
              - {name: arr, path: arr, type: array, max_length: 40}
              - {name: dotted, path: 'k\.dot', type: string}
      - name: inside
        definitions:
          - version: v1
            destinations: [events.inside]
            fields:
              - {name: o, path: o, type: object}
              - {name: oi, path: o.i, type: string}
      - name: strict
        definitions:
          - version: v1
            destinations: [events.strict]
            additional_fields: reject
            fields:
              - {name: s, path: s, type: string}
              - {name: ab, path: a.b, type: string}
              - {name: v, path: t.u.v, type: integer}
              - {name: o, path: obj, type: object}
      - name: buy
        definitions:
          - version: v1
            destinations: [events.buy]
            additional_fields: reject
            fields:
              - {name: order_id, path: order.id, type: string, mandatory: true}
              - {name: items, path: order.items, type: array, expand: true, mandatory: true}
              - {name: sku, path: '@.sku', type: string, mandatory: true, max_length: 4}
              - {name: qty, path: '@.n.qty', type: integer, min: 1}
              - {name: extra, path: '@.x', type: object}
      - name: each
        definitions:
          - version: v1
            destinations: [events.each]
            fields:
              - {name: tags, path: tags, type: array, expand: true}
              - {name: one_tag, path: '@', type: string, max_length: 3}
              - {name: s, path: s, type: string}
      - name: eachstrict
        definitions:
          - version: v1
            destinations: [events.eachstrict]
            additional_fields: reject
            fields:
              - {name: tags, path: tags, type: array, expand: true}
              - {name: whole, path: '@', type: object}
`

func scanValidators(t testing.TB) (scan, tree *Validator) {
	t.Helper()
	m, err := ParseModel([]byte(scanModel))
	if err != nil {
		t.Fatal(err)
	}
	scan, tree = validatorWith(t, m, Options{}), validatorWith(t, m, Options{})
	tree.treeOnly = true
	return scan, tree
}

var scanSeeds = []string{
	`{"s":"abc","ok":true,"n":7,"a":{"b":{"x":1.5,"y":-2e3}},"net":{"ip4":"10.0.0.1","ip6":"::1"},"id":"5f0e9a7c-1b2d-4e3f-8a9b-0c1d2e3f4a5b","day":"2026-11-30","mail":"a@b.c","mode":"ranked","ts":"2026-11-21T23:45:27.123Z","secs":1764000000,"ms":1764000000123,"obj":{"k":[1, 2]},"arr":[ "a" , {"b" :null} ],"k.dot":"d"}`,
	` { "s" : "a\"b\\" , "ok" : false , "s" : "dup" , "n" : 1e2 , "big" : 9223372036854775808 } `,
	`{"s":"\u00e9\n","ok":true,"n":-6,"a":{"b":"flat"},"net":"str","x":1}`,
	`{"s":"toolongvalue","ok":1,"n":"7","a":{"b":{"x":11,"x":1}},"arr":{"a":1},"obj":[],"ts":"yesterday","secs":1e20,"ms":"1"}`,
	`{"s":null,"n":1.5,"big":-1e19,"a":null,"net":{"ip4":"300.1.1.1","ip6":"x"},"mode":"other","day":"2026-13-01"}`,
	`{"s":"x","ok":true,"n":--1,"y":nan}`,
	`{"s":"x","ok":true,"n":-inf}`,
	`{"s":"x","ok":true,"l\u0065vel":1}`,
	`{"s":"x","ok":true,"obj":{"k\u0041":"\t"}}`,
	`{"s":"x","ok":true} x`,
	`{"s":"x","a":{"b":"y","c":1,"b":{"d":2}},"t":{"u":{"w":1,"v":"2"}},"t":{"z":{"q":1},"u":{"r":1}},"obj":{"any":1},"x.y":1,"@z":2,"zz":[1]}`,
	`{"s":"x","ok":true`,
	`[1]`,
	`{"order":{"id":"o1","items":[{"sku":"a","n":{"qty":2}},{"sku":"toolong","n":{"qty":0,"z":1},"x":{"q":[1, 2]},"y":1},3,{"n":"q"},{"sku":"b","sku":"c","n":{"qty":1},"n":{"w":1}}],"extra":1,"items":{}},"tags":["a","bbbb",null,1],"s":"x","more":1}`,
	`{"order":{"id":"o1","items":[]},"tags":"a"}`,
	`{"order":{"id":"o1","items":null},"tags":null}`,
	`{"order":{"id":"o1"}}`,
	`{"order":{"id":"o1","items":[[1]]},"tags":[[1],{"a":1}]}`,
	`{"order":[{"id":"o1","items":[{}]}],"tags":[{}]}`,
	`{"tags":[{"a":1},{"b":{"c":2}},"x"],"more":1}`,
	``,
	`{"s":"x","ok":true,"deep":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	"{\"s\":\"\xff\",\"ok\":true,\"arr\":[\"\x01\"]}",
}

// FuzzScanEqualsTree holds the scan path's output byte for byte equal to
// the tree path's, for every body, of each kind of definition.
func FuzzScanEqualsTree(f *testing.F) {
	for _, body := range scanSeeds {
		for _, event := range []string{"e", "inside", "strict", "buy", "each", "eachstrict"} {
			f.Add(event, body)
		}
	}
	pause := predictPause
	predictPause = 0 // keys predicted from the body before, in every body
	f.Cleanup(func() { predictPause = pause })
	scan, tree := scanValidators(f)
	f.Fuzz(func(t *testing.T, event, body string) {
		in := eventRecord("g", "1", event, body)
		// After earlier output, with room to spare: a one-row record is
		// written in place as it is checked, and a failure over it.
		earlier := append(make([]byte, 0, 1<<12), "earlier"...)
		got := scan.AppendValidated(earlier, decodeOne(t, in))
		want := tree.AppendValidated([]byte("earlier"), decodeOne(t, in))
		if !bytes.Equal(got, want) {
			t.Fatalf("event %s body %q:\n scan %q\n tree %q", event, body, got, want)
		}
	})
}

// TestPredictedKeys runs bodies one after another through one validator,
// so that each body's keys are predicted from the body before (the
// worker keeps the key met at each place of each object), and holds
// every output equal to the tree path's: a prediction is kept only when
// the key is the one the scan would find.
func TestPredictedKeys(t *testing.T) {
	pause := predictPause
	predictPause = 0 // predict in every event, also after one that missed
	t.Cleanup(func() { predictPause = pause })
	scan, tree := scanValidators(t)
	steps := []struct{ event, body string }{
		{"e", `{"s":"abc","ok":true,"n":7,"a":{"b":{"x":1.5}},"mode":"ranked","zz":1}`},
		{"e", `{"s":"abd","ok":false,"n":8,"a":{"b":{"x":2.5}},"mode":"casual","zz":2}`}, // the same keys, in order
		{"e", `{"s":"abd","ok":false,"n":8,"a":{"b":{"x":2.5}},"modeX:"casual","zz":2}`}, // a predicted key not closed where it ends
		{"e", `{"s":"abd","ok":false,"n":8,"a":{"b":{"x":2.5}},"mode":"casual","zzX:2}`}, // the same, for a key no field reaches
		{"e", `{"s":"abd","ok":false,"n":8,"a":{"b":{"x":2.5}},"mode":"casual","zz"::2}`},
		{"e", `{"s":"abd","ok":false,"n":8,"a":{"b":{"x":2.5}},"mode":"casual","zz":2}`},
		{"e", `{"ok":true,"s":"abc","a":{"b":{"y":1}},"n":7,"modes":"x","mode":"casual","zy":3}`}, // swapped; a key that extends a predicted one
		{"e", `{"s":"abc","ok":true,"n":7,"a":{"b":{"x":1.5}},"mod\u0065":"zz","zz":1}`},          // a predicted key written with an escape
		{"e", `{"s":"abc","ok":true,"n":7,"a":{"b":{"x":1.5}},"mode":"ranked","zz":1,"s":"dup"}`},
		{"e", `{"s":"abc","ok":true,"n":7,"a":{"b":{"x":1.5}},"mode":"ranked","zz":1,"s"`}, // cut inside a predicted key's member
		{"e", `{"s":"abc","ok":true,"n":7,"a":{"b":{"x":1.5}},"mode":"ranked","zz":1,"s`},  // cut inside a predicted key
		{"e", `{"ok":true,"s":"x"}`},
		{"e", `{"ok":true,"s":"x","k.dot":"d","net":{"ip4":"10.0.0.1"}}`},
		{"e", `{"ok":true,"s":"x","k.dot":"e","net":{"ip6":"::1"}}`}, // another key at a predicted place of a nested object
		{"strict", `{"s":"x","a":{"b":"y","c":1},"extra":1}`},
		{"strict", `{"s":"x","a":{"b":"y","d":1},"extrb":1}`},                   // other keys where additional fields were
		{"strict", `{"s":"x","a":{"b":"y","d":1},"extrb":1,"t":{"u":{"v":1}}}`}, // and one more
		{"buy", `{"order":{"id":"o1","items":[{"sku":"a","n":{"qty":2}},{"n":{"qty":1},"sku":"b"},{"sku":"c","x":{}}]}}`},
		{"buy", `{"order":{"items":[{"n":{"qty":2},"sku":"a"},{"sku":"b","n":{"qty":1},"y":1}],"id":"o2"}}`},
		{"e", `{"s":"abc","ok":true,"n":7,"a":{"b":{"x":1.5}},"mode":"ranked","zz":1}`}, // another definition in between
	}
	for round := range 2 {
		for i, st := range steps {
			in := eventRecord("g", "1", st.event, st.body)
			got := scan.AppendValidated(nil, decodeOne(t, in))
			want := tree.AppendValidated(nil, decodeOne(t, in))
			if !bytes.Equal(got, want) {
				t.Fatalf("round %d, step %d, event %s body %q:\n scan %q\n tree %q", round, i, st.event, st.body, got, want)
			}
		}
	}
}

func eventRecord(game, version, event, body string) []byte {
	b := msgp.AppendMapHeader(nil, 6)
	for _, kv := range [][2]string{{"uuid", testUUID}, {"fired_ts", testFired}, {"game", game}, {"version", version}, {"event", event}, {"body", body}} {
		b = msgp.AppendString(msgp.AppendString(b, kv[0]), kv[1])
	}
	return record.AppendRecord(nil, testTime, nil, b)
}

// TestScanTakesWhatItCan pins which bodies and definitions the scan reads
// itself; FuzzScanEqualsTree would pass with a scan that reads nothing.
func TestScanTakesWhatItCan(t *testing.T) {
	scan, _ := scanValidators(t)
	def := func(event string) *cdef { return scan.snap.Load().games["g"].events[event].defs["v1"] }
	if def("inside").scan != nil {
		t.Fatal("a definition with an object field read inside must take the tree path")
	}
	for _, name := range []string{"strict", "buy", "each"} {
		if def(name).scan == nil {
			t.Fatalf("definition %s (rejecting additional fields or expanding) must take the scan", name)
		}
	}
	for _, c := range []struct {
		body string
		scan bool
	}{
		{"strict" + scanSeeds[10], true}, // additional fields at every depth, duplicates
		{"strict" + `{"s":"x","t":[{"u":1}]}`, false},
		{"buy" + scanSeeds[13], true},  // elements of every kind, additional fields in them, duplicates
		{"each" + scanSeeds[13], true}, // "@" elements
		{"buy" + scanSeeds[14], true},
		{"buy" + scanSeeds[17], false}, // an element is an array: Get indexes it
		{"each" + scanSeeds[17], true},
		{"buy" + scanSeeds[18], false}, // a path goes on into an array
		{scanSeeds[0], true},
		{scanSeeds[1], true}, // escaped quotes in a value, duplicate key, whitespace
		{scanSeeds[2], true}, // escapes in a value, a path through a string
		{scanSeeds[3], true},
		{scanSeeds[4], true},
		{scanSeeds[22], false},             // a control byte in a value: not JSON
		{"{\"s\":\"\xff\"}", true},         // bad UTF-8 is the utf8 rule's to find
		{`{"n":03}`, false},                // numbers fastjson reads and RFC 8259 refuses
		{`{"obj":{"a":1.}}`, false},        //
		{`{"obj":[1e]}`, false},            //
		{`{"obj":"\x"}`, false},            // an unknown escape
		{`{"net":[1,2]}`, false},           // a path goes on into an array: Get indexes it
		{`{"l\u0065vel":1}`, false},        // escaped key
		{"{\"a\x01\":1}", false},           // control byte in a key
		{`{"n":-inf}`, false},              // fastjson's lenient numbers
		{`{"y":nan}`, false},               //
		{`{"n":+1}`, false},                //
		{`{"s":"x"} x`, false},             // tail
		{`{"s":"x"`, false},                // unterminated
		{`[1]`, false},                     // not an object
		{``, false},                        //
		{scanSeeds[21], false},             // deeper than scanDepth
		{`{"obj":{"k\u0041":"\t"}}`, true}, // escapes inside a skipped value are fastjson's to read
	} {
		w, d, body := new(worker), def("e"), c.body
		for _, name := range []string{"strict", "buy", "each"} {
			if b, ok := strings.CutPrefix(body, name); ok {
				d, body = def(name), b
			}
		}
		if got := w.scan(scan, d, []byte(body)); got != c.scan {
			t.Errorf("scan(%q) = %v, want %v", c.body, got, c.scan)
		}
	}
}

// timestampModel has a timestamp field with the validator's window (a)
// and one with its own min and max (b).
const timestampModel = `
games:
  - name: g
    mappings: [{version: '1', definition: v1}]
    events:
      - name: e
        definitions:
          - version: v1
            destinations: [events.e]
            fields:
              - {name: a, path: a, type: timestamp}
              - {name: b, path: b, type: timestamp, min: '2020-01-01T00:00:00.5Z', max: '2030-01-01T00:00:00Z'}
`

// TestTimestampRangeMessage pins the expected and message texts of
// TIMESTAMP_OUT_OF_RANGE, whose "from" side is made once per validator or
// field: the validator's timestamp_min, or the field's own min.
func TestTimestampRangeMessage(t *testing.T) {
	m, err := ParseModel([]byte(timestampModel))
	if err != nil {
		t.Fatal(err)
	}
	v := validatorWith(t, m, Options{TimestampMin: time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)})
	out := validate(t, v, eventRecord("g", "1", "e", `{"a":"1999-01-01T00:00:00Z","b":"2019-12-31T23:59:59Z"}`))
	errs := errorsOf(out[0])
	fired, err := time.Parse(time.RFC3339Nano, testFired)
	if err != nil {
		t.Fatal(err)
	}
	hi := fired.Add(24 * time.Hour).UTC().Format(time.RFC3339Nano) // fired_ts + the default timestamp_max_ahead
	for i, want := range []map[string]any{
		{"code": "TIMESTAMP_OUT_OF_RANGE", "path": "a", "rule": "timestamp_range", "expected": "from 2001-02-03T04:05:06Z to " + hi, "actual": `"1999-01-01T00:00:00Z"`,
			"message": "field a (a) is 1999-01-01T00:00:00Z, outside from 2001-02-03T04:05:06Z to " + hi},
		{"code": "TIMESTAMP_OUT_OF_RANGE", "path": "b", "rule": "timestamp_range", "expected": "from 2020-01-01T00:00:00.5Z to 2030-01-01T00:00:00Z", "actual": `"2019-12-31T23:59:59Z"`,
			"message": "field b (b) is 2019-12-31T23:59:59Z, outside from 2020-01-01T00:00:00.5Z to 2030-01-01T00:00:00Z"},
	} {
		if i >= len(errs) || !reflect.DeepEqual(errs[i], want) {
			t.Errorf("error %d: got %v\nwant %v", i, errs, want)
		}
	}
}

// The text of a timestamp's window is remembered from event to event (the
// events of one request share a fired_ts); an event with another fired_ts
// gets its own window.
func TestTimestampWindowFollowsFiredTS(t *testing.T) {
	m, err := ParseModel([]byte(timestampModel))
	if err != nil {
		t.Fatal(err)
	}
	v := validatorWith(t, m, Options{TimestampMin: time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)})
	for _, fired := range []string{testFired, testFired, "2026-11-25T10:00:00Z", testFired} {
		body := msgp.AppendMapHeader(nil, 6)
		for _, kv := range [][2]string{{"uuid", testUUID}, {"fired_ts", fired}, {"game", "g"}, {"version", "1"}, {"event", "e"}, {"body", `{"a":"1999-01-01T00:00:00Z"}`}} {
			body = msgp.AppendString(msgp.AppendString(body, kv[0]), kv[1])
		}
		errs := errorsOf(validate(t, v, record.AppendRecord(nil, testTime, nil, body))[0])
		ft, err := time.Parse(time.RFC3339Nano, fired)
		if err != nil {
			t.Fatal(err)
		}
		want := "from 2001-02-03T04:05:06Z to " + ft.Add(24*time.Hour).UTC().Format(time.RFC3339Nano)
		if len(errs) != 1 || errs[0]["expected"] != want {
			t.Fatalf("fired_ts %s: errors %v, want expected %q", fired, errs, want)
		}
	}
}

// hasSpace finds fastjson's whitespace as a byte-by-byte reading does, at
// every position of the words it reads at once, beside control bytes and
// other bytes below and above ' ' that it must not take for whitespace.
func TestHasSpaceMatchesByteReading(t *testing.T) {
	byteReading := func(b []byte) bool {
		for _, c := range b {
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				return true
			}
		}
		return false
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 200000 {
		b := make([]byte, r.IntN(24))
		for j := range b {
			b[j] = "a{\"\x00\x1f\x21\xff"[r.IntN(7)]
		}
		if r.IntN(2) == 0 && len(b) > 0 {
			b[r.IntN(len(b))] = " \t\n\r"[r.IntN(4)]
		}
		if got, want := hasSpace(b), byteReading(b); got != want {
			t.Fatalf("hasSpace(%q) = %v, want %v", b, got, want)
		}
	}
}

// A worker keeps the predictions of the predictDefs definitions it read
// most recently, each its own: interleaved events of a few definitions
// keep theirs, and a further definition takes the place of the one read
// longest ago.
func TestPredictionsByDefinition(t *testing.T) {
	defs := make([]*cdef, predictDefs+1)
	for i := range defs {
		defs[i] = &cdef{predSize: 2 * predictMembers}
	}
	var w worker
	for _, d := range defs[:predictDefs] {
		kp := w.predictionsFor(d)
		kp.pred[0] = &keySlot{key: d.label}
		kp.paused = 3
	}
	for round := range 2 {
		for i, d := range defs[:predictDefs] {
			if kp := w.predictionsFor(d); kp.def != d || kp.pred[0] == nil || kp.paused != 3 {
				t.Fatalf("round %d: definition %d lost its predictions", round, i)
			}
		}
	}
	w.predictionsFor(defs[1]) // defs[0] is now the least recently read
	kp := w.predictionsFor(defs[predictDefs])
	if kp.pred[0] != nil || kp.paused != 0 || len(kp.pred) != 2*predictMembers || len(kp.other) != 2*predictMembers {
		t.Fatalf("a new definition's place was not cleared: %+v", kp)
	}
	if kp := w.predictionsFor(defs[0]); kp.pred[0] != nil {
		t.Fatal("the least recently read definition kept its place")
	}
	if kp := w.predictionsFor(defs[1]); kp.pred[0] == nil {
		t.Fatal("a recently read definition lost its place")
	}
}
