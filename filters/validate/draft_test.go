package validate

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// A draft from realistic samples: flattened nested objects, types,
// mandatory where every sample has a value, arrays as array fields, and a
// definition that passes Check and validates the samples it came from.
func TestDraftDefinition(t *testing.T) {
	samples := []string{
		`{"playerId":"p-1","level":3,"xp":10.5,"won":true,"ts":"2026-11-21T23:45:27.123Z","player":{"id":"a","stats":{"hp":10}},"items":[{"sku":"x"}],"mode":"solo","select":"a","first.name":"Ann","note":null,"seq":1}`,
		`{"playerId":"p-2","level":4,"xp":11,"won":false,"ts":"2026-11-22T01:00:00+02:00","player":{"id":"b","stats":{"hp":9}},"items":[],"mode":7,"select":"b","first.name":"Bo","seq":2,"extra":{}}`,
		`{"playerId":"p-3","level":5,"xp":12,"won":true,"ts":"2026-11-22T02:00:00Z","player":{"id":"c","stats":{}},"seq":3,"player_id":"dup","long":"` + strings.Repeat("x", 300) + `","ref":"not a time"}`,
		`{"playerId":"p-4","level":6,"xp":13,"won":false,"ts":"2026-11-22T03:00:00Z","player":{"id":"d"},"seq":4,"ref":"2026-11-22T03:00:00Z"}`,
	}
	var in [][]byte
	for _, s := range samples {
		in = append(in, []byte(s))
	}
	d, err := DraftDefinition("v1", in)
	if err != nil {
		t.Fatal(err)
	}
	want := []Field{
		{Name: "player_id", Path: "playerId", Type: "string", Mandatory: true},
		{Name: "level", Path: "level", Type: "integer", Mandatory: true},
		{Name: "xp", Path: "xp", Type: "number", Mandatory: true},
		{Name: "won", Path: "won", Type: "boolean", Mandatory: true},
		{Name: "ts", Path: "ts", Type: "timestamp", Mandatory: true},
		{Name: "player_id_2", Path: "player.id", Type: "string", Mandatory: true},
		{Name: "player_stats_hp", Path: "player.stats.hp", Type: "integer"},
		{Name: "items", Path: "items", Type: "array"},
		// mode: a string in one sample, a number in another: left out
		{Name: "select_", Path: "select", Type: "string"},
		{Name: "first_name", Path: `first\.name`, Type: "string"},
		// note: null in every sample that has it: left out
		{Name: "seq", Path: "seq", Type: "integer", Mandatory: true},
		{Name: "extra", Path: "extra", Type: "object"},
		{Name: "player_id_3", Path: "player_id", Type: "string"},
		{Name: "long", Path: "long", Type: "string", MaxLength: 512},
		{Name: "ref", Path: "ref", Type: "string"},
	}
	if !reflect.DeepEqual(d.Fields, want) {
		t.Errorf("fields\n%+v\nwant\n%+v", d.Fields, want)
	}
	d.Destinations = []string{"events.draft"}
	m := &Model{Games: []Game{{Name: "g", Mappings: []Mapping{{Version: ".*", Definition: "v1"}}, Events: []Event{{Name: "e", Definitions: []Definition{d}}}}}}
	if warnings, err := m.Check(); err != nil || len(warnings) > 0 {
		t.Fatalf("Check: %v %v", err, warnings)
	}
	v := validatorWith(t, m, Options{})
	for i, s := range samples {
		out := validate(t, v, inputRecord("g", "1.0", "e", s))
		if len(out) != 1 || len(codes(out[0])) != 0 {
			t.Errorf("sample %d fails its own draft: %v", i+1, out)
		}
	}
}

func TestDraftDefinitionRejects(t *testing.T) {
	for _, tc := range []struct {
		name, label string
		samples     []string
		want        string
	}{
		{"no samples", "v1", nil, "no samples"},
		{"bad label", "v 1", []string{`{}`}, "label"},
		{"not JSON", "v1", []string{`{"a":1}`, `{"a":`}, "sample 2"},
		{"not an object", "v1", []string{`[1]`}, "sample 1 is not a JSON object"},
		{"NaN", "v1", []string{`{"a":NaN}`}, "not a JSON object"},
		{"too large", "v1", []string{`{"a":"` + strings.Repeat("x", DraftMaxSampleBytes) + `"}`}, "more than"},
		{"too many fields", "v1", []string{func() string {
			var b strings.Builder
			b.WriteString(`{"k0":0`)
			for i := 1; i <= DraftMaxFields+1; i++ {
				b.WriteString(`,"k` + strconv.Itoa(i) + `":0`)
			}
			return b.String() + "}"
		}()}, "more than 1000 fields"},
	} {
		var in [][]byte
		for _, s := range tc.samples {
			in = append(in, []byte(s))
		}
		if _, err := DraftDefinition(tc.label, in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	big := make([][]byte, DraftMaxTotalBytes/DraftMaxSampleBytes+1)
	for i := range big {
		big[i] = []byte(`{"a":"` + strings.Repeat("x", DraftMaxSampleBytes-10) + `"}`)
	}
	if _, err := DraftDefinition("v1", big); err == nil || !strings.Contains(err.Error(), "bytes, more than") {
		t.Errorf("more than DraftMaxTotalBytes: %v", err)
	}
	many := make([][]byte, DraftMaxSamples+1)
	for i := range many {
		many[i] = []byte(`{}`)
	}
	if _, err := DraftDefinition("v1", many); err == nil {
		t.Error("more than DraftMaxSamples accepted")
	}
}
