package redshift

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/fieldname"
	"github.com/whirlpool-events/whirlpool/internal/freelist"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// modelRefreshAge is how often a valid record the model does not allow may
// make the output re-read its model (it may lag the validator upstream).
const modelRefreshAge = time.Second

type recKind uint8

const (
	kindValid recKind = iota
	kindFailure
)

// rec is one validated record of a batch, parsed once when flushed. Its
// slices alias the flush's private copy of the chunk.
type rec struct {
	kind recKind
	body record.Map

	uuid, firedTS, game, version, event, defVersion record.Value
	expandIndex                                     record.Value // valid: int
	columns                                         record.Map   // valid
	dests                                           []*dest      // valid, validated destinations
	// def, when set, is the definition whose columns, all and in its
	// order, the record's columns are (validate.Allowed.InOrder): the
	// validator's own form, whose values a table load places by position.
	// defVals are those values, in that order, kept by the model check
	// so that a row need not walk the columns again.
	def     validate.Allowed
	defVals []record.Value

	// failure: the client's raw event text and the JSON text of the errors;
	// whole, when the failure's body was cut upstream, describes the text
	// it was cut from.
	raw        []byte
	whole      *validate.TextDigest
	errorsJSON []byte
	codes      []byte

	// errs are failures found while loading (bad destination, missing table
	// or column, rejected row); they make the record a failure row too. The
	// first parseErrs come from routing and survive a re-plan.
	errs      []loadErr
	parseErrs int

	at time.Time // when the output received it (failed_at)
	// chunkTime is the time of the chunk record it came from: the same on
	// every re-flush, unlike at.
	chunkTime time.Time
	fvals     []record.Value // its failures-table values, when it is one
	spill     []byte         // its raw text when raw_event (SUPER) cannot hold it whole
}

// routeScratch is what routing one chunk reuses from record to record:
// recs, and the column values of valid records, allocated in blocks (one
// allocation per block rather than per record), and the fields of the
// columns met (validate.ColumnCache).
type routeScratch struct {
	recs slab[rec]
	vals slab[record.Value]
	cols validate.ColumnCache
}

// spareBlocks keeps the blocks of flushes done for later flushes. A
// batch's recs were a fresh 450 bytes a row per flush, with their pages
// faulted in again after the collector returned them.
type spareBlocks struct {
	recs *freelist.List[[]rec]
	vals *freelist.List[[]record.Value]
}

// Blocks: recs by 256 (about 15 MB kept: 32,768 rows); column values by
// 4,096 (96 KB a block, 6 MB kept).
const (
	recBlock       = 256
	spareRecBlocks = 128
	valBlock       = 4096
	spareValBlocks = 64
)

func newSpareBlocks() spareBlocks {
	return spareBlocks{recs: freelist.New[[]rec](spareRecBlocks), vals: freelist.New[[]record.Value](spareValBlocks)}
}

// scratch is a routeScratch taking its blocks from s and giving them back
// on release.
func (s spareBlocks) scratch() routeScratch {
	return routeScratch{recs: slab[rec]{spare: s.recs, size: recBlock}, vals: slab[record.Value]{spare: s.vals, size: valBlock}}
}

// next returns a zero rec.
func (s *routeScratch) next() *rec { return &s.recs.take(1)[0] }

// release zeroes the blocks (their recs and values alias a chunk Fluent
// Bit is about to free) and gives them back for later flushes. Nothing
// taken from them may be used after.
func (s *routeScratch) release() {
	s.recs.release()
	s.vals.release()
}

// slab hands out slices of blocks of size Ts. Blocks come from spare, when
// set, and go back to it on release.
type slab[T any] struct {
	spare  *freelist.List[[]T]
	size   int
	cur    []T   // the block being handed out
	blocks [][]T // the blocks taken from or for spare
}

// take returns n zero Ts, with no capacity beyond them.
func (s *slab[T]) take(n int) []T {
	if len(s.cur)+n > cap(s.cur) {
		var b []T
		if n <= s.size && s.spare != nil {
			b, _ = s.spare.Get()
		}
		if b == nil {
			b = make([]T, 0, max(n, s.size, 1))
		}
		if s.spare != nil && cap(b) == s.size {
			s.blocks = append(s.blocks, b)
		}
		s.cur = b
	}
	i := len(s.cur)
	s.cur = s.cur[:i+n]
	return s.cur[i : i+n : i+n]
}

// release zeroes the blocks and gives them back to spare.
func (s *slab[T]) release() {
	if s.spare == nil {
		return
	}
	for _, b := range s.blocks {
		b = b[:cap(b)]
		clear(b)
		s.spare.Put(b[:0])
	}
	s.blocks, s.cur = nil, nil
}

