package validate

// This file compares two versions of a definition or of a game's mappings
// for a reviewer: what changed, and which changes break what clients send
// today or what readers of the destination tables rely on.

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FieldChange is one difference between two definitions. For a field,
// Field is its name and What is "added", "removed" or the attribute that
// changed ("path", "type", "mandatory", "expand", "max_length", "min",
// "max", "format"); for the definition itself Field is "" and What is
// "destination", "additional_fields" or "retired". Before and After are
// the values as written ("" for none).
type FieldChange struct {
	Field, What, Before, After string
}

// DefinitionDiff is what DiffDefinitions found. Breaking lists, one line
// each, the changes that make events accepted before fail or take away
// what a destination table had: a field removed, added as mandatory or
// made mandatory, its path or expansion changed, its type changed other
// than integer to number, max_length lowered, min raised or max lowered
// (or either added), a format added or changed, a destination removed,
// additional_fields from ignore to reject, and retiring the definition.
type DefinitionDiff struct {
	Added, Removed, Changed []FieldChange
	// Other holds the changes of destinations, additional_fields and
	// retired.
	Other    []FieldChange
	Breaking []string
}

// DiffDefinitions compares definition versions old and new (old nil: new
// is a new definition, nothing breaks; new nil: everything is removed).
// Fields are matched by name.
func DiffDefinitions(old, new *Definition) DefinitionDiff {
	var d DefinitionDiff
	if new == nil {
		new = &Definition{}
	}
	if old == nil {
		for _, f := range new.Fields {
			d.Added = append(d.Added, FieldChange{Field: f.Name, What: "added", After: describeField(f)})
		}
		return d
	}
	for _, of := range old.Fields {
		i := slices.IndexFunc(new.Fields, func(f Field) bool { return f.Name == of.Name })
		if i < 0 {
			d.Removed = append(d.Removed, FieldChange{Field: of.Name, What: "removed", Before: describeField(of)})
			d.Breaking = append(d.Breaking, fmt.Sprintf("field %s removed: its column is no longer loaded", of.Name))
			continue
		}
		d.diffField(of, new.Fields[i])
	}
	for _, nf := range new.Fields {
		if slices.ContainsFunc(old.Fields, func(f Field) bool { return f.Name == nf.Name }) {
			continue
		}
		d.Added = append(d.Added, FieldChange{Field: nf.Name, What: "added", After: describeField(nf)})
		if nf.Mandatory {
			d.Breaking = append(d.Breaking, fmt.Sprintf("field %s added as mandatory: events without it fail", nf.Name))
		}
	}
	for _, dest := range old.Destinations {
		if !slices.Contains(new.Destinations, dest) {
			d.Other = append(d.Other, FieldChange{What: "destination", Before: dest})
			d.Breaking = append(d.Breaking, fmt.Sprintf("destination %s removed: its table gets no more rows", dest))
		}
	}
	for _, dest := range new.Destinations {
		if !slices.Contains(old.Destinations, dest) {
			d.Other = append(d.Other, FieldChange{What: "destination", After: dest})
		}
	}
	oa, na := old.normalized().AdditionalFields, new.normalized().AdditionalFields
	if oa != na {
		d.Other = append(d.Other, FieldChange{What: "additional_fields", Before: oa, After: na})
		if na == "reject" {
			d.Breaking = append(d.Breaking, "additional_fields ignore → reject: events with keys outside the fields fail UNEXPECTED_FIELD")
		}
	}
	if old.Retired != new.Retired {
		d.Other = append(d.Other, FieldChange{What: "retired", Before: strconv.FormatBool(old.Retired), After: strconv.FormatBool(new.Retired)})
		if new.Retired {
			d.Breaking = append(d.Breaking, "definition retired: events resolving to it fail DEFINITION_NOT_FOUND")
		}
	}
	return d
}

