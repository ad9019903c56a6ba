package validate

import (
	"errors"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
	"reflect"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

func TestCheckIdentifier(t *testing.T) {
	for _, ok := range []string{"player_id", "_x", "a1", "level", "order_id", strings.Repeat("a", 127)} {
		if err := CheckIdentifier(ok); err != nil {
			t.Errorf("%q rejected: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Player", "1abc", "a-b", "a b", "é", "select", "user", "timestamp", "order", "table", "window", strings.Repeat("a", 128)} {
		if err := CheckIdentifier(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

const modelHead = `
games:
  - name: g
    mappings: [{version: '.*', definition: v1}]
    events:
      - name: e
        definitions:
          - version: v1
`

// A model with a bad identifier (or any other error) is rejected with a
// message that names the game, event, definition and field.
func TestModelRejected(t *testing.T) {
	for _, tc := range []struct {
		name, def string
		want      []string
	}{
		{"column upper case", `
            destinations: [s.t]
            fields: [{name: Level, path: level, type: integer}]`,
			[]string{`game "g" event "e" definition "v1" field "Level": column name: "Level" is not an identifier`}},
		{"column reserved", `
            destinations: [s.t]
            fields: [{name: user, path: user, type: string}]`,
			[]string{`field "user": column name: "user" is a reserved word`}},
		{"destination table reserved", `
            destinations: [events.select]
            fields: []`,
			[]string{`definition "v1": destination "events.select": table "select" is a reserved word`}},
		{"destination without schema", `
            destinations: [events]
            fields: []`,
			[]string{`destination "events" must be schema.table`}},
		{"column too long", `
            destinations: [s.t]
            fields: [{name: ` + strings.Repeat("c", 128) + `, path: a, type: string}]`,
			[]string{`is not an identifier`}},
		{"unknown type", `
            destinations: [s.t]
            fields: [{name: a, path: a, type: text}]`,
			[]string{`field "a": type "text"`}},
		{"bad path", `
            destinations: [s.t]
            fields: [{name: a, path: 'x..y', type: string}]`,
			[]string{`field "a": path: "x..y": empty key`}},
		{"max_length too big", `
            destinations: [s.t]
            fields: [{name: a, path: a, type: string, max_length: 70000}]`,
			[]string{`field "a": max_length 70000`}},
		{"min above max", `
            destinations: [s.t]
            fields: [{name: a, path: a, type: integer, min: 5, max: 1}]`,
			[]string{`field "a": min 5 is above max 1`}},
		{"format on integer", `
            destinations: [s.t]
            fields: [{name: a, path: a, type: integer, format: uuid}]`,
			[]string{`field "a": format applies to string and timestamp fields only`}},
		{"duplicate column and bad pattern, both reported", `
            destinations: [s.t]
            fields: [{name: a, path: a, type: string}, {name: a, path: b, type: string, format: 'pattern:('}]`,
			[]string{`field "a": column defined twice`, `field "a": format "pattern:("`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseModel([]byte(modelHead + tc.def))
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.Check()
			var me *ModelError
			if !errors.As(err, &me) {
				t.Fatalf("error %v, want a ModelError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			if _, err := NewWithModel(m, Options{}); err == nil {
				t.Fatal("a validator accepted the model")
			}
		})
	}
}

func TestModelStructureRejected(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"bad mapping regexp", `games: [{name: g, mappings: [{version: '1.(', definition: v1}], events: []}]`, `game "g" mapping #1 ("1.("): version pattern`},
		{"bad game name", `games: [{name: 'my game', mappings: [], events: []}]`, `game "my game": name must be`},
		{"duplicate event", `games: [{name: g, mappings: [], events: [{name: e, definitions: []}, {name: e, definitions: []}]}]`, `game "g" event "e": defined twice`},
		{"duplicate definition", `games: [{name: g, mappings: [], events: [{name: e, definitions: [{version: v1, destinations: [s.t], fields: []}, {version: v1, destinations: [s.t], fields: []}]}]}]`, `definition "v1": defined twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseModel([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	// a misspelt key is an error, in YAML and in JSON
	if _, err := ParseModel([]byte(modelHead + "            destinations: [s.t]\n            fields: [{name: a, path: a, type: string, mandatroy: true}]\n")); err == nil || !strings.Contains(err.Error(), "mandatroy") {
		t.Fatalf("YAML unknown key: %v", err)
	}
	if _, err := ParseModel([]byte(`{"games": [{"name": "g", "mapings": []}]}`)); err == nil || !strings.Contains(err.Error(), "mapings") {
		t.Fatalf("JSON unknown key: %v", err)
	}
}

func TestDefinitionInvalidWarns(t *testing.T) {
	m := loadTestModel(t)
	warnings, err := m.Check()
	if err != nil {
		t.Fatal(err)
	}
	// the mappings to v2, which tutorial_step lacks, warn too (TestMappingToMissingLabelWarns)
	if len(warnings) != 3 || !strings.Contains(warnings[0], `game "galaxy" event "tutorial_step" definition "v1"`) || !strings.Contains(warnings[0], "no destinations") {
		t.Fatalf("warnings %v", warnings)
	}
	m2, _ := ParseModel([]byte(modelHead + `
            destinations: [s.t]
            fields:
              - {name: a, path: '@.x', type: string}
              - {name: b, path: p, type: string}
              - {name: c, path: p.q, type: string}`))
	warnings, err = m2.Check()
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "relative to an expanded element") || !strings.Contains(warnings[0], "field b (string)") {
		t.Fatalf("warnings %v", warnings)
	}
}

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		in   string
		segs []string
		rel  bool
		bad  bool
	}{
		{in: "a", segs: []string{"a"}},
		{in: "a.b.0", segs: []string{"a", "b", "0"}},
		{in: `a\.b.c`, segs: []string{"a.b", "c"}},
		{in: `a\\b`, segs: []string{`a\b`}},
		{in: `\@id`, segs: []string{"@id"}},
		{in: "@", rel: true},
		{in: "@.sku", segs: []string{"sku"}, rel: true},
		{in: "", bad: true},
		{in: "a.", bad: true},
		{in: ".a", bad: true},
		{in: "@sku", bad: true},
		{in: `a\b`, bad: true},
	} {
		segs, rel, err := ParsePath(tc.in)
		if (err != nil) != tc.bad || !reflect.DeepEqual(segs, tc.segs) || rel != tc.rel {
			t.Errorf("ParsePath(%q) = %q, %v, %v", tc.in, segs, rel, err)
		}
	}
}

// The same model in JSON validates the same way; an escaped key path works.
func TestJSONModel(t *testing.T) {
	m, err := ParseModel([]byte(`{"games": [{"name": "g", "mappings": [{"version": "1\\..*", "definition": "v1"}],
	  "events": [{"name": "e", "definitions": [{"version": "v1", "destinations": ["s.t"],
	    "fields": [{"name": "a_b", "path": "a\\.b", "type": "integer", "min": 2, "max": "9"}]}]}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	v := validatorWith(t, m, Options{})
	out := validate(t, v, inputRecord("g", "1.0", "e", `{"a.b": 3}`))
	if out[0]["columns"].(map[string]any)["a_b"] != int64(3) {
		t.Fatalf("got %v", out[0])
	}
	out = validate(t, v, inputRecord("g", "1.0", "e", `{"a.b": 10}`))
	if !reflect.DeepEqual(codes(out[0]), []string{"FIELD_OUT_OF_RANGE"}) {
		t.Fatalf("got %v", out[0])
	}
}

func TestNewFromProperties(t *testing.T) {
	// no model configured: the embedded default (game demo)
	v, err := New(plugin.Env{Config: testenv.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	out := validate(t, v, inputRecord("demo", "3.1.4", "purchase", `{"player_id":"p","items":[{"sku":"a","qty":1,"price":2.5},{"sku":"b"}]}`))
	if len(out) != 2 || out[1]["destinations"].([]any)[0] != "demo.purchase_item" {
		t.Fatalf("got %v", out)
	}
	v.Close()

	v, err = New(plugin.Env{Config: testenv.Config{"model_file": "testdata/model.yaml", "expand_limit": "2", "timestamp_max_ahead": "1h"}})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	out = validate(t, v, inputRecord("galaxy", "1.0", "purchase", `{"order":"o","items":[{"sku":"a","qty":1},{"sku":"a","qty":1},{"sku":"a","qty":1}]}`))
	if !reflect.DeepEqual(codes(out[0]), []string{"EXPAND_LIMIT_EXCEEDED"}) {
		t.Fatalf("expand_limit not applied: %v", out[0])
	}
	out = validate(t, v, inputRecord("galaxy", "1.0", "level_up", `{"player":{"id":"p"},"level":1,"ts":"2026-11-22T01:00:00Z"}`))
	if !reflect.DeepEqual(codes(out[0]), []string{"TIMESTAMP_OUT_OF_RANGE"}) {
		t.Fatalf("timestamp_max_ahead not applied: %v", out[0])
	}

	for _, tc := range []struct {
		cfg  testenv.Config
		want string
	}{
		{testenv.Config{"model_reload_interval": "2m"}, `"model_reload_interval"`},
		{testenv.Config{"expand_limit": "0"}, `"expand_limit"`},
		{testenv.Config{"timestamp_min": "2000"}, `"timestamp_min"`},
		{testenv.Config{"model_file": "a.yaml", "model_dsn": "host=x password=secret"}, `set model_file or model_dsn, not both`},
		{testenv.Config{"model_file": "testdata/missing.yaml"}, `missing.yaml`},
	} {
		_, err := New(plugin.Env{Config: tc.cfg})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("%v: error %v, want %s", tc.cfg, err, tc.want)
		}
	}
}