// loadErr is one error object of a failure row.
type loadErr struct {
	code                                  failcode.Code
	path, rule, expected, actual, message string

	lacking bool // the table lacks a column the record brings
}

// dest is one destination table named by records, interned per output.
type dest struct {
	name tableName
	key  string // "schema.table" as folded
	// alone is the destination list of a record loaded into this table
	// only, shared by all such records (capacity 1).
	alone []*dest
}

// parse appends the recs of one record body (or, with a Validator, of the
// records it produces) to dst, taking them from slab. vbuf holds the
// validator's output; it must live as long as the recs. body comes from a
// record.Decoder (it and its maps are read with RangeDecoded).
func (o *Output) parse(dst []*rec, slab *routeScratch, body record.Map, t time.Time, vbuf *[]byte, validated bool) []*rec {
	r := slab.next()
	r.body = body
	var (
		errs, dests, cols  record.Value
		hasErrs, hasDests  bool
		hasCols, hasBody   bool
		bodyV              record.Value
		bodyBytes, bodySum record.Value
		badKey             bool
	)
	err := body.RangeDecoded(func(k []byte, v record.Value) bool {
		switch string(k) {
		case fieldname.UUID:
			r.uuid = v
		case fieldname.FiredTS:
			r.firedTS = v
		case fieldname.Game:
			r.game = v
		case fieldname.Version:
			r.version = v
		case fieldname.Event:
			r.event = v
		case fieldname.DefinitionVersion:
			r.defVersion = v
		case fieldname.ExpandIndex:
			r.expandIndex = v
		case fieldname.Destinations:
			dests, hasDests = v, true
		case fieldname.Columns:
			cols, hasCols = v, true
		case fieldname.Errors:
			errs, hasErrs = v, true
		case fieldname.Body:
			bodyV, hasBody = v, true
		case fieldname.BodyBytes:
			bodyBytes = v
		case fieldname.BodySHA256:
			bodySum = v
		}
		return true
	})
	if err != nil {
		badKey = true
	}
	switch {
	case !badKey && hasErrs:
		r.kind = kindFailure
		if s, ok := bodyV.Str(); ok && hasBody {
			r.raw = s
			r.whole = cutUpstream(bodyBytes, bodySum, s)
		} else {
			r.raw, _ = body.AppendJSON(nil)
		}
		ej, codes, ok := errorsJSON(errs)
		if !ok {
			return append(dst, o.unvalidated(r, body, "the errors field of a failure record is not a list of error objects"))
		}
		r.errorsJSON, r.codes = ej, codes
		return append(dst, r)
	case !badKey && hasDests && hasCols:
		m, ok := cols.Map()
		if !ok {
			return append(dst, o.unvalidated(r, body, "the columns field of a valid record is not a map"))
		}
		if _, ok := r.expandIndex.Int(); !ok {
			return append(dst, o.unvalidated(r, body, "the expand_index field of a valid record is not an integer"))
		}
		if _, ok := r.uuid.Str(); !ok {
			return append(dst, o.unvalidated(r, body, "the uuid field of a valid record is not a string"))
		}
		r.kind = kindValid
		r.columns = m
		var nameBuf [4][]byte // most records name one or two destinations
		names := nameBuf[:0]
		bad := false
		err := dests.Array(func(_ int, e record.Value) bool {
			s, ok := e.Str()
			if !ok {
				bad = true
				return false
			}
			names = append(names, s)
			return true
		})
		if err != nil || bad {
			return append(dst, o.unvalidated(r, body, "the destinations field of a valid record is not a list of strings"))
		}
		if !o.allowed(r, names, slab) {
			r.parseErrs = len(r.errs) // a failure row only: loaded nowhere
			return append(dst, r)
		}
		for _, s := range names {
			d, err := o.destination(s)
			if err != nil { // cannot happen for a name the model allows
				r.errs = append(r.errs, loadErr{code: failcode.DestinationNotFound, path: string(s), rule: "destination",
					expected: "schema.table of identifiers [A-Za-z_][A-Za-z0-9_$]*", actual: string(s), message: err.Error()})
				continue
			}
			dup := false
			for _, x := range r.dests { // a destination named twice loads once
				dup = dup || x == d
			}
			switch {
			case dup:
			case r.dests == nil:
				r.dests = d.alone // shared, capacity 1: a second append copies
			default:
				r.dests = append(r.dests, d)
			}
		}
		r.parseErrs = len(r.errs)
		return append(dst, r)
	}
	if o.validator != nil && !badKey && !validated {
		start := len(*vbuf)
		*vbuf = o.validator.AppendValidated(*vbuf, record.Record{Time: t, Body: body})
		d := record.NewDecoder((*vbuf)[start:len(*vbuf):len(*vbuf)])
		var vr record.Record
		for d.Next(&vr) {
			if _, ok := vr.Body.Get(fieldname.Errors); !ok {
				if _, ok := vr.Body.Get(fieldname.Columns); !ok {
					return append(dst, o.unvalidated(&rec{body: body}, body, "the validator produced a record that is neither valid nor a failure"))
				}
			}
			dst = o.parse(dst, slab, vr.Body, vr.Time, vbuf, true)
		}
		if d.Err() != nil {
			return append(dst, o.unvalidated(&rec{body: body}, body, "the validator produced malformed output"))
		}
		return dst
	}
	msg := "record was not validated"
	if badKey {
		msg = "record was not validated (malformed record body: " + err.Error() + ")"
	}
	return append(dst, o.unvalidated(r, body, msg))
}

