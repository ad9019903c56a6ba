package validate

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/failcode"
)

// Each problem of a model names what it concerns, so that a user
// interface can show it beside the game, mapping, event, definition or
// field; its text is the one Check and ModelError give.
func TestProblemsAreStructured(t *testing.T) {
	m, err := ParseModel([]byte(`
games:
  - name: g
    mappings:
      - {version: '(', definition: v1}
      - {version: '.*', definition: v1}
    events:
      - name: e
        definitions:
          - version: v1
            destinations: [s.t]
            fields:
              - {name: ok, path: ok, type: string}
              - {name: Bad, path: bad, type: string}
              - {name: n, path: n, type: integer, min: x}
          - version: v2
            destinations: [s.t]
            additional_fields: maybe
            fields: []
`))
	if err != nil {
		t.Fatal(err)
	}
	errs, warnings := m.Problems()
	type loc struct {
		Game, Event, Definition, Field string
		Mapping                        int
	}
	var got []loc
	for _, p := range errs {
		got = append(got, loc{p.Game, p.Event, p.Definition, p.Field, p.Mapping})
	}
	want := []loc{
		{"g", "", "", "", 0},
		{"g", "e", "v1", "Bad", -1},
		{"g", "e", "v1", "n", -1},
		{"g", "e", "v2", "", -1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("problems at %+v, want %+v (%v)", got, want, errs)
	}
	if len(warnings) != 0 {
		t.Fatalf("warnings %v", warnings)
	}
	_, cerr := m.Check()
	var me *ModelError
	if !errors.As(cerr, &me) || len(me.Issues) != len(errs) || len(me.Problems) != len(errs) {
		t.Fatalf("Check: %v", cerr)
	}
	for i, p := range errs {
		if p.String() != me.Problems[i] || me.Issues[i] != p {
			t.Errorf("problem %d: %q, Check says %q", i, p.String(), me.Problems[i])
		}
	}
	if me.Problems[1] != `game "g" event "e" definition "v1" field "Bad": column name: "Bad" is not an identifier: want 1-127 of a-z, 0-9, _ starting with a letter or _` {
		t.Errorf("text changed: %q", me.Problems[1])
	}
	if !strings.HasPrefix(me.Problems[0], `game "g" mapping #1 ("("): version pattern:`) {
		t.Errorf("mapping problem: %q", me.Problems[0])
	}
	// a Problem made elsewhere reads the same way
	p := Problem{Game: "g", Event: "e", Definition: "v1", Field: "x", Mapping: -1, Message: "m"}
	if p.String() != `game "g" event "e" definition "v1" field "x": m` {
		t.Errorf("String: %q", p.String())
	}
}

// The usual slip: a mapping names a label that some event lacks (or has
// retired), so that event's events from those versions fail
// DEFINITION_NOT_FOUND. The model loads, with a warning on the mapping.
func TestMappingToMissingLabelWarns(t *testing.T) {
	m, err := ParseModel([]byte(`
games:
  - name: g
    mappings:
      - {version: '1\..*', definition: v1}
      - {version: '2\..*', definition: v2}
    events:
      - name: a
        definitions:
          - {version: v1, destinations: [s.a], fields: []}
          - {version: v2, destinations: [s.a], fields: []}
      - name: b
        definitions:
          - {version: v1, destinations: [s.b], fields: []}
      - name: c
        definitions:
          - {version: v1, destinations: [s.c], fields: []}
          - {version: v2, destinations: [s.c], fields: [], retired: true}
      - name: gone
        definitions:
          - {version: v1, destinations: [s.d], fields: [], retired: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	errs, warnings := m.Problems()
	if len(errs) != 0 || len(warnings) != 1 {
		t.Fatalf("errors %v, warnings %v", errs, warnings)
	}
	w := warnings[0]
	if w.Game != "g" || w.Mapping != 1 || w.Definition != "v2" || w.Event != "" {
		t.Fatalf("warning at %+v", w)
	}
	for _, s := range []string{`event "b" has no definition "v2"`, `event "c" has retired it`, "DEFINITION_NOT_FOUND"} {
		if !strings.Contains(w.Message, s) {
			t.Errorf("warning %q does not say %s", w.Message, s)
		}
	}
	if strings.Contains(w.Message, "gone") {
		t.Errorf("a retired event is named: %q", w.Message)
	}
	cw, err := m.Check()
	if err != nil || len(cw) != 1 || cw[0] != w.String() || !strings.HasPrefix(cw[0], `game "g" mapping #2 ("2\\..*"): names definition "v2"`) {
		t.Fatalf("Check: %v %q", err, cw)
	}
	// and the validator does fail those events as the warning says
	v := validatorWith(t, m, Options{})
	for _, tc := range []struct{ event, version, code, says string }{
		{"b", "2.0", "DEFINITION_NOT_FOUND", "which event b does not have"},
		{"c", "2.0", "DEFINITION_NOT_FOUND", "maps to definition v2 of event c, which is retired"},
		{"gone", "1.0", "DEFINITION_NOT_FOUND", "which is retired"},
	} {
		out := validate(t, v, inputRecord("g", tc.version, tc.event, `{}`))
		if len(out) != 1 || !reflect.DeepEqual(codes(out[0]), []string{tc.code}) {
			t.Fatalf("%s %s: %v", tc.event, tc.version, out)
		}
		if msg := errorsOf(out[0])[0]["message"].(string); !strings.Contains(msg, tc.says) {
			t.Errorf("%s %s: message %q", tc.event, tc.version, msg)
		}
		if out[0]["definition_version"] != nil {
			t.Errorf("%s %s: definition_version %v", tc.event, tc.version, out[0]["definition_version"])
		}
	}
	if out := validate(t, v, inputRecord("g", "2.0", "a", `{}`)); len(out) != 1 || out[0]["definition_version"] != "v2" || len(codes(out[0])) != 0 {
		t.Fatalf("a 2.0: %v", out)
	}
}

// Resolve answers "which definition does this game version get, or why
// none" with the resolution events go through.
func TestResolve(t *testing.T) {
	m, err := ParseModel([]byte(`
games:
  - name: g
    mappings:
      - {version: '1\..*', definition: v1}
      - {version: '2\..*', definition: v2}
      - {version: '2\.5', definition: v3}
      - {version: '3\..*', definition: v3}
      - {version: '4\.[0-9]+', definition: v4}
      - {version: '4\.[0-9]', definition: v1}
      - {version: '5\..*', definition: v5}
    events:
      - name: a
        definitions:
          - {version: v1, destinations: [s.a], fields: []}
          - {version: v2, destinations: [s.a], fields: []}
          - {version: v3, destinations: [s.a], fields: [], retired: true}
      - name: b
        definitions:
          - {version: v2, destinations: [s.b], fields: []}
          - {version: v3, destinations: [s.b], fields: [], retired: true}
`))
	if err != nil {
		t.Fatal(err)
	}
	v := validatorWith(t, m, Options{})
	for _, tc := range []struct {
		game, version, label string
		code                 failcode.Code
		says                 []string
	}{
		{"g", "1.2", "v1", "", nil},
		{"g", "2.0", "v2", "", nil},
		{"g", "2.5", "", failcode.DefinitionNotFound, []string{"definition v3", "retired in every event"}}, // the literal wins, and is retired
		{"h", "1.0", "", failcode.UnknownGame, []string{`game "h" is not in the model`}},
		{"g", "0.9", "", failcode.VersionUnmapped, []string{`no mapping for version "0.9"`}},
		{"g", "4.2", "", failcode.VersionAmbiguous, []string{`"4\\.[0-9]+"→v4`, `"4\\.[0-9]"→v1`}},
		{"g", "5.0", "", failcode.DefinitionNotFound, []string{"definition v5", "which no event of the game has"}},
	} {
		label, err := v.Resolve(tc.game, tc.version)
		var re *ResolveError
		switch {
		case tc.code == "" && (err != nil || label != tc.label):
			t.Errorf("%s %s: %q, %v; want %s", tc.game, tc.version, label, err, tc.label)
		case tc.code != "" && (!errors.As(err, &re) || re.Code != tc.code):
			t.Errorf("%s %s: %q, %v; want %s", tc.game, tc.version, label, err, tc.code)
		case tc.code != "":
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("%s %s: %q does not say %s", tc.game, tc.version, err, s)
				}
			}
		}
	}
}
