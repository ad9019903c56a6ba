package validate

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tinylib/msgp/msgp"
	"github.com/whirlpool-events/whirlpool/internal/failcode"
)

// Limits of the destination columns (Amazon Redshift).
const (
	// DefaultStringMaxLength is the max_length of a string field that sets
	// none: VARCHAR(256), as Redshift's VARCHAR without a length.
	DefaultStringMaxLength = 256
	// MaxVarcharBytes is Redshift's largest VARCHAR, in bytes; also the
	// default max_length of object and array fields (stored as JSON text).
	MaxVarcharBytes = 65535
	// MaxIdentifierBytes is the longest schema, table or column name.
	MaxIdentifierBytes = 127
)

var (
	identRe = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,126}$`)
	// names of games and events follow the record contract's key parts
	keyPartRe = regexp.MustCompile(`^[A-Za-z0-9._+-]{1,128}$`)
	labelRe   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
)

// CheckIdentifier reports why s is not accepted as a schema, table or
// column name, or nil: it must match ^[a-z_][a-z0-9_]{0,126}$ and must not
// be a reserved word of Redshift or PostgreSQL.
func CheckIdentifier(s string) error {
	if !identRe.MatchString(s) {
		return fmt.Errorf("%q is not an identifier: want 1-127 of a-z, 0-9, _ starting with a letter or _", s)
	}
	if reservedWords[s] {
		return fmt.Errorf("%q is a reserved word", s)
	}
	return nil
}

type ftype uint8

const (
	tString ftype = iota + 1
	tInteger
	tNumber
	tBoolean
	tTimestamp
	tObject
	tArray
)

var typeNames = map[string]ftype{
	"string": tString, "integer": tInteger, "number": tNumber, "boolean": tBoolean,
	"timestamp": tTimestamp, "object": tObject, "array": tArray,
}

func (t ftype) String() string {
	for n, v := range typeNames {
		if v == t {
			return n
		}
	}
	return "?"
}

// formats
type fmtKind uint8

const (
	fmtNone fmtKind = iota
	fmtUUID
	fmtDate
	fmtEmail
	fmtIPv4
	fmtIPv6
	fmtPattern
	fmtRFC3339
	fmtEpochSeconds
	fmtEpochMillis
)

// cfield is a compiled field.
type cfield struct {
	name      string
	key       []byte    // the column name, msgpack-encoded
	keyWords  [2]uint64 // its first 16 bytes as two little-endian words, zero-padded (ColumnsInOrder)
	keyMasks  [2]uint64 // the bits of keyWords the key fills
	path      []string
	pathText  string
	rel       bool // relative to the expanded element
	typ       ftype
	typName   string
	aTypName  string // "a " + typName, for messages
	mandatory bool
	maxLen    int
	// maxLenNum and maxLenText are maxLen as text and the max_length
	// error's expected ("at most N bytes", "... of JSON"), made once.
	maxLenNum, maxLenText string
	rangeText             string // rangeText(f), made once
	hasMin                bool
	hasMax                bool
	imin                  int64
	imax                  int64
	fmin                  float64
	fmax                  float64
	tmin                  time.Time
	fromMin               string // "from " and tmin, for messages
	tmax                  time.Time
	format                fmtKind
	fmtText               string
	re                    *regexp.Regexp
	// literals, when not nil, are all the strings pattern re matches (a
	// pattern such as casual|ranked): a string is checked by comparing.
	literals []string
	slot     int // index among the columns
}

// trie holds the object keys a definition's paths reach, for
// additional_fields: reject.
type trie struct {
	kids map[string]*trie
	open bool // a field ends here: anything below is allowed
}

func (t *trie) add(segs []string) {
	cur := t
	for _, s := range segs {
		if cur.kids == nil {
			cur.kids = map[string]*trie{}
		}
		n := cur.kids[s]
		if n == nil {
			n = &trie{}
			cur.kids[s] = n
		}
		cur = n
	}
	cur.open = true
}

// cdef is a compiled definition version.
type cdef struct {
	game, event, label string
	revision           int
	invalid            string // why it cannot be used (DEFINITION_INVALID)
	retired            bool   // resolves as absent (DEFINITION_NOT_FOUND), kept for Allowed
	labelMsgp          []byte
	destsMsgp          []byte // msgpack array of "schema.table"
	// a valid record's constant parts: the definition key and label and
	// the expand key; the destinations and the columns key and map header
	validMid, validTail []byte
	dests               []string
	columns             []*cfield          // every column (all fields but the expand field), in definition order
	byName              map[string]*cfield // columns by name, for Allowed
	parent              []*cfield          // columns read from the body
	elem                []*cfield          // columns read from the expanded element
	expand              *cfield
	// oneRow: no field expands and every column is read from the body, so
	// a valid event is one row whose columns are d.parent, in order
	oneRow   bool
	reject   bool
	rootKeys *trie
	elemKeys *trie
	// scan is the tree of body field paths the fast path reads (nil: every
	// event takes the tree path), elemScan that of the element fields'
	// paths in an expanded element; the counts are their nodes'.
	scan                     *scanNode
	elemScan                 *scanNode
	scanNodes, elemScanNodes int
	predSize                 int // places in worker.pred (scanNode.pred)
}

type cevent struct {
	name string
	defs map[string]*cdef
}

type cmapping struct {
	pattern  string
	label    string
	priority int
	literal  bool
	re       *regexp.Regexp
}

type resolution struct {
	label string
	code  failcode.Code // "" when resolved
	msg   string
}

const resolveCacheMax = 4096

type cgame struct {
	name     string
	mappings []cmapping
	events   map[string]*cevent

	mu    sync.RWMutex
	cache map[string]resolution
}

// snapshot is one compiled model. It is immutable once published, except
// for each game's resolution cache, which only memoises resolve.
type snapshot struct {
	games       map[string]*cgame
	columns     map[string]map[string]Field // destination table -> column -> field
	fingerprint [32]byte
	warnings    []Problem
	summary     string
}

// compile checks m and builds a snapshot. Every problem is collected into
// a *ModelError; the snapshot (with its warnings) is returned also then,
// for Model.Problems, but must not be used to validate.
func compile(m *Model, _ Options) (*snapshot, error) {
	var probs []Problem
	bad := func(at Problem, format string, args ...any) {
		at.Message = fmt.Sprintf(format, args...)
		probs = append(probs, at)
	}
	s := &snapshot{games: map[string]*cgame{}}
	ndefs := 0
	for gi, g := range m.Games {
		gat := Problem{Game: g.Name, Mapping: -1, where: fmt.Sprintf("game %q", g.Name)}
		if g.Name == "" {
			gat.where = fmt.Sprintf("game #%d", gi+1)
		}
		if !keyPartRe.MatchString(g.Name) {
			bad(gat, "name must be 1-128 of A-Z a-z 0-9 . _ + -")
		}
		if s.games[g.Name] != nil {
			bad(gat, "defined twice")
			continue
		}
		cg := &cgame{name: g.Name, events: map[string]*cevent{}, cache: map[string]resolution{}}
		s.games[g.Name] = cg
		mappingAt := func(mi int, mp Mapping) Problem {
			at := gat
			at.Mapping = mi
			at.where = fmt.Sprintf("%s mapping #%d (%q)", gat.where, mi+1, mp.Version)
			return at
		}
		for mi, mp := range g.Mappings {
			mat := mappingAt(mi, mp)
			if mp.Version == "" {
				bad(mat, "version pattern is empty")
				continue
			}
			re, err := regexp.Compile(`^(?:` + mp.Version + `)$`)
			if err != nil {
				bad(mat, "version pattern: %v", err)
				continue
			}
			if !labelRe.MatchString(mp.Definition) {
				bad(mat, "definition %q must be 1-64 of A-Z a-z 0-9 . _ -", mp.Definition)
				continue
			}
			_, complete := re.LiteralPrefix()
			cg.mappings = append(cg.mappings, cmapping{pattern: mp.Version, label: mp.Definition, priority: mp.Priority, literal: complete, re: re})
		}
		for ei, e := range g.Events {
			eat := gat
			eat.Event, eat.where = e.Name, fmt.Sprintf("%s event %q", gat.where, e.Name)
			if e.Name == "" {
				eat.where = fmt.Sprintf("%s event #%d", gat.where, ei+1)
			}
			if !keyPartRe.MatchString(e.Name) {
				bad(eat, "name must be 1-128 of A-Z a-z 0-9 . _ + -")
			}
			if cg.events[e.Name] != nil {
				bad(eat, "defined twice")
				continue
			}
			ce := &cevent{name: e.Name, defs: map[string]*cdef{}}
			cg.events[e.Name] = ce
			for _, d := range e.Definitions {
				dat := eat
				dat.Definition, dat.where = d.Version, fmt.Sprintf("%s definition %q", eat.where, d.Version)
				if !labelRe.MatchString(d.Version) {
					bad(dat, "version must be 1-64 of A-Z a-z 0-9 . _ -")
					continue
				}
				if ce.defs[d.Version] != nil {
					bad(dat, "defined twice")
					continue
				}
				cd := compileDef(g.Name, e.Name, d, dat, bad)
				ce.defs[d.Version] = cd
				ndefs++
				if cd.invalid != "" && !cd.retired {
					w := dat
					w.Message = "cannot validate events (DEFINITION_INVALID): " + cd.invalid
					s.warnings = append(s.warnings, w)
				}
			}
		}
		for mi, mp := range g.Mappings {
			if msg := missingLabel(g, mp.Definition); msg != "" {
				w := mappingAt(mi, mp)
				w.Definition, w.Message = mp.Definition, msg
				s.warnings = append(s.warnings, w)
			}
		}
	}
	if len(probs) > 0 {
		return s, newModelError(probs)
	}
	canon, _ := json.Marshal(struct {
		M *Model
		R [][]int
	}{m, revisions(m)})
	s.fingerprint = sha256.Sum256(canon)
	s.summary = fmt.Sprintf("%d games, %d definition versions", len(s.games), ndefs)
	s.columns = columnIndex(m)
	return s, nil
}

// missingLabel says which events of g have no usable definition label (none
// by that label, or only a retired one), so that their events from the
// versions a mapping to label covers fail DEFINITION_NOT_FOUND; "" when every
// event has it. An event whose every definition is retired is left out:
// its events are meant to fail.
func missingLabel(g Game, label string) string {
	var lack, retired []string
	for _, e := range g.Events {
		if e.retired() {
			continue
		}
		i := slices.IndexFunc(e.Definitions, func(d Definition) bool { return d.Version == label })
		switch {
		case i < 0:
			lack = append(lack, strconv.Quote(e.Name))
		case e.Definitions[i].Retired:
			retired = append(retired, strconv.Quote(e.Name))
		}
	}
	if len(lack) == 0 && len(retired) == 0 {
		return ""
	}
	events := func(names []string) string {
		if len(names) == 1 {
			return "event " + names[0] + " has"
		}
		return "events " + strings.Join(names, ", ") + " have"
	}
	var parts []string
	if len(lack) > 0 {
		parts = append(parts, events(lack)+" no definition "+strconv.Quote(label))
	}
	if len(retired) > 0 {
		parts = append(parts, events(retired)+" retired it")
	}
	return fmt.Sprintf("names definition %q, but %s: those events from the versions it maps fail DEFINITION_NOT_FOUND", label, strings.Join(parts, " and "))
}

// columnIndex maps every destination table to the fields loaded into it;
// a later definition version wins for a column it shares with an earlier
// one.
func columnIndex(m *Model) map[string]map[string]Field {
	idx := map[string]map[string]Field{}
	for _, g := range m.Games {
		for _, e := range g.Events {
			for _, d := range e.Definitions {
				for _, dest := range d.Destinations {
					cols := idx[dest]
					if cols == nil {
						cols = map[string]Field{}
						idx[dest] = cols
					}
					for _, f := range d.Fields {
						if !f.Expand {
							cols[f.Name] = f
						}
					}
				}
			}
		}
	}
	return idx
}

func revisions(m *Model) [][]int {
	var r [][]int
	for _, g := range m.Games {
		for _, e := range g.Events {
			var x []int
			for _, d := range e.Definitions {
				x = append(x, d.Revision)
			}
			r = append(r, x)
		}
	}
	return r
}

func compileDef(game, event string, d Definition, dw Problem, bad func(at Problem, format string, args ...any)) *cdef {
	cd := &cdef{game: game, event: event, label: d.Version, revision: d.Revision, retired: d.Retired}
	cd.labelMsgp = msgp.AppendString(nil, d.Version)
	var invalid []string
	switch d.AdditionalFields {
	case "", "ignore":
	case "reject":
		cd.reject = true
	default:
		bad(dw, "additional_fields must be ignore or reject, not %q", d.AdditionalFields)
	}
	if len(d.Destinations) == 0 {
		invalid = append(invalid, "no destinations")
	}
	seenDest := map[string]bool{}
	cd.destsMsgp = msgp.AppendArrayHeader(nil, uint32(len(d.Destinations)))
	for _, dest := range d.Destinations {
		schema, table, ok := strings.Cut(dest, ".")
		if !ok {
			bad(dw, "destination %q must be schema.table", dest)
			continue
		}
		if err := CheckIdentifier(schema); err != nil {
			bad(dw, "destination %q: schema %v", dest, err)
		}
		if err := CheckIdentifier(table); err != nil {
			bad(dw, "destination %q: table %v", dest, err)
		}
		if seenDest[dest] {
			bad(dw, "destination %q listed twice", dest)
		}
		seenDest[dest] = true
		cd.dests = append(cd.dests, dest)
		cd.destsMsgp = msgp.AppendString(cd.destsMsgp, dest)
	}
	seen := map[string]bool{}
	var all []*cfield
	for fi, f := range d.Fields {
		fw := dw
		fw.Field, fw.where = f.Name, fmt.Sprintf("%s field %q", dw.where, f.Name)
		if f.Name == "" {
			fw.where = fmt.Sprintf("%s field #%d", dw.where, fi+1)
		}
		if err := CheckIdentifier(f.Name); err != nil {
			bad(fw, "column name: %v", err)
		}
		if seen[f.Name] {
			bad(fw, "column defined twice")
		}
		seen[f.Name] = true
		cf, ok := compileField(f, fw, bad)
		if !ok {
			continue
		}
		if f.Expand {
			switch {
			case cd.expand != nil:
				invalid = append(invalid, fmt.Sprintf("fields %s and %s both expand", cd.expand.name, f.Name))
			case cf.typ != tArray:
				invalid = append(invalid, fmt.Sprintf("expand field %s must be of type array, not %s", f.Name, f.Type))
			case cf.rel:
				invalid = append(invalid, fmt.Sprintf("expand field %s: path %q must not be relative to the element", f.Name, f.Path))
			default:
				cd.expand = cf
			}
			continue
		}
		all = append(all, cf)
	}
	cd.rootKeys, cd.elemKeys = &trie{}, &trie{}
	if cd.expand != nil {
		cd.rootKeys.add(cd.expand.path)
	}
	for _, cf := range all {
		cf.slot = len(cd.columns)
		cd.columns = append(cd.columns, cf)
		if cf.rel {
			if cd.expand == nil {
				invalid = append(invalid, fmt.Sprintf("field %s: path %q is relative to an expanded element but no field expands", cf.name, cf.pathText))
			}
			cd.elem = append(cd.elem, cf)
			cd.elemKeys.add(cf.path)
		} else {
			cd.parent = append(cd.parent, cf)
			cd.rootKeys.add(cf.path)
		}
	}
	// A scalar field whose path is a prefix of another field's path cannot
	// both be satisfied.
	check := func(fs []*cfield) {
		for _, a := range fs {
			if a.typ == tObject || a.typ == tArray {
				continue
			}
			for _, b := range fs {
				if b != a && len(b.path) > len(a.path) && prefix(a.path, b.path) {
					invalid = append(invalid, fmt.Sprintf("field %s (%s) at %q cannot contain field %s at %q", a.name, a.typ, a.pathText, b.name, b.pathText))
				}
			}
		}
	}
	check(cd.parent)
	check(cd.elem)
	cd.validMid = append(msgp.AppendString(nil, keyDefinition), cd.labelMsgp...)
	cd.validMid = msgp.AppendString(cd.validMid, keyExpand)
	cd.validTail = append(msgp.AppendString(nil, keyDests), cd.destsMsgp...)
	cd.validTail = msgp.AppendMapHeader(msgp.AppendString(cd.validTail, keyColumns), uint32(len(cd.columns)))
	cd.byName = make(map[string]*cfield, len(cd.columns))
	for _, cf := range cd.columns {
		cd.byName[cf.name] = cf
	}
	cd.oneRow = cd.expand == nil && len(cd.elem) == 0
	cd.invalid = strings.Join(invalid, "; ")
	buildScan(cd)
	return cd
}

func prefix(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func compileField(f Field, fw Problem, bad func(at Problem, format string, args ...any)) (*cfield, bool) {
	cf := &cfield{name: f.Name, mandatory: f.Mandatory, pathText: f.Path}
	cf.key = msgp.AppendString(nil, f.Name)
	for w := range cf.keyWords {
		start := min(8*w, len(cf.key))
		cf.keyWords[w], cf.keyMasks[w] = keyHead(cf.key, start, len(cf.key)), headMask(len(cf.key)-start)
	}
	ok := true
	segs, rel, err := ParsePath(f.Path)
	if err != nil {
		bad(fw, "path: %v", err)
		ok = false
	}
	cf.path, cf.rel = segs, rel
	t, known := typeNames[f.Type]
	if !known {
		bad(fw, "type %q: want string, integer, number, boolean, timestamp, object or array", f.Type)
		return nil, false
	}
	cf.typ, cf.typName = t, f.Type
	// max_length
	switch t {
	case tString, tObject, tArray:
		def := MaxVarcharBytes
		if t == tString {
			def = DefaultStringMaxLength
		}
		cf.maxLen = def
		if f.MaxLength != 0 {
			if f.MaxLength < 1 || f.MaxLength > MaxVarcharBytes {
				bad(fw, "max_length %d: want 1 to %d (bytes)", f.MaxLength, MaxVarcharBytes)
				ok = false
			}
			cf.maxLen = f.MaxLength
		}
	default:
		if f.MaxLength != 0 {
			bad(fw, "max_length applies to string, object and array fields only")
			ok = false
		}
	}
	// min / max
	if f.Min != "" || f.Max != "" {
		switch t {
		case tInteger:
			cf.imin, cf.imax = math.MinInt64, math.MaxInt64
			if f.Min != "" {
				v, err := strconv.ParseInt(string(f.Min), 10, 64)
				if err != nil {
					bad(fw, "min %q: want an integer", f.Min)
					ok = false
				}
				cf.imin, cf.hasMin = v, true
			}
			if f.Max != "" {
				v, err := strconv.ParseInt(string(f.Max), 10, 64)
				if err != nil {
					bad(fw, "max %q: want an integer", f.Max)
					ok = false
				}
				cf.imax, cf.hasMax = v, true
			}
			if cf.imin > cf.imax {
				bad(fw, "min %s is above max %s", f.Min, f.Max)
				ok = false
			}
		case tNumber:
			cf.fmin, cf.fmax = math.Inf(-1), math.Inf(1)
			if f.Min != "" {
				v, err := strconv.ParseFloat(string(f.Min), 64)
				if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
					bad(fw, "min %q: want a number", f.Min)
					ok = false
				}
				cf.fmin, cf.hasMin = v, true
			}
			if f.Max != "" {
				v, err := strconv.ParseFloat(string(f.Max), 64)
				if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
					bad(fw, "max %q: want a number", f.Max)
					ok = false
				}
				cf.fmax, cf.hasMax = v, true
			}
			if cf.fmin > cf.fmax {
				bad(fw, "min %s is above max %s", f.Min, f.Max)
				ok = false
			}
		case tTimestamp:
			if f.Min != "" {
				v, err := time.Parse(time.RFC3339Nano, string(f.Min))
				if err != nil {
					bad(fw, "min %q: want an RFC 3339 time", f.Min)
					ok = false
				}
				cf.tmin, cf.hasMin = v.UTC(), true
				cf.fromMin = "from " + cf.tmin.Format(time.RFC3339Nano)
			}
			if f.Max != "" {
				v, err := time.Parse(time.RFC3339Nano, string(f.Max))
				if err != nil {
					bad(fw, "max %q: want an RFC 3339 time", f.Max)
					ok = false
				}
				cf.tmax, cf.hasMax = v.UTC(), true
			}
			if cf.hasMin && cf.hasMax && cf.tmin.After(cf.tmax) {
				bad(fw, "min %s is after max %s", f.Min, f.Max)
				ok = false
			}
		default:
			bad(fw, "min and max apply to integer, number and timestamp fields only")
			ok = false
		}
	}
	// format
	cf.fmtText = f.Format
	switch t {
	case tString:
		switch {
		case f.Format == "":
		case f.Format == "uuid":
			cf.format = fmtUUID
		case f.Format == "date":
			cf.format = fmtDate
		case f.Format == "email":
			cf.format = fmtEmail
		case f.Format == "ipv4":
			cf.format = fmtIPv4
		case f.Format == "ipv6":
			cf.format = fmtIPv6
		case strings.HasPrefix(f.Format, "pattern:"):
			re, err := regexp.Compile(`^(?:` + strings.TrimPrefix(f.Format, "pattern:") + `)$`)
			if err != nil {
				bad(fw, "format %q: %v", f.Format, err)
				ok = false
			}
			cf.format, cf.re = fmtPattern, re
			cf.literals = literalAlternatives(strings.TrimPrefix(f.Format, "pattern:"))
		default:
			bad(fw, "format %q: want uuid, date, email, ipv4, ipv6 or pattern:REGEX", f.Format)
			ok = false
		}
	case tTimestamp:
		switch f.Format {
		case "", "rfc3339":
			cf.format = fmtRFC3339
		case "epoch_seconds":
			cf.format = fmtEpochSeconds
		case "epoch_millis":
			cf.format = fmtEpochMillis
		default:
			bad(fw, "format %q: want rfc3339, epoch_seconds or epoch_millis", f.Format)
			ok = false
		}
	default:
		if f.Format != "" {
			bad(fw, "format applies to string and timestamp fields only")
			ok = false
		}
	}
	cf.aTypName = "a " + cf.typName
	cf.maxLenNum = strconv.Itoa(cf.maxLen)
	cf.maxLenText = "at most " + cf.maxLenNum + " bytes"
	if t == tObject || t == tArray {
		cf.maxLenText += " of JSON"
	}
	cf.rangeText = rangeText(cf)
	return cf, ok
}

// ParsePath parses a field path (docs/data-model.md, "Paths"): keys separated by
// '.', '\.' for a dot and '\\' for a backslash inside a key, '\@' for a key
// that starts with '@'; a key of digits also indexes an array. "@" is the
// expanded element itself and "@.a.b" a path inside it (rel is true).
func ParsePath(p string) (segs []string, rel bool, err error) {
	if p == "" {
		return nil, false, fmt.Errorf("empty path")
	}
	if p == "@" {
		return nil, true, nil
	}
	if strings.HasPrefix(p, "@") {
		if !strings.HasPrefix(p, "@.") {
			return nil, false, fmt.Errorf("%q: a path inside the expanded element starts with \"@.\"; write \\@ for a key that starts with @", p)
		}
		rel = true
		p = p[2:]
	}
	var cur strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch c {
		case '\\':
			if i+1 == len(p) || (p[i+1] != '.' && p[i+1] != '\\' && p[i+1] != '@') {
				return nil, false, fmt.Errorf("%q: '\\' must be followed by '.', '@' or '\\'", p)
			}
			i++
			cur.WriteByte(p[i])
		case '.':
			if cur.Len() == 0 {
				return nil, false, fmt.Errorf("%q: empty key", p)
			}
			segs = append(segs, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if cur.Len() == 0 {
		return nil, false, fmt.Errorf("%q: empty key", p)
	}
	segs = append(segs, cur.String())
	return segs, rel, nil
}

// resolve maps a game version to a definition label: the mappings whose
// pattern matches the whole version; of those the highest priority; of
// those the literal patterns (no regex operators) if any; all of them must
// name the same definition, else the version is ambiguous.
func (g *cgame) resolve(version []byte) resolution {
	g.mu.RLock()
	r, ok := g.cache[string(version)]
	g.mu.RUnlock()
	if ok {
		return r
	}
	r = g.resolveSlow(version)
	g.mu.Lock()
	if len(g.cache) < resolveCacheMax {
		g.cache[string(version)] = r
	}
	g.mu.Unlock()
	return r
}

func (g *cgame) resolveSlow(version []byte) resolution {
	var best []*cmapping
	for i := range g.mappings {
		m := &g.mappings[i]
		if !m.re.Match(version) {
			continue
		}
		switch {
		case len(best) == 0 || m.priority > best[0].priority:
			best = append(best[:0], m)
		case m.priority == best[0].priority:
			best = append(best, m)
		}
	}
	if len(best) == 0 {
		return resolution{code: failcode.VersionUnmapped, msg: fmt.Sprintf("game %s has no mapping for version %q", g.name, version)}
	}
	var lit []*cmapping
	for _, m := range best {
		if m.literal {
			lit = append(lit, m)
		}
	}
	if len(lit) > 0 {
		best = lit
	}
	label := best[0].label
	for _, m := range best[1:] {
		if m.label != label {
			var parts []string
			for _, b := range best {
				parts = append(parts, fmt.Sprintf("%q→%s", b.pattern, b.label))
			}
			return resolution{code: failcode.VersionAmbiguous, msg: fmt.Sprintf("version %q of game %s matches mappings of equal precedence (priority %d) naming different definitions: %s",
				version, g.name, best[0].priority, strings.Join(parts, ", "))}
		}
	}
	return resolution{label: label}
}

// literalAlternatives returns the strings pattern matches whole when it is
// one literal or an alternation of literals (e.g. casual|ranked), or nil;
// it reads the pattern with the regexp package's own parser.
func literalAlternatives(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	lit := func(r *syntax.Regexp) (string, bool) {
		if r.Op != syntax.OpLiteral || r.Flags&syntax.FoldCase != 0 {
			return "", false
		}
		return string(r.Rune), true
	}
	if s, ok := lit(re); ok {
		return []string{s}
	}
	if re.Op != syntax.OpAlternate {
		return nil
	}
	out := make([]string, 0, len(re.Sub))
	for _, sub := range re.Sub {
		for sub.Op == syntax.OpCapture {
			sub = sub.Sub[0]
		}
		s, ok := lit(sub)
		if !ok {
			return nil
		}
		out = append(out, s)
	}
	return out
}
