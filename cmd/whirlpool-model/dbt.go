package main

// This file holds dbt-sources: a dbt sources.yml for the tables the
// redshift output loads, generated from the data model, so that the
// analysts' column list and descriptions follow the model instead of a
// hand-kept copy.

import (
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/whirlpool-events/whirlpool/filters/validate"
)

// Freshness thresholds of the generated sources, on loaded_at: the output
// commits within seconds (batch_max_wait), so an hour without a row is
// worth a look and six hours is an outage.
const (
	freshWarnHours  = 1
	freshErrorHours = 6
)

// metaColumns are the columns the redshift output adds to every event
// table, as outputs/redshift documents them.
var metaColumns = []dbtColumn{
	{"uuid", "The event's UUID (UUIDv7 from the eventing input, 36 characters). Shared by every row of one event: its expanded rows and its rows in each destination table. Rows are distributed by it on Redshift (DISTKEY), so joins on uuid stay on one slice.", []string{"not_null"}},
	{"fired_ts", "UTC. When the event reached the edge (the eventing input's receipt time), not the client's clock. Sort key on Redshift.", []string{"not_null"}},
	{"game", "The game, as in the event's URL.", nil},
	{"version", "The game client's version, as in the event's URL.", nil},
	{"event", "The event name, as in the event's URL.", nil},
	{"definition_version", "The label of the data model definition the event was validated against (e.g. v2).", nil},
	{"expand_index", "For a definition with an expand field, the element's index (0, 1, ...): one row per element, all with the event's uuid. -1 when the event does not expand. (uuid, expand_index) is unique.", []string{"not_null"}},
	{"loaded_at", "UTC. When the row was loaded (the database's clock at the load; the loader's for tables made before that default). Freshness is measured on it.", nil},
}

// failureColumns are the columns of the failures table.
var failureColumns = []dbtColumn{
	{"uuid", "The event's uuid; for a record without a usable one (missing, longer than 36 characters, not ASCII), a UUID derived from it and the raw text.", []string{"not_null"}},
	{"expand_index", "-1, or the element index of a valid row that failed to load.", []string{"not_null"}},
	{"fired_ts", "UTC. When the event reached the edge; for a failure without a readable one, the time Fluent Bit gave its record.", []string{"not_null"}},
	{"game", "The game, when known.", nil},
	{"version", "The game client's version, when known.", nil},
	{"event", "The event name, when known.", nil},
	{"definition_version", "The definition label, when the event resolved to one.", nil},
	{"raw_event", "The client's event as received (SUPER on Redshift: JSON, or a string when it is not JSON), at most max_event_size bytes; on Redshift at most what a SUPER value holds (see raw_event_truncated).", nil},
	{"errors", "JSON list of every error: {code, path, rule, expected, actual, message}.", nil},
	{"error_codes", "The distinct error codes, comma-joined (e.g. FIELD_TYPE_MISMATCH,MANDATORY_FIELD_MISSING): filter on it.", nil},
	{"failed_at", "UTC. When the redshift output received the failure.", []string{"not_null"}},
	{"loaded_at", "UTC. When the row was loaded. Freshness is measured on it.", nil},
	{"raw_event_bytes", "When raw_event holds less than the whole text: the whole text's length in bytes; else NULL.", nil},
	{"raw_event_sha256", "When raw_event holds less than the whole text: its SHA-256 (lower-case hex), to match the original; else NULL.", nil},
	{"raw_event_truncated", "True when raw_event holds only the first bytes of the raw text (or none).", nil},
	{"raw_event_s3_uri", "On Redshift with load_method copy: an s3:// object holding the raw text that raw_event could not hold whole; else NULL.", nil},
	{"replayed_at", "UTC. When whirlpool-model replay loaded this failure's event as rows after a model fix (same uuid); NULL while not replayed. Filter on replayed_at IS NULL for open failures.", nil},
}

type dbtColumn struct {
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Tests       []string `yaml:"tests,omitempty"`
}

type dbtTable struct {
	Name        string      `yaml:"name"`
	Description string      `yaml:"description"`
	Columns     []dbtColumn `yaml:"columns"`
}

type dbtPeriod struct {
	Count  int    `yaml:"count"`
	Period string `yaml:"period"`
}

type dbtFreshness struct {
	WarnAfter  dbtPeriod `yaml:"warn_after"`
	ErrorAfter dbtPeriod `yaml:"error_after"`
}

type dbtSource struct {
	Name          string       `yaml:"name"`
	Schema        string       `yaml:"schema"`
	Description   string       `yaml:"description"`
	LoadedAtField string       `yaml:"loaded_at_field"`
	Freshness     dbtFreshness `yaml:"freshness"`
	Tables        []dbtTable   `yaml:"tables"`
}

type dbtSources struct {
	Version int         `yaml:"version"`
	Sources []dbtSource `yaml:"sources"`
}

