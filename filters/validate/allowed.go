package validate

import (
	"bytes"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/swar"
	"github.com/whirlpool-events/whirlpool/internal/timefmt"
)

// Allowed is what the model lets a valid record of one definition version
// carry: its destinations and its columns with their types. A loader
// receives valid records from outside (a queue, any Fluent Bit input) and
// must not trust their destinations and columns: it checks each against
// the definition the record names before any SQL.
type Allowed struct{ d *cdef }

// Allowed returns the definition version label of event of game in the
// current model, or false when the model has none (a forged record, or one
// validated against a model this one no longer matches).
func (v *Validator) Allowed(game, event, label []byte) (Allowed, bool) {
	return allowedIn(v.snap.Load(), game, event, label)
}

func allowedIn(snap *snapshot, game, event, label []byte) (Allowed, bool) {
	g := snap.games[string(game)]
	if g == nil {
		return Allowed{}, false
	}
	e := g.events[string(event)]
	if e == nil {
		return Allowed{}, false
	}
	d := e.defs[string(label)]
	if d == nil || d.invalid != "" {
		return Allowed{}, false
	}
	return Allowed{d}, true
}

// Destination reports whether table ("schema.table", exactly as the model
// writes it) is a destination of the definition.
func (a Allowed) Destination(table []byte) bool {
	for _, d := range a.d.dests {
		if d == string(table) {
			return true
		}
	}
	return false
}

// Column returns why value v cannot be column name of the definition, or
// "" when it can: the name must be a column of the definition (exactly as
// the model writes it) and the value one the validator writes for its
// field: nil, or of the field's type within max_length and min/max.
func (a Allowed) Column(name []byte, v record.Value) string {
	return a.column(a.d.byName[string(name)], name, v)
}

// NumColumns is how many columns the valid records of the definition
// carry; ColumnName(i), for i below it, is the name of the i-th, in the
// order the validator writes them. A record whose columns are exactly these
// names in this order (InOrder for each) is in the definition's own form:
// a loader may place its values by position.
func (a Allowed) NumColumns() int { return len(a.d.columns) }

// ColumnName is the name of the definition's i-th column (see NumColumns).
func (a Allowed) ColumnName(i int) string { return a.d.columns[i].name }

// InOrder reports whether name is the definition's i-th column.
func (a Allowed) InOrder(i int, name []byte) bool {
	return i < len(a.d.columns) && a.d.columns[i].name == string(name)
}

// ValueAt is Column for the definition's i-th column (InOrder(i, name)
// holds): why v cannot be its value, or "".
func (a Allowed) ValueAt(i int, v record.Value) string {
	return a.column(a.d.columns[i], nil, v) // the name is only for a column that is not one
}

// ColumnsInOrder checks the columns of a valid record in the form the
// validator writes them: exactly the definition's columns, in order, each
// key encoded as the validator encodes it and each value one ValueAt
// allows. It then puts the values in vals (NumColumns long) and reports
// true; on anything else it reports false, and the caller checks the
// columns one by one (InOrder, ValueAt, ColumnAt) to learn why. It reads
// the keys as bytes, without walking the map entry by entry.
func (a Allowed) ColumnsInOrder(cols record.Map, vals []record.Value) bool {
	b := []byte(cols)
	n := len(a.d.columns)
	switch {
	case n < 16 && len(b) > 0 && b[0] == 0x80|byte(n): // fixmap
		b = b[1:]
	case n >= 16 && n <= math.MaxUint16 && len(b) >= 3 && b[0] == 0xde && int(b[1])<<8|int(b[2]) == n: // map 16
		b = b[3:]
	default:
		return false
	}
	for i, f := range a.d.columns {
		if !hasKey(b, f) {
			return false
		}
		v, rest, ok := record.SplitScalar(b[len(f.key):])
		if !ok || a.column(f, nil, v) != "" {
			return false
		}
		vals[i], b = v, rest
	}
	return len(b) == 0
}

// hasKey reports whether b starts with f's key: compared as two words
// where b holds 16 bytes and the key is at most 16 (a value follows every
// key, and most column names are short), else as bytes.
func hasKey(b []byte, f *cfield) bool {
	if len(b) >= 16 && len(f.key) <= 16 {
		return (swar.Load(b, 0)^f.keyWords[0])&f.keyMasks[0]|(swar.Load(b, 8)^f.keyWords[1])&f.keyMasks[1] == 0
	}
	return len(b) >= len(f.key) && string(b[:len(f.key)]) == string(f.key)
}

