package validate

// This file drafts a definition from sample event bodies, as a start for
// a person to edit: it guesses names, paths, types and which fields are
// mandatory, never destinations.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/valyala/fastjson"

	"github.com/whirlpool-events/whirlpool/internal/timefmt"
)

// Limits of DraftDefinition's input.
const (
	DraftMaxSamples     = 1000
	DraftMaxSampleBytes = 1 << 20
	DraftMaxTotalBytes  = 16 << 20
	// DraftMaxFields is the most fields a draft has (a Redshift table has
	// at most 1600 columns).
	DraftMaxFields = 1000
	// draftMaxDepth is how deep nested objects are flattened; deeper
	// objects become object fields.
	draftMaxDepth = 16
)

// draftPath is what the samples say about one path.
type draftPath struct {
	path    string   // path syntax
	segs    []string // keys, for the name
	kinds   map[string]bool
	present int // samples where it is present and not null
	maxLen  int // longest string, bytes
}

// DraftDefinition drafts definition version label from sample event bodies
// (JSON objects, at most DraftMaxSamples of at most DraftMaxSampleBytes
// each, DraftMaxTotalBytes in all). Each key holding a scalar becomes a field: its path (nested
// objects are flattened: {"player":{"id":..}} gives path player.id and
// name player_id), its type (integer, number when any sample has a
// fraction or exponent, boolean, timestamp for RFC 3339 strings when every
// sample's is one, else string, with a max_length above the default when
// a sample is longer), mandatory when present and not null in every
// sample. Arrays become array fields (their JSON text in one column):
// expanding one into rows is a choice of the person editing the draft. An
// empty object, or one nested deeper than 16 levels, becomes an object
// field. A path whose samples disagree (a number in one, a string in
// another) is left out, as is one null in every sample, and a key that a
// path cannot name (the empty key); where a key holds an object in one
// sample and a scalar in another, the object's keys are kept (optional). Names are snake_case,
// unique, and pass CheckIdentifier. The draft has no destinations: with
// one added it passes Model.Check.
func DraftDefinition(label string, samples [][]byte) (Definition, error) {
	if !labelRe.MatchString(label) {
		return Definition{}, fmt.Errorf("draft: definition label %q must be 1-64 of A-Z a-z 0-9 . _ -", label)
	}
	if len(samples) == 0 {
		return Definition{}, errors.New("draft: no samples")
	}
	if len(samples) > DraftMaxSamples {
		return Definition{}, fmt.Errorf("draft: %d samples, more than %d", len(samples), DraftMaxSamples)
	}
	total := 0
	for _, s := range samples {
		total += len(s)
	}
	if total > DraftMaxTotalBytes {
		return Definition{}, fmt.Errorf("draft: the samples are %d bytes, more than %d", total, DraftMaxTotalBytes)
	}
	var order []*draftPath
	byPath := map[string]*draftPath{}
	var p fastjson.Parser
	tooMany := false
	for i, s := range samples {
		if len(s) > DraftMaxSampleBytes {
			return Definition{}, fmt.Errorf("draft: sample %d is %d bytes, more than %d", i+1, len(s), DraftMaxSampleBytes)
		}
		v, err := p.ParseBytes(s)
		if err != nil {
			return Definition{}, fmt.Errorf("draft: sample %d: %w", i+1, err)
		}
		if v.Type() != fastjson.TypeObject || !validNumbers(v) {
			return Definition{}, fmt.Errorf("draft: sample %d is not a JSON object", i+1)
		}
		seen := map[string]bool{}
		var walk func(o *fastjson.Object, path []byte, segs []string, depth int)
		walk = func(o *fastjson.Object, path []byte, segs []string, depth int) {
			o.Visit(func(k []byte, x *fastjson.Value) {
				if len(k) == 0 {
					return
				}
				kp := append([]byte(nil), path...)
				if len(kp) > 0 {
					kp = append(kp, '.')
				}
				kp = appendPathKey(kp, k)
				ks := append(append([]string(nil), segs...), string(k))
				if x.Type() == fastjson.TypeObject && depth < draftMaxDepth {
					if o2, _ := x.Object(); o2.Len() > 0 {
						walk(o2, kp, ks, depth+1)
						return
					}
				}
				dp := byPath[string(kp)]
				if dp == nil {
					if len(byPath) > DraftMaxFields {
						tooMany = true
						return
					}
					dp = &draftPath{path: string(kp), segs: ks, kinds: map[string]bool{}}
					byPath[dp.path] = dp
					order = append(order, dp)
				}
				if seen[dp.path] {
					return
				}
				seen[dp.path] = true
				kind := draftKind(x)
				if kind == "null" {
					return
				}
				dp.kinds[kind] = true
				dp.present++
				if kind == "string" || kind == "timestamp" {
					dp.maxLen = max(dp.maxLen, len(x.GetStringBytes()))
				}
			})
		}
		o, _ := v.Object()
		walk(o, nil, nil, 0)
		if tooMany {
			return Definition{}, fmt.Errorf("draft: the samples have more than %d fields", DraftMaxFields)
		}
	}
	d := Definition{Version: label}
	names := map[string]bool{}
	for _, dp := range order {
		typ, ok := draftType(dp.kinds)
		if !ok {
			continue
		}
		// a path that is an object in some sample is a prefix of others
		if _, nested := byPathPrefix(byPath, dp.path); nested {
			continue
		}
		f := Field{Name: uniqueName(draftName(dp.segs), names), Path: dp.path, Type: typ, Mandatory: dp.present == len(samples)}
		if typ == "string" && dp.maxLen > DefaultStringMaxLength {
			f.MaxLength = min(nextPow2(dp.maxLen), MaxVarcharBytes)
		}
		d.Fields = append(d.Fields, f)
	}
	return d, nil
}

