package validate

import (
	"reflect"
	"strings"
	"testing"
)

// Every rule of DiffDefinitions: what it reports and whether it breaks.
func TestDiffDefinitions(t *testing.T) {
	base := func() *Definition {
		return &Definition{
			Version:      "v1",
			Destinations: []string{"events.a"},
			Fields: []Field{
				{Name: "player", Path: "player.id", Type: "string", Mandatory: true, MaxLength: 64},
				{Name: "level", Path: "level", Type: "integer", Min: "1", Max: "100"},
				{Name: "score", Path: "score", Type: "number"},
				{Name: "code", Path: "code", Type: "string"},
				{Name: "at", Path: "at", Type: "timestamp", Min: "2020-01-01T00:00:00Z"},
				{Name: "items", Path: "items", Type: "array"},
			},
		}
	}
	field := func(d *Definition, name string) *Field {
		for i := range d.Fields {
			if d.Fields[i].Name == name {
				return &d.Fields[i]
			}
		}
		panic(name)
	}
	for _, tc := range []struct {
		name     string
		edit     func(d *Definition)
		changed  []FieldChange // Added, Removed, Changed and Other together
		breaking string        // substring of the only breaking line, "" for none
	}{
		{"no change", func(d *Definition) {}, nil, ""},
		{"optional field added", func(d *Definition) {
			d.Fields = append(d.Fields, Field{Name: "won", Path: "won", Type: "boolean"})
		}, []FieldChange{{"won", "added", "", "boolean at won"}}, ""},
		{"mandatory field added", func(d *Definition) {
			d.Fields = append(d.Fields, Field{Name: "won", Path: "won", Type: "boolean", Mandatory: true})
		}, []FieldChange{{"won", "added", "", "boolean mandatory at won"}}, "field won added as mandatory"},
		{"field removed", func(d *Definition) { d.Fields = d.Fields[1:] },
			[]FieldChange{{"player", "removed", "string mandatory at player.id, max_length 64", ""}}, "field player removed"},
		{"integer widened to number", func(d *Definition) { field(d, "level").Type = "number" },
			[]FieldChange{{"level", "type", "integer", "number"}}, ""},
		{"number narrowed to integer", func(d *Definition) { field(d, "score").Type = "integer" },
			[]FieldChange{{"score", "type", "number", "integer"}}, "field score: type number → integer"},
		{"string to integer", func(d *Definition) { field(d, "code").Type = "integer" },
			[]FieldChange{{"code", "type", "string", "integer"}}, "type string → integer"},
		{"made mandatory", func(d *Definition) { field(d, "score").Mandatory = true },
			[]FieldChange{{"score", "mandatory", "false", "true"}}, "field score: mandatory false → true"},
		{"made optional", func(d *Definition) { field(d, "player").Mandatory = false },
			[]FieldChange{{"player", "mandatory", "true", "false"}}, ""},
		{"path changed", func(d *Definition) { field(d, "player").Path = "pid" },
			[]FieldChange{{"player", "path", "player.id", "pid"}}, "field player: path player.id → pid"},
		{"expand changed", func(d *Definition) { field(d, "items").Expand = true },
			[]FieldChange{{"items", "expand", "false", "true"}}, "field items: expand"},
		{"max_length lowered", func(d *Definition) { field(d, "player").MaxLength = 32 },
			[]FieldChange{{"player", "max_length", "64", "32"}}, "max_length 64 → 32"},
		{"max_length raised", func(d *Definition) { field(d, "player").MaxLength = 128 },
			[]FieldChange{{"player", "max_length", "64", "128"}}, ""},
		{"max_length set below the default", func(d *Definition) { field(d, "code").MaxLength = 16 },
			[]FieldChange{{"code", "max_length", "256 (default)", "16"}}, "max_length 256 (default) → 16"},
		{"max_length set to the default", func(d *Definition) { field(d, "code").MaxLength = 256 },
			nil, ""},
		{"min raised", func(d *Definition) { field(d, "level").Min = "2" },
			[]FieldChange{{"level", "min", "1", "2"}}, "field level: min 1 → 2"},
		{"min lowered", func(d *Definition) { field(d, "level").Min = "0" },
			[]FieldChange{{"level", "min", "1", "0"}}, ""},
		{"min added", func(d *Definition) { field(d, "score").Min = "0" },
			[]FieldChange{{"score", "min", "", "0"}}, "min (none) → 0"},
		{"min removed", func(d *Definition) { field(d, "level").Min = "" },
			[]FieldChange{{"level", "min", "1", ""}}, ""},
		{"max lowered", func(d *Definition) { field(d, "level").Max = "50" },
			[]FieldChange{{"level", "max", "100", "50"}}, "max 100 → 50"},
		{"max raised", func(d *Definition) { field(d, "level").Max = "500" },
			[]FieldChange{{"level", "max", "100", "500"}}, ""},
		{"timestamp min raised", func(d *Definition) { field(d, "at").Min = "2021-01-01T00:00:00Z" },
			[]FieldChange{{"at", "min", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"}}, "field at: min"},
		{"timestamp min lowered", func(d *Definition) { field(d, "at").Min = "2019-01-01T00:00:00Z" },
			[]FieldChange{{"at", "min", "2020-01-01T00:00:00Z", "2019-01-01T00:00:00Z"}}, ""},
		{"format added", func(d *Definition) { field(d, "code").Format = "uuid" },
			[]FieldChange{{"code", "format", "", "uuid"}}, "field code: format (none) → uuid"},
		{"format removed", func(d *Definition) { field(d, "code").Format = ""; field(d, "player").Format = "" },
			nil, ""},
		{"timestamp format made explicit", func(d *Definition) { field(d, "at").Format = "rfc3339" }, nil, ""},
		{"timestamp format changed", func(d *Definition) { field(d, "at").Format = "epoch_millis" },
			[]FieldChange{{"at", "format", "rfc3339", "epoch_millis"}}, "format rfc3339 → epoch_millis"},
		{"destination added", func(d *Definition) { d.Destinations = append(d.Destinations, "events.b") },
			[]FieldChange{{"", "destination", "", "events.b"}}, ""},
		{"destination removed", func(d *Definition) { d.Destinations = nil },
			[]FieldChange{{"", "destination", "events.a", ""}}, "destination events.a removed"},
		{"destination changed", func(d *Definition) { d.Destinations = []string{"events.b"} },
			[]FieldChange{{"", "destination", "events.a", ""}, {"", "destination", "", "events.b"}}, "destination events.a removed"},
		{"additional fields rejected", func(d *Definition) { d.AdditionalFields = "reject" },
			[]FieldChange{{"", "additional_fields", "ignore", "reject"}}, "additional_fields ignore → reject"},
		{"additional fields explicitly ignored", func(d *Definition) { d.AdditionalFields = "ignore" }, nil, ""},
		{"retired", func(d *Definition) { d.Retired = true },
			[]FieldChange{{"", "retired", "false", "true"}}, "definition retired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old, new := base(), base()
			tc.edit(new)
			d := DiffDefinitions(old, new)
			var all []FieldChange
			for _, part := range [][]FieldChange{d.Added, d.Removed, d.Changed, d.Other} {
				all = append(all, part...)
			}
			if !reflect.DeepEqual(all, tc.changed) {
				t.Errorf("changes %+v, want %+v", all, tc.changed)
			}
			switch {
			case tc.breaking == "" && len(d.Breaking) > 0:
				t.Errorf("breaking %q, want none", d.Breaking)
			case tc.breaking != "" && (len(d.Breaking) != 1 || !strings.Contains(d.Breaking[0], tc.breaking)):
				t.Errorf("breaking %q, want one with %q", d.Breaking, tc.breaking)
			}
		})
	}
	// a retired definition brought back breaks nothing
	retired := base()
	retired.Retired = true
	if d := DiffDefinitions(retired, base()); len(d.Breaking) != 0 || len(d.Other) != 1 {
		t.Errorf("restored: %+v", d)
	}
	// a new definition: every field added, nothing breaks
	d := DiffDefinitions(nil, base())
	if len(d.Added) != 6 || len(d.Removed)+len(d.Changed)+len(d.Other)+len(d.Breaking) != 0 || d.Added[1].After != "integer at level, min 1, max 100" {
		t.Errorf("new definition: %+v", d)
	}
}

func TestDiffMappings(t *testing.T) {
	old := []Mapping{{Version: `1\..*`, Definition: "v1"}, {Version: `2\..*`, Definition: "v2"}, {Version: `2\.5`, Definition: "v2", Priority: 1}}
	new := []Mapping{{Version: `2\.5`, Definition: "v3"}, {Version: `1\..*`, Definition: "v1"}, {Version: `3\..*`, Definition: "v3"}}
	got := DiffMappings(old, new)
	want := []string{
		`removed: "2\\..*" → v2 (priority 0)`,
		`changed: "2\\.5" → v3, was → v2`,
		`changed: "2\\.5" priority 0, was 1`,
		`added: "3\\..*" → v3 (priority 0)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := DiffMappings(old, []Mapping{old[2], old[0], old[1]}); len(got) != 0 {
		t.Fatalf("reordered: %q", got)
	}
}