// allowed checks a valid record against its definition in the data model
// before any SQL: the definition must exist for the record's game and
// event, every destination must be one of its destinations and every
// column one of its fields with a value of the field's type. A valid record
// comes from outside (any input can send one), so nothing it names is
// trusted. Otherwise, or without a model (validate off), the record gets
// the error and is loaded nowhere.
func (o *Output) allowed(r *rec, dests [][]byte, s *routeScratch) bool {
	if o.validator == nil {
		r.errs = append(r.errs, loadErr{code: failcode.NotVerified, rule: "model", expected: "an output with a data model (validate on)",
			message: "the output has no data model (validate off) to check the destinations and columns of valid records against; they are not loaded"})
		return false
	}
	game, _ := r.game.Str()
	event, _ := r.event.Str()
	label, _ := r.defVersion.Str()
	errs, a, vals, inOrder := o.modelErrors(game, event, label, dests, r.columns, s)
	if len(errs) > 0 && o.validator.Refresh(modelRefreshAge) {
		errs, a, vals, inOrder = o.modelErrors(game, event, label, dests, r.columns, s) // validated upstream against a newer model
	}
	r.errs = append(r.errs, errs...)
	if len(errs) == 0 && inOrder {
		r.def, r.defVals = a, vals
	}
	return len(errs) == 0
}

// modelErrors returns what the model does not allow of a valid record, its
// definition, and whether its columns are all the definition's, in order,
// with their values (taken from s) when they are.
func (o *Output) modelErrors(game, event, label []byte, dests [][]byte, cols record.Map, s *routeScratch) ([]loadErr, validate.Allowed, []record.Value, bool) {
	cache := &s.cols
	// def names the definition in messages; made only for an error, as
	// this runs for every valid record.
	def := func() string { return fmt.Sprintf("definition %s of %s/%s", label, game, event) }
	a, ok := o.validator.AllowedCached(cache, game, event, label)
	if !ok {
		return []loadErr{{code: failcode.ModelMismatch, path: fieldname.DefinitionVersion, rule: "model", expected: "a definition of the data model",
			actual: string(label), message: def() + " is not in the data model"}}, a, nil, false
	}
	var errs []loadErr
	for _, d := range dests {
		if !a.Destination(d) {
			errs = append(errs, loadErr{code: failcode.ModelMismatch, path: fieldname.Destinations, rule: "model", expected: "a destination of " + def(),
				actual: string(d), message: fmt.Sprintf("%s is not a destination of %s", d, def())})
		}
	}
	vals := s.vals.take(a.NumColumns())
	if len(errs) == 0 && a.ColumnsInOrder(cols, vals) { // most records: as the validator wrote them
		return nil, a, vals, true
	}
	i, inOrder := 0, true
	err := cols.RangeDecoded(func(k []byte, v record.Value) bool {
		var msg string
		if inOrder && a.InOrder(i, k) {
			msg = a.ValueAt(i, v)
			vals[i] = v
		} else {
			inOrder = false
			msg = a.ColumnAt(cache, i, k, v)
		}
		i++
		if msg != "" {
			errs = append(errs, loadErr{code: failcode.ModelMismatch, path: fieldname.Columns + "." + string(k), rule: "model",
				expected: "a field of " + def(), actual: string(k), message: msg})
		}
		return true
	})
	if err != nil {
		errs = append(errs, loadErr{code: failcode.ModelMismatch, path: fieldname.Columns, rule: "model", message: "the columns are malformed: " + err.Error()})
	}
	if !inOrder || i != a.NumColumns() {
		return errs, a, nil, false
	}
	return errs, a, vals, true
}

