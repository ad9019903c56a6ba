package validate

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Model is a data model as written in a model file (YAML or JSON) or read
// from the store: the games, their version mappings, their events and each
// event's definition versions. The file format is described in the package
// doc; testdata/model.yaml is a complete example.
type Model struct {
	Games []Game `yaml:"games" json:"games"`
}

// Game is one game: how its client versions map to definition versions,
// and its events.
type Game struct {
	Name     string    `yaml:"name" json:"name"`
	Mappings []Mapping `yaml:"mappings" json:"mappings"`
	Events   []Event   `yaml:"events" json:"events"`
}

// Mapping maps the game versions that match Version (a Go regular
// expression, anchored at both ends) to the definition version Definition.
// See docs/data-model.md, "Version resolution", for the precedence rules.
type Mapping struct {
	Version    string `yaml:"version" json:"version"`
	Definition string `yaml:"definition" json:"definition"`
	Priority   int    `yaml:"priority,omitempty" json:"priority,omitempty"`
}

// Event is one event of a game with its definition versions.
type Event struct {
	Name        string       `yaml:"name" json:"name"`
	Definitions []Definition `yaml:"definitions" json:"definitions"`
}

// Definition is one definition version of an event, named by its label
// (e.g. "v1"), as mappings refer to it.
type Definition struct {
	Version string `yaml:"version" json:"version"`
	// AdditionalFields is "ignore" (the default) or "reject": with reject,
	// a body key that no field path reaches is an UNEXPECTED_FIELD.
	AdditionalFields string `yaml:"additional_fields,omitempty" json:"additional_fields,omitempty"`
	// Destinations are "schema.table" names.
	Destinations []string `yaml:"destinations" json:"destinations"`
	Fields       []Field  `yaml:"fields" json:"fields"`
	// Retired takes the definition version out of use without deleting
	// it: events resolving to it fail DEFINITION_NOT_FOUND (saying it is
	// retired), as if it were absent. Retiring an event is retiring each
	// of its definitions. Setting it back to false restores it.
	Retired bool `yaml:"retired,omitempty" json:"retired,omitempty"`
	// Revision is the store's history revision of this definition version
	// (1, 2, ...); 0 for a model read from a file.
	Revision int `yaml:"-" json:"-"`
}

// Field is one column of a definition.
type Field struct {
	Name      string `yaml:"name" json:"name"`
	Path      string `yaml:"path" json:"path"`
	Type      string `yaml:"type" json:"type"`
	Mandatory bool   `yaml:"mandatory,omitempty" json:"mandatory,omitempty"`
	Expand    bool   `yaml:"expand,omitempty" json:"expand,omitempty"`
	MaxLength int    `yaml:"max_length,omitempty" json:"max_length,omitempty"`
	Min       Bound  `yaml:"min,omitempty" json:"min,omitempty"`
	Max       Bound  `yaml:"max,omitempty" json:"max,omitempty"`
	Format    string `yaml:"format,omitempty" json:"format,omitempty"`
}

// Bound is a min or max as written: a number for integer and number
// fields, an RFC 3339 time for timestamp fields. "" means none.
type Bound string

// UnmarshalYAML accepts any scalar.
func (b *Bound) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: min/max must be a number or a time", n.Line)
	}
	*b = Bound(n.Value)
	return nil
}

// UnmarshalJSON accepts a number or a string.
func (b *Bound) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*b = Bound(s)
		return nil
	}
	if string(data) == "null" {
		*b = ""
		return nil
	}
	if _, err := strconv.ParseFloat(string(data), 64); err != nil {
		return fmt.Errorf("min/max must be a number or a time, not %s", data)
	}
	*b = Bound(data)
	return nil
}

// MarshalJSON writes a number as a number and anything else as a string.
func (b Bound) MarshalJSON() ([]byte, error) {
	if _, err := strconv.ParseFloat(string(b), 64); err == nil && !strings.ContainsAny(string(b), "xXnN_") {
		return []byte(b), nil
	}
	return json.Marshal(string(b))
}

// MarshalYAML writes the bound as a plain scalar.
func (b Bound) MarshalYAML() (any, error) {
	if i, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		return i, nil
	}
	if f, err := strconv.ParseFloat(string(b), 64); err == nil {
		return f, nil
	}
	return string(b), nil
}

//go:embed default_model.yaml
var defaultModel []byte

// DefaultModel returns the model embedded in the package, used when neither
// model_file nor model_dsn is set (the `demo` game of the sample pipeline).
func DefaultModel() *Model {
	m, err := ParseModel(defaultModel)
	if err != nil {
		panic("validate: embedded default model: " + err.Error())
	}
	return m
}