// tableUse is what the model loads into one destination table.
type tableUse struct {
	events  []string          // "game/event v1, v2"
	fields  []string          // column order, first seen
	about   map[string]string // column -> description
	ofEvent map[string][]string
}

// dbtSourcesYAML builds sources.yml: one source per schema, a table per
// destination of the model's definitions (their data columns after the
// metadata columns, as the output makes them) and the failures table.
func dbtSourcesYAML(m *validate.Model, failures string) ([]byte, error) {
	fschema, ftable, ok := strings.Cut(failures, ".")
	if !ok || fschema == "" || ftable == "" || strings.Contains(ftable, ".") {
		return nil, fmt.Errorf("--failures-table %q: want schema.table", failures)
	}
	uses := map[string]*tableUse{}
	var names []string
	for _, g := range m.Games {
		for _, e := range g.Events {
			for _, d := range e.Definitions {
				for _, dest := range d.Destinations {
					u := uses[dest]
					if u == nil {
						u = &tableUse{about: map[string]string{}, ofEvent: map[string][]string{}}
						uses[dest] = u
						names = append(names, dest)
					}
					key := g.Name + "/" + e.Name
					if len(u.ofEvent[key]) == 0 {
						u.events = append(u.events, key)
					}
					u.ofEvent[key] = append(u.ofEvent[key], d.Version)
					for _, f := range d.Fields {
						if f.Expand {
							continue // one row per element: the element's fields are the columns
						}
						if _, seen := u.about[f.Name]; !seen {
							u.fields = append(u.fields, f.Name)
							u.about[f.Name] = fieldAbout(f)
						}
					}
				}
			}
		}
	}
	sort.Strings(names)
	fresh := dbtFreshness{WarnAfter: dbtPeriod{freshWarnHours, "hour"}, ErrorAfter: dbtPeriod{freshErrorHours, "hour"}}
	bySchema := map[string]*dbtSource{}
	source := func(schema string) *dbtSource {
		if s := bySchema[schema]; s != nil {
			return s
		}
		s := &dbtSource{Name: schema, Schema: schema, LoadedAtField: "loaded_at", Freshness: fresh,
			Description: "Tables the whirlpool redshift output loads (generated by whirlpool-model dbt-sources from the data model)."}
		bySchema[schema] = s
		return s
	}
	for _, n := range names {
		schema, table, _ := strings.Cut(n, ".")
		u := uses[n]
		var evs []string
		for _, k := range u.events {
			evs = append(evs, k+" "+strings.Join(u.ofEvent[k], ", "))
		}
		t := dbtTable{Name: table, Description: "One row per valid event (per element for an expanding definition) of " + strings.Join(evs, "; ") + "."}
		t.Columns = append(t.Columns, metaColumns...)
		for _, f := range u.fields {
			t.Columns = append(t.Columns, dbtColumn{Name: f, Description: u.about[f]})
		}
		s := source(schema)
		s.Tables = append(s.Tables, t)
	}
	fs := source(fschema)
	fs.Tables = append(fs.Tables, dbtTable{Name: ftable, Columns: failureColumns,
		Description: "One row per event that failed validation (then in no other table) or that a destination refused (then loaded into its other destinations), with every error."})
	out := dbtSources{Version: 2}
	for _, s := range bySchema {
		out.Sources = append(out.Sources, *s)
	}
	sort.Slice(out.Sources, func(i, j int) bool { return out.Sources[i].Name < out.Sources[j].Name })
	var buf bytes.Buffer
	buf.WriteString("# Generated by whirlpool-model dbt-sources from the data model: regenerate, do not edit.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("writing sources.yml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("writing sources.yml: %w", err)
	}
	return buf.Bytes(), nil
}

// fieldAbout describes a data column from its model field.
func fieldAbout(f validate.Field) string {
	var b strings.Builder
	b.WriteString(f.Type)
	if f.Type == "timestamp" {
		b.WriteString(" (UTC)")
	}
	if f.MaxLength > 0 {
		fmt.Fprintf(&b, ", at most %d bytes", f.MaxLength)
	}
	if f.Format != "" && f.Type != "timestamp" {
		b.WriteString(", format " + f.Format)
	}
	if f.Min != "" {
		b.WriteString(", min " + string(f.Min))
	}
	if f.Max != "" {
		b.WriteString(", max " + string(f.Max))
	}
	if f.Mandatory {
		b.WriteString(", mandatory")
	}
	b.WriteString("; from the event's " + f.Path)
	return b.String()
}

// dbtSourcesCmd prints sources.yml for a model file or the store.
func dbtSourcesCmd(m *validate.Model, failures string, stdout, stderr io.Writer) int {
	out, err := dbtSourcesYAML(m, failures)
	if err != nil {
		fmt.Fprintf(stderr, "dbt-sources: %v\n", err)
		return 1
	}
	stdout.Write(out)
	return 0
}