// unvalidated turns a record that is not in the validated-record contract
// into an INTERNAL_ERROR failure, keeping whatever event key it carries.
func (o *Output) unvalidated(r *rec, body record.Map, msg string) *rec {
	f := &rec{kind: kindFailure, body: body}
	f.uuid, f.firedTS, f.game, f.version, f.event, f.defVersion = strOrNil(r.uuid), strOrNil(r.firedTS), strOrNil(r.game), strOrNil(r.version), strOrNil(r.event), strOrNil(r.defVersion)
	if v, ok := body.Get(fieldname.Body); ok {
		if s, ok := v.Str(); ok {
			f.raw = s
		}
	}
	if f.raw == nil {
		var err error
		if f.raw, err = body.AppendJSON(nil); err != nil {
			f.raw = []byte(strconv.Quote(string(body)))
		}
	}
	f.errorsJSON = appendErrorsJSON(nil, []loadErr{{code: failcode.InternalError, message: msg}})
	f.codes = []byte(failcode.InternalError)
	return f
}

// undecodable turns the undecodable rest of a chunk into one failure row
// whose raw_event is the bytes as quoted text.
func (o *Output) undecodable(rest []byte, err error) *rec {
	f := &rec{kind: kindFailure}
	f.raw = []byte(strconv.QuoteToASCII(string(rest)))
	f.errorsJSON = appendErrorsJSON(nil, []loadErr{{code: failcode.InternalError, rule: "msgpack",
		message: "the rest of the chunk cannot be decoded: " + err.Error()}})
	f.codes = []byte(failcode.InternalError)
	return f
}

// cutUpstream is the digest a failure record carries for a body cut
// upstream (body_bytes, body_sha256), or nil when it carries none or one
// that cannot fit the typed columns. body_bytes may be less than len(body):
// for a gzip message over a decode bound, body holds the first decoded
// bytes while the digest describes the message as received.
func cutUpstream(n, sum record.Value, body []byte) *validate.TextDigest {
	size, ok := n.Int()
	h, hok := sum.Str()
	if !ok || !hok || size < 0 || len(h) != 2*sha256.Size {
		return nil
	}
	d := &validate.TextDigest{Bytes: size}
	if _, err := hex.Decode(d.SHA256[:], h); err != nil {
		return nil
	}
	return d
}

func strOrNil(v record.Value) record.Value {
	if _, ok := v.Str(); ok {
		return v
	}
	return nil
}

// destination interns a destination name, validating it once.
func (o *Output) destination(s []byte) (*dest, error) {
	o.destMu.RLock()
	d, ok := o.dests[string(s)]
	o.destMu.RUnlock()
	if ok {
		return d, nil
	}
	n, err := parseTableName(string(s))
	if err != nil {
		return nil, err
	}
	o.destMu.Lock()
	defer o.destMu.Unlock()
	if d, ok = o.dests[string(s)]; ok {
		return d, nil
	}
	key := n.String()
	for _, x := range o.dests { // "A.b" and "a.b" are one table
		if x.key == key {
			o.dests[string(s)] = x
			return x, nil
		}
	}
	d = &dest{name: n, key: key}
	d.alone = []*dest{d}
	o.dests[string(s)] = d
	return d, nil
}

// errorsJSON writes the errors list of a failure record as JSON and
// collects the codes, comma-joined.
func errorsJSON(v record.Value) (js, codes []byte, ok bool) {
	js, err := v.AppendJSON(nil)
	if err != nil || v.Kind() != record.KindArray {
		return nil, nil, false
	}
	good := true
	v.Array(func(_ int, e record.Value) bool {
		m, isMap := e.Map()
		if !isMap {
			good = false
			return false
		}
		if c, ok := m.Get("code"); ok {
			if s, ok := c.Str(); ok && len(s) > 0 {
				if !containsCode(codes, s) {
					if len(codes) > 0 {
						codes = append(codes, ',')
					}
					codes = append(codes, s...)
				}
			}
		}
		return true
	})
	return js, codes, good
}

func containsCode(list, code []byte) bool {
	for len(list) > 0 {
		i := bytes.IndexByte(list, ',')
		if i < 0 {
			return bytes.Equal(list, code)
		}
		if bytes.Equal(list[:i], code) {
			return true
		}
		list = list[i+1:]
	}
	return false
}

func appendErrorsJSON(dst []byte, errs []loadErr) []byte {
	type jerr struct {
		Code     failcode.Code `json:"code"`
		Path     string        `json:"path"`
		Rule     string        `json:"rule"`
		Expected string        `json:"expected"`
		Actual   string        `json:"actual"`
		Message  string        `json:"message"`
	}
	list := make([]jerr, len(errs))
	for i, e := range errs {
		list[i] = jerr{e.code, e.path, e.rule, e.expected, e.actual, e.message}
	}
	b, _ := json.Marshal(list)
	return append(dst, b...)
}