// ParseModel reads a model from YAML or JSON (a document whose first
// non-blank character is '{' is read as JSON). Unknown keys are errors, so
// a misspelt option is never silently ignored. ParseModel checks only the
// syntax; Check checks the content.
func ParseModel(data []byte) (*Model, error) {
	var m Model
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("model: empty document")
	}
	if trimmed[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("model: JSON: %w", err)
		}
		if dec.More() {
			return nil, fmt.Errorf("model: JSON: data after the model object")
		}
		return &m, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("model: YAML: %w", err)
	}
	return &m, nil
}

// FormatModel writes m as a model file (YAML) laid out as conf/model.yaml
// is: one line per field, destinations on one line. ParseModel reads it
// back to the same model; revisions are not part of it.
func FormatModel(m *Model) ([]byte, error) {
	var doc yaml.Node
	if err := doc.Encode(m); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	var flow func(n *yaml.Node)
	flow = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				switch k, v := n.Content[i].Value, n.Content[i+1]; {
				case k == "destinations":
					v.Style = yaml.FlowStyle
				case k == "fields" && v.Kind == yaml.SequenceNode:
					for _, f := range v.Content {
						f.Style = yaml.FlowStyle
					}
				default:
					flow(v)
				}
			}
			return
		}
		for _, c := range n.Content {
			flow(c)
		}
	}
	flow(&doc)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return b.Bytes(), nil
}

// LoadFile reads and parses a model file.
func LoadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	m, err := ParseModel(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// retired reports whether every definition of the event is retired (an
// event with none is not).
func (e Event) retired() bool {
	for _, d := range e.Definitions {
		if !d.Retired {
			return false
		}
	}
	return len(e.Definitions) > 0
}

// Check checks the whole model as the validator does before using it. err
// lists every problem (a *ModelError); a model with errors is never used.
// warnings name what loads but makes events fail: a definition that
// cannot validate events (DEFINITION_INVALID), e.g. one without
// destinations, or a mapping to a label some event lacks
// (DEFINITION_NOT_FOUND).
func (m *Model) Check() (warnings []string, err error) {
	s, err := compile(m, Options{})
	if err != nil {
		return nil, err
	}
	return problemStrings(s.warnings), nil
}

// Problems checks the model as Check does and returns its problems one by
// one, each naming the game, mapping, event, definition and field it
// concerns, so that a user interface can show each beside what it is
// about: errs reject the model, warnings do not.
func (m *Model) Problems() (errs, warnings []Problem) {
	s, err := compile(m, Options{})
	if me, ok := err.(*ModelError); ok {
		errs = me.Issues
	}
	return errs, s.warnings
}

// Problem is one problem of a model. Game, Event, Definition and Field
// name what it concerns ("" where it concerns none, e.g. Field of a
// definition's problem); Mapping is the index of the game's mapping it
// concerns, -1 if none.
type Problem struct {
	Game, Event, Definition, Field string
	Mapping                        int
	Message                        string
	// where is the location as Check has always written it (with #N for
	// an unnamed game, event or field); "" for a Problem made elsewhere.
	where string
}

// String gives the problem as Check and ModelError write it, e.g.
// `game "galaxy" event "level_up" definition "v1" field "x": column name ...`.
func (p Problem) String() string {
	where := p.where
	if where == "" {
		where = fmt.Sprintf("game %q", p.Game)
		if p.Mapping >= 0 {
			where += fmt.Sprintf(" mapping #%d", p.Mapping+1)
		}
		if p.Event != "" {
			where += fmt.Sprintf(" event %q", p.Event)
		}
		if p.Definition != "" && p.Mapping < 0 {
			where += fmt.Sprintf(" definition %q", p.Definition)
		}
		if p.Field != "" {
			where += fmt.Sprintf(" field %q", p.Field)
		}
	}
	return where + ": " + p.Message
}

func problemStrings(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// ModelError lists every problem found in a model. Each names the game,
// event, definition version and field it is about: Problems as text,
// Issues (in the same order) as structured Problems.
type ModelError struct {
	Problems []string
	Issues   []Problem
}

func newModelError(ps []Problem) *ModelError {
	return &ModelError{Problems: problemStrings(ps), Issues: ps}
}

func (e *ModelError) Error() string {
	if len(e.Problems) == 1 {
		return "model rejected: " + e.Problems[0]
	}
	return fmt.Sprintf("model rejected, %d problems: %s", len(e.Problems), strings.Join(e.Problems, "; "))
}

// normalized returns the definition with defaults made explicit, for
// comparing definitions (the store's idempotent apply).
func (d Definition) normalized() Definition {
	n := d
	n.Revision = 0
	if n.AdditionalFields == "" {
		n.AdditionalFields = "ignore"
	}
	if n.Destinations == nil {
		n.Destinations = []string{}
	}
	if n.Fields == nil {
		n.Fields = []Field{}
	}
	return n
}

// sameContent reports whether two definitions say the same thing.
func sameContent(a, b Definition) bool {
	ja, _ := json.Marshal(a.normalized())
	jb, _ := json.Marshal(b.normalized())
	return bytes.Equal(ja, jb)
}
