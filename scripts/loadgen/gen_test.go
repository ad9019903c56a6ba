package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/testmodel"
)

var testNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func testGen(bad float64) *Generator {
	return &Generator{Seed: 7, BadPPM: int64(bad * 1e6), Game: "pixel_quest", Run: "run-test", Now: func() time.Time { return testNow }}
}

func TestGeneratorDeterministic(t *testing.T) {
	a, b := testGen(0.1), testGen(0.1)
	for _, seq := range []int64{0, 1, 17, 999, 123456} {
		ea, eb := a.Event(seq), b.Event(seq)
		if !bytes.Equal(ea.JSON, eb.JSON) || ea.Key() != eb.Key() || ea.Kind != eb.Kind {
			t.Fatalf("seq %d: %s %s vs %s %s", seq, ea.Key(), ea.JSON, eb.Key(), eb.JSON)
		}
	}
	c := testGen(0.1)
	c.Seed = 8
	same := 0
	for seq := int64(0); seq < 50; seq++ {
		if bytes.Equal(a.Event(seq).JSON, c.Event(seq).JSON) {
			same++
		}
	}
	if same > 5 {
		t.Errorf("seeds 7 and 8 give %d equal events of 50", same)
	}
}

func TestGeneratorSpreadsBadKindsEvenly(t *testing.T) {
	g := testGen(0.05)
	n := map[Kind]int{}
	gap, last := 0, int64(-1)
	for seq := int64(0); seq < 10000; seq++ {
		k := g.Kind(seq)
		n[k]++
		if k != Good {
			if last >= 0 && int(seq-last) > gap {
				gap = int(seq - last)
			}
			last = seq
		}
	}
	if n[Good] != 9500 {
		t.Errorf("good %d, want 9500", n[Good])
	}
	for _, k := range BadKinds {
		if n[k] != 125 {
			t.Errorf("%s: %d, want 125", k, n[k])
		}
	}
	if gap != 20 {
		t.Errorf("largest gap between bad events %d, want 20 (evenly spread)", gap)
	}
	if testGen(0).Kind(5) != Good || testGen(1).Kind(5) == Good {
		t.Error("-bad 0 / 1 not honoured")
	}
}

func TestEventsHaveSeqAndRun(t *testing.T) {
	g := testGen(0.2)
	for seq := int64(0); seq < 100; seq++ {
		var m map[string]any
		e := g.Event(seq)
		if err := json.Unmarshal(e.JSON, &m); err != nil {
			t.Fatal(err)
		}
		if m["seq"] != float64(seq) || m["run"] != "run-test" {
			t.Fatalf("seq %d: %s", seq, e.JSON)
		}
		if !reflect.DeepEqual(e.Body["seq"], seq) {
			t.Fatalf("Body seq %v", e.Body["seq"])
		}
	}
}

// TestEventsAgainstModel validates generated events with filters/validate
// against conf/model.yaml, as the processor will: good events are valid,
// each bad kind fails with exactly its code. Both paths are checked: the
// HTTP body (the JSON as sent) and the Forward body (the record as msgpack,
// turned back into JSON as the sqs output's enrichment does).
func TestEventsAgainstModel(t *testing.T) {
	m, err := validate.LoadFile("../../conf/model.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v := testmodel.Validator(t, m)
	g := testGen(0.2)
	seen := map[Kind]int{}
	names := map[string]bool{}
	for seq := int64(0); seq < 2000; seq++ {
		e := g.Event(seq)
		seen[e.Kind]++
		names[e.Name+"@"+e.Version] = true
		packed, err := msgp.AppendIntf(nil, e.Body)
		if err != nil {
			t.Fatal(err)
		}
		fwd, err := record.Value(packed).AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		for path, body := range map[string][]byte{"http": e.JSON, "forward": fwd} {
			status, codes := validateOne(t, v, &e, body)
			if e.Kind == Good {
				if status != validate.Valid {
					t.Fatalf("%s seq %d (%s) good event failed: %v\n%s", path, seq, e.Key(), codes, body)
				}
				continue
			}
			if status != validate.Failure || len(codes) != 1 || codes[0] != FailureCode[e.Kind] {
				t.Fatalf("%s seq %d (%s) %s: status %v codes %v, want one %s\n%s", path, seq, e.Key(), e.Kind, status, codes, FailureCode[e.Kind], body)
			}
		}
	}
	for _, k := range Kinds {
		if seen[k] == 0 {
			t.Errorf("no %s event in 2000", k)
		}
	}
	if len(names) < 12 {
		t.Errorf("only %d event/version combinations: %v", len(names), names)
	}
}

func validateOne(t *testing.T, v *validate.Validator, e *Event, body []byte) (validate.Status, []string) {
	t.Helper()
	b := msgp.AppendMapHeader(nil, 6)
	for _, kv := range [][2]string{
		{"uuid", "019a2b3c-4d5e-7f60-8a9b-0c1d2e3f4a5b"},
		{"fired_ts", testNow.Format("2006-01-02T15:04:05.000Z")},
		{"game", e.Game}, {"version", e.Version}, {"event", e.Name}, {"body", string(body)},
	} {
		b = msgp.AppendString(b, kv[0])
		b = msgp.AppendString(b, kv[1])
	}
	in := record.AppendRecord(nil, testNow, nil, b)
	var r record.Record
	if d := record.NewDecoder(in); !d.Next(&r) {
		t.Fatal(d.Err())
	}
	out := v.AppendValidated(nil, r)
	d := record.NewDecoder(out)
	status := validate.Unvalidated
	var codes []string
	for d.Next(&r) {
		s := validate.StatusOf(r.Body)
		if status != validate.Unvalidated && s != status {
			t.Fatalf("mixed outcomes")
		}
		status = s
		if s != validate.Failure {
			continue
		}
		errs, _ := r.Body.Get("errors")
		errs.Array(func(_ int, x record.Value) bool {
			em, _ := x.Map()
			c, _ := em.Get("code")
			s, _ := c.Str()
			codes = append(codes, string(s))
			return true
		})
	}
	if err := d.Err(); err != nil {
		t.Fatal(err)
	}
	return status, codes
}