// validNumbers reports whether every number in v is a JSON number
// (fastjson accepts more, e.g. NaN).
func validNumbers(v *fastjson.Value) bool {
	switch v.Type() {
	case fastjson.TypeNumber:
		return validNumber(v.MarshalTo(nil))
	case fastjson.TypeObject:
		ok := true
		o, _ := v.Object()
		o.Visit(func(_ []byte, x *fastjson.Value) { ok = ok && validNumbers(x) })
		return ok
	case fastjson.TypeArray:
		a, _ := v.Array()
		for _, x := range a {
			if !validNumbers(x) {
				return false
			}
		}
	}
	return true
}

// byPathPrefix reports whether some other path continues path (path is
// an object in some sample and a leaf in another).
func byPathPrefix(byPath map[string]*draftPath, path string) (string, bool) {
	for p := range byPath {
		if strings.HasPrefix(p, path+".") {
			return p, true
		}
	}
	return "", false
}

// draftKind is the model type a value suggests ("null" for null).
func draftKind(x *fastjson.Value) string {
	switch x.Type() {
	case fastjson.TypeNull:
		return "null"
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return "boolean"
	case fastjson.TypeNumber:
		if _, err := strconv.ParseInt(string(x.MarshalTo(nil)), 10, 64); err == nil {
			return "integer"
		}
		return "number"
	case fastjson.TypeString:
		if _, ok := timefmt.ParseRFC3339(x.GetStringBytes()); ok {
			return "timestamp"
		}
		return "string"
	case fastjson.TypeArray:
		return "array"
	}
	return "object"
}

// draftType is the one type that accepts every kind seen, if any.
func draftType(kinds map[string]bool) (string, bool) {
	switch {
	case len(kinds) == 0:
		return "", false // null in every sample: no type to guess
	case len(kinds) == 1:
		for k := range kinds {
			return k, true
		}
	case len(kinds) == 2 && kinds["integer"] && kinds["number"]:
		return "number", true
	case len(kinds) == 2 && kinds["string"] && kinds["timestamp"]:
		return "string", true
	}
	return "", false
}

// draftName makes a column name of a path's keys: snake_case words joined
// by '_' ("playerInfo", "ID" → "player_info_id").
func draftName(segs []string) string {
	var b strings.Builder
	for _, s := range segs {
		prevLower := false
		for _, r := range s {
			switch {
			case unicode.IsUpper(r) && r < unicode.MaxASCII:
				if prevLower {
					b.WriteByte('_')
				}
				b.WriteRune(unicode.ToLower(r))
				prevLower = false
			case (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9'):
				b.WriteRune(r)
				prevLower = true
			default:
				b.WriteByte('_')
				prevLower = false
			}
		}
		b.WriteByte('_')
	}
	name := b.String()
	for strings.Contains(name, "__") {
		name = strings.ReplaceAll(name, "__", "_")
	}
	name = strings.Trim(name, "_")
	if name == "" {
		name = "field"
	}
	if name[0] >= '0' && name[0] <= '9' {
		name = "f_" + name
	}
	if len(name) > MaxIdentifierBytes-8 {
		name = strings.TrimRight(name[:MaxIdentifierBytes-8], "_")
	}
	if reservedWords[name] {
		name += "_"
	}
	return name
}

// uniqueName returns name, or name_2, name_3, ... if taken, and takes it.
func uniqueName(name string, taken map[string]bool) string {
	n := name
	for i := 2; taken[n] || CheckIdentifier(n) != nil; i++ {
		n = name + "_" + strconv.Itoa(i)
	}
	taken[n] = true
	return n
}

func nextPow2(n int) int {
	p := 1
	for p < n {
		p *= 2
	}
	return p
}