// diffField adds the changes of one field kept by name.
func (d *DefinitionDiff) diffField(o, n Field) {
	change := func(what, before, after, breaking string) {
		if before == after {
			return
		}
		d.Changed = append(d.Changed, FieldChange{Field: o.Name, What: what, Before: before, After: after})
		if breaking != "" {
			d.Breaking = append(d.Breaking, fmt.Sprintf("field %s: %s %s → %s %s", o.Name, what, orNone(before), orNone(after), breaking))
		}
	}
	change("path", o.Path, n.Path, "reads another value into the column")
	typeBreaks := ""
	if !(o.Type == "integer" && n.Type == "number") {
		typeBreaks = "rejects values accepted before and changes the column type"
	}
	change("type", o.Type, n.Type, typeBreaks)
	change("mandatory", strconv.FormatBool(o.Mandatory), strconv.FormatBool(n.Mandatory), when(n.Mandatory, "fails events without it"))
	change("expand", strconv.FormatBool(o.Expand), strconv.FormatBool(n.Expand), "changes how many rows an event makes")
	// lengths compare when both types have one (else the type changed)
	if ol, nl := effectiveMaxLength(o), effectiveMaxLength(n); ol != nl && ol != 0 && nl != 0 {
		change("max_length", lengthText(o.MaxLength, ol), lengthText(n.MaxLength, nl), when(nl < ol, "rejects longer values accepted before"))
	}
	change("min", string(o.Min), string(n.Min), when(boundTighter(o.Min, n.Min, n.Type, +1), "rejects lower values accepted before"))
	change("max", string(o.Max), string(n.Max), when(boundTighter(o.Max, n.Max, n.Type, -1), "rejects higher values accepted before"))
	of, nf := effectiveFormat(o), effectiveFormat(n)
	change("format", of, nf, when(nf != "", "rejects values accepted before"))
}

func when(cond bool, s string) string {
	if cond {
		return s
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// effectiveMaxLength is the longest value a field accepts, in bytes (0
// for types without a length).
func effectiveMaxLength(f Field) int {
	switch {
	case f.MaxLength != 0:
		return f.MaxLength
	case f.Type == "string":
		return DefaultStringMaxLength
	case f.Type == "object" || f.Type == "array":
		return MaxVarcharBytes
	}
	return 0
}

func lengthText(set, effective int) string {
	if set == 0 {
		return strconv.Itoa(effective) + " (default)"
	}
	return strconv.Itoa(set)
}

// effectiveFormat is a field's format with the timestamp default made
// explicit.
func effectiveFormat(f Field) string {
	if f.Type == "timestamp" && f.Format == "" {
		return "rfc3339"
	}
	return f.Format
}

// boundTighter reports whether bound after accepts less than before: for
// a min (dir +1) one added or raised, for a max (dir -1) one added or
// lowered. Bounds it cannot compare count as tighter.
func boundTighter(before, after Bound, typ string, dir int) bool {
	if after == "" {
		return false
	}
	if before == "" {
		return true
	}
	a, okA := boundValue(before, typ)
	b, okB := boundValue(after, typ)
	if !okA || !okB {
		return true
	}
	return (b-a)*float64(dir) > 0
}

func boundValue(b Bound, typ string) (float64, bool) {
	if typ == "timestamp" {
		t, err := time.Parse(time.RFC3339Nano, string(b))
		return float64(t.UnixNano()), err == nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	return v, err == nil && !math.IsNaN(v)
}

// describeField is a field in one line, e.g. "level integer mandatory at level, min 1".
func describeField(f Field) string {
	parts := []string{f.Type}
	if f.Mandatory {
		parts = append(parts, "mandatory")
	}
	if f.Expand {
		parts = append(parts, "expand")
	}
	s := strings.Join(parts, " ") + " at " + f.Path
	var opts []string
	if f.MaxLength != 0 {
		opts = append(opts, "max_length "+strconv.Itoa(f.MaxLength))
	}
	if f.Min != "" {
		opts = append(opts, "min "+string(f.Min))
	}
	if f.Max != "" {
		opts = append(opts, "max "+string(f.Max))
	}
	if f.Format != "" {
		opts = append(opts, "format "+f.Format)
	}
	if len(opts) > 0 {
		s += ", " + strings.Join(opts, ", ")
	}
	return s
}

// DiffMappings lists, one human line each, how a game's mappings new
// differ from old: a mapping (by its version pattern) added, removed, or
// naming another definition or priority. The order of mappings does not
// matter to resolution, so a change of order alone gives no line.
func DiffMappings(old, new []Mapping) []string {
	var out []string
	find := func(ms []Mapping, pattern string) (Mapping, bool) {
		i := slices.IndexFunc(ms, func(m Mapping) bool { return m.Version == pattern })
		if i < 0 {
			return Mapping{}, false
		}
		return ms[i], true
	}
	for _, o := range old {
		n, ok := find(new, o.Version)
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("removed: %q → %s (priority %d)", o.Version, o.Definition, o.Priority))
		case n.Definition != o.Definition:
			out = append(out, fmt.Sprintf("changed: %q → %s, was → %s", o.Version, n.Definition, o.Definition))
		}
		if ok && n.Priority != o.Priority {
			out = append(out, fmt.Sprintf("changed: %q priority %d, was %d", o.Version, n.Priority, o.Priority))
		}
	}
	for _, n := range new {
		if _, ok := find(old, n.Version); !ok {
			out = append(out, fmt.Sprintf("added: %q → %s (priority %d)", n.Version, n.Definition, n.Priority))
		}
	}
	return out
}