// ColumnCache remembers, for Allowed.ColumnAt, the fields of the column
// names met at each position of a record's columns, for records whose
// columns are not in the definition's order (InOrder), and, for
// Validator.AllowedCached, the definition last looked up. The names it
// keeps alias the records checked: keep a ColumnCache no longer than them
// (e.g. one per chunk). Not safe for concurrent use.
type ColumnCache struct {
	d      *cdef
	names  [][]byte
	fields []*cfield

	snap               *snapshot
	game, event, label []byte
	last               Allowed
	lastOK             bool
}

// AllowedCached is Allowed, remembering in c the definition it found, so
// that the records of one definition in a row (most of a chunk) cost one
// look-up rather than three each. A new model is seen at once.
func (v *Validator) AllowedCached(c *ColumnCache, game, event, label []byte) (Allowed, bool) {
	snap := v.snap.Load()
	if c.snap == snap && bytes.Equal(c.game, game) && bytes.Equal(c.event, event) && bytes.Equal(c.label, label) {
		return c.last, c.lastOK
	}
	a, ok := allowedIn(snap, game, event, label)
	c.snap, c.game, c.event, c.label, c.last, c.lastOK = snap, game, event, label, a, ok
	return a, ok
}

// ColumnAt is Column for the i-th column of a record, with c remembering
// the fields of the columns at each position.
func (a Allowed) ColumnAt(c *ColumnCache, i int, name []byte, v record.Value) string {
	if a.InOrder(i, name) {
		return a.column(a.d.columns[i], name, v)
	}
	if c.d != a.d {
		c.d, c.names, c.fields = a.d, c.names[:0], c.fields[:0]
	}
	if i < len(c.names) && bytes.Equal(c.names[i], name) {
		return a.column(c.fields[i], name, v)
	}
	f := a.d.byName[string(name)]
	switch {
	case f == nil:
	case i < len(c.names):
		c.names[i], c.fields[i] = name, f
	case i == len(c.names):
		c.names, c.fields = append(c.names, name), append(c.fields, f)
	}
	return a.column(f, name, v)
}

// column is Column for the field f of column name (nil: none).
func (a Allowed) column(f *cfield, name []byte, v record.Value) string {
	if f == nil {
		return fmt.Sprintf("%q is not a column of definition %s of %s/%s", name, a.d.label, a.d.game, a.d.event)
	}
	if v.Kind() == record.KindNil {
		return ""
	}
	// Formatted only when a column is wrong: this runs for every column of
	// every valid record.
	wrong := func() string {
		return fmt.Sprintf("column %s holds a msgpack %s, not what the validator writes for a field of type %s", f.name, v.Kind(), f.typName)
	}
	switch f.typ {
	case tString, tTimestamp, tObject, tArray:
		s, ok := v.Str()
		if !ok || v.Kind() != record.KindStr {
			return wrong()
		}
		switch {
		case !swar.ASCII(s) && !utf8.Valid(s):
			return fmt.Sprintf("column %s is not valid UTF-8", f.name)
		case f.typ == tTimestamp:
			if _, ok := timefmt.ParseRFC3339(s); !ok {
				return fmt.Sprintf("column %s is not an RFC 3339 time", f.name)
			}
		case len(s) > f.maxLen:
			return fmt.Sprintf("column %s is %d bytes, more than max_length %d", f.name, len(s), f.maxLen)
		case f.typ == tObject && (len(s) == 0 || s[0] != '{' || fastjson.ValidateBytes(s) != nil),
			f.typ == tArray && (len(s) == 0 || s[0] != '[' || fastjson.ValidateBytes(s) != nil):
			return fmt.Sprintf("column %s is not the JSON text of an %s", f.name, f.typName)
		}
	case tInteger:
		i, ok := v.Int()
		if !ok {
			return wrong()
		}
		if (f.hasMin && i < f.imin) || (f.hasMax && i > f.imax) {
			return fmt.Sprintf("column %s is %d, outside %s", f.name, i, rangeText(f))
		}
	case tNumber:
		x, ok := v.Float()
		if !ok || v.Kind() != record.KindFloat || math.IsInf(x, 0) || math.IsNaN(x) {
			return wrong()
		}
		if (f.hasMin && x < f.fmin) || (f.hasMax && x > f.fmax) {
			return fmt.Sprintf("column %s is %g, outside %s", f.name, x, rangeText(f))
		}
	case tBoolean:
		if _, ok := v.Bool(); !ok {
			return wrong()
		}
	}
	return ""
}
