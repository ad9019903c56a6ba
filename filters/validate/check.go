package validate

// This file holds the field checks: the per-call worker, the walk of an
// event's fields along the definition (expansion included), and the check
// of each value against its field (type, format, range, length), each
// problem an error of the event's failure.

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/tinylib/msgp/msgp"
	"github.com/valyala/fastjson"
	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/swar"
	"github.com/whirlpool-events/whirlpool/internal/timefmt"
)

// MaxErrors is the most errors one failure record lists; when an event has
// more, the last listed error's message says how many were left out.
const MaxErrors = 100

// MaxActual is the most bytes of an error's `actual` (cut at a UTF-8
// character boundary).
const MaxActual = 256

// verr is one error of a failure. Its texts are spans of the worker's
// text buffer, so that building a failure allocates nothing.
type verr struct {
	code                            failcode.Code
	rule                            string
	path, expected, actual, message span
}

type span struct{ start, end int32 }

// lastKey is the last event key whose definition a worker looked up in
// snapshot snap: game, event and version one after another in key, ending
// at game and event.
type lastKey struct {
	snap        *snapshot
	def         *cdef
	key         []byte
	game, event int
}

var nullText = []byte("null")

// worker holds the per-call state; pooled, one per concurrent call.
type worker struct {
	p     fastjson.Parser
	fired time.Time // the fired_ts of the event being checked
	// window is the text of the last time window a timestamp was outside
	window struct {
		hi   time.Time
		from string
		text []byte
	}
	errs    []verr
	omitted int
	text    []byte // the errors' texts (verr spans)
	cur     verr   // the error being built (open ... close)
	mark    int    // start of the text being built
	vals    []byte // encoded column values
	pslots  []span // by column slot: parent columns
	eslots  []span // by element*len(columns)+slot: element columns
	tmp     []byte
	scratch []byte
	path    []byte
	lastKey lastKey             // worker.definitionOf's
	firedTS timefmt.LastRFC3339 // reads the envelope's fired_ts (envelope.check)

	// the scan's state (scan.go)
	sub         fastjson.Parser             // subtree's
	body        []byte                      // the body scanned: jv spans index it
	trees       []*fastjson.Value           // the tree path's values: jv.tree indexes it
	jvs         []jv                        // by column slot: the values of body fields
	seen        []bool                      // by scanNode id: the key was found
	elems       []jv                        // by element*len(columns)+slot: element values
	elemSeen    []bool                      // seen, in the element being read
	row         []jv                        // jvs or the element's row of elems
	rowSeen     []bool                      // seen or elemSeen
	expandValue jv                          // the expand field's value
	nelems      int                         // how many elements it has
	elem        int                         // the element being read, -1: none
	def         *cdef                       // the definition being read
	expandLimit int                         // Options.ExpandLimit
	reject      bool                        // note additional fields
	extra       []extraKey                  // the additional fields
	extraText   []byte                      // their paths and keys
	extraNext   int                         // addExtras' place in extra
	elemPath    []byte                      // w.path's buffer inside an element
	preds       [predictDefs]keyPredictions // by definition, the most recently read
	predClock   uint64                      // events scanned, for preds' use marks
	predNow     *keyPredictions             // preds' place for this event's definition
	predicting  bool                        // predict keys in this event
	predHits    int                         // predictions that held, in this event
	predMisses  int                         // and that did not
}

func (w *worker) reset() {
	w.errs = w.errs[:0]
	w.omitted = 0
	w.text = w.text[:0]
	w.vals = w.vals[:0]
}

// add adds an error whose texts are at hand as strings.
func (w *worker) add(code failcode.Code, path, rule, expected, actual, message string) {
	if !w.open(code, rule) {
		return
	}
	w.text = append(w.text, path...)
	w.endPath()
	w.text = append(w.text, expected...)
	w.endExpected()
	w.text = append(w.text, actual...)
	w.endActual()
	w.text = append(w.text, message...)
	w.close()
}

// open starts building an error: append its path, expected, actual and
// message to w.text in turn, ending each with endPath, endExpected,
// endActual and close. It reports false, counting the error as omitted,
// when MaxErrors are listed already; then nothing is to be built.
func (w *worker) open(code failcode.Code, rule string) bool {
	if len(w.errs) >= MaxErrors {
		w.omitted++
		return false
	}
	w.cur = verr{code: code, rule: rule}
	w.mark = len(w.text)
	return true
}

func (w *worker) next() span {
	s := span{int32(w.mark), int32(len(w.text))}
	w.mark = len(w.text)
	return s
}

func (w *worker) endPath()     { w.cur.path = w.next() }
func (w *worker) endExpected() { w.cur.expected = w.next() }

// endActual ends actual, cut to MaxActual bytes.
func (w *worker) endActual() {
	w.text = w.text[:w.mark+len(capActual(w.text[w.mark:]))]
	w.cur.actual = w.next()
}

func (w *worker) close() {
	w.cur.message = w.next()
	w.errs = append(w.errs, w.cur)
}

// textOf is the text of span s of w.text.
func (w *worker) textOf(s span) []byte { return w.text[s.start:s.end] }

// validate checks root against d and encodes the columns; it returns the
// number of expanded elements (0: not expanded).
func (w *worker) validate(v *Validator, d *cdef, root *fastjson.Value, fired time.Time) int {
	w.fired = fired
	w.trees = w.trees[:0]
	ncol := len(d.columns)
	w.pslots = sized(w.pslots, ncol)
	for _, f := range d.parent {
		x := root.Get(f.path...)
		start := len(w.vals)
		tv := w.treeValue(x)
		w.vals = w.check(w.vals, v, f, &tv, -1, d)
		w.pslots[f.slot] = span{int32(start), int32(len(w.vals))}
	}
	if d.reject {
		w.path = w.path[:0]
		w.unexpected(root, d.rootKeys)
	}
	if d.expand == nil {
		return 0
	}
	x := root.Get(d.expand.path...)
	var elems []*fastjson.Value
	if x != nil && x.Type() == fastjson.TypeArray {
		elems, _ = x.Array()
	}
	if !w.expandRows(v, d, w.treeValue(x), len(elems)) {
		return 0
	}
	w.eslots = sized(w.eslots, len(elems)*ncol)
	for i, el := range elems {
		for _, ef := range d.elem {
			ex := el
			if len(ef.path) > 0 {
				ex = el.Get(ef.path...)
			}
			start := len(w.vals)
			tv := w.treeValue(ex)
			w.vals = w.check(w.vals, v, ef, &tv, i, d)
			w.eslots[i*ncol+ef.slot] = span{int32(start), int32(len(w.vals))}
		}
		if d.reject {
			w.path = appendElemPath(w.path[:0], d, i)
			w.unexpected(el, d.elemKeys)
		}
	}
	return len(elems)
}

// expandRows checks the expand field's value x, an array of n elements
// or not an array, and reports whether its elements are to be checked,
// one row each. An absent or null optional expand field makes one row
// with the element columns null.
func (w *worker) expandRows(v *Validator, d *cdef, x jv, n int) bool {
	f := d.expand
	if x.absent() || w.typ(x) == fastjson.TypeNull {
		switch {
		case x.absent() && f.mandatory:
			w.add(failcode.MandatoryFieldMissing, f.pathText, "mandatory", "an array", "", fmt.Sprintf("mandatory expand field %s (%s) is missing", f.name, f.pathText))
		case !x.absent() && f.mandatory:
			w.add(failcode.MandatoryFieldNull, f.pathText, "mandatory", "an array", "null", fmt.Sprintf("mandatory expand field %s (%s) is null", f.name, f.pathText))
		}
		for _, ef := range d.elem {
			start := len(w.vals)
			w.vals = msgp.AppendNil(w.vals)
			w.pslots[ef.slot] = span{int32(start), int32(len(w.vals))}
		}
		return false
	}
	if t := w.typ(x); t != fastjson.TypeArray {
		w.add(failcode.ExpandNotArray, f.pathText, "expand", "an array", typeName(t), fmt.Sprintf("expand field %s (%s) is %s, not an array", f.name, f.pathText, typeName(t)))
		return false
	}
	if n == 0 {
		w.add(failcode.ExpandEmpty, f.pathText, "expand", "at least one element", "[]", fmt.Sprintf("expand field %s (%s) is an empty array", f.name, f.pathText))
		return false
	}
	if n > v.opts.ExpandLimit {
		w.add(failcode.ExpandLimitExceeded, f.pathText, "expand_limit", fmt.Sprintf("at most %d elements", v.opts.ExpandLimit), fmt.Sprintf("%d elements", n),
			fmt.Sprintf("expand field %s (%s) has %d elements, more than expand_limit %d", f.name, f.pathText, n, v.opts.ExpandLimit))
		return false
	}
	return true
}

// validateScanned is validate for the values w.scan found; it returns
// how many rows the expand field makes (0: the event is one row).
func (w *worker) validateScanned(v *Validator, d *cdef, fired time.Time) int {
	w.fired = fired
	ncol := len(d.columns)
	w.pslots = sized(w.pslots, ncol)
	for _, f := range d.parent {
		start := len(w.vals)
		w.vals = w.check(w.vals, v, f, &w.jvs[f.slot], -1, d)
		w.pslots[f.slot] = span{int32(start), int32(len(w.vals))}
	}
	// the additional fields outside the elements first, as the tree path
	// checks the body before its elements
	w.addExtras(-1)
	if d.expand == nil || !w.expandRows(v, d, w.expandValue, w.nelems) {
		return 0
	}
	w.eslots = sized(w.eslots, w.nelems*ncol)
	for i := 0; i < w.nelems; i++ {
		for _, ef := range d.elem {
			start := len(w.vals)
			w.vals = w.check(w.vals, v, ef, &w.elems[i*ncol+ef.slot], i, d)
			w.eslots[i*ncol+ef.slot] = span{int32(start), int32(len(w.vals))}
		}
		w.addExtras(i)
	}
	return w.nelems
}

// appendRowScanned is validateScanned for a definition that makes one
// row (d.oneRow): it appends each column's key and checked value to dst,
// the valid record written so far, in column order. The values go straight
// into the record instead of through w.vals; once an error is found, the
// caller writes the failure over them, and the other columns' values are
// only checked (written to w.vals, not kept).
func (w *worker) appendRowScanned(dst []byte, v *Validator, d *cdef, fired time.Time) []byte {
	w.fired = fired
	for _, f := range d.columns {
		if len(w.errs) > 0 {
			w.vals = w.check(w.vals[:0], v, f, &w.jvs[f.slot], -1, d)
			continue
		}
		dst = append(dst, f.key...)
		dst = w.check(dst, v, f, &w.jvs[f.slot], -1, d)
	}
	w.addExtras(-1)
	return dst
}

// addExtras adds an UNEXPECTED_FIELD error for each additional field the
// scan found outside the elements (elem -1), or in element elem, called
// for each element in turn: the scan found them in that order, so
// w.extraNext keeps the place and the work stays linear.
func (w *worker) addExtras(elem int) {
	add := func(e extraKey) {
		w.addUnexpected(w.extraText[e.path.start:e.path.end], w.extraText[e.key.start:e.key.end])
	}
	if elem < 0 {
		w.extraNext = 0
		for _, e := range w.extra {
			if e.elem < 0 {
				add(e)
			}
		}
		return
	}
	for ; w.extraNext < len(w.extra) && w.extra[w.extraNext].elem <= elem; w.extraNext++ {
		if e := w.extra[w.extraNext]; e.elem == elem {
			add(e)
		}
	}
}

// appendElemPath appends the path of element elem of d's expand field:
// the expand field's path, '.', the element's index.
func appendElemPath(dst []byte, d *cdef, elem int) []byte {
	dst = append(dst, d.expand.pathText...)
	dst = append(dst, '.')
	return strconv.AppendInt(dst, int64(elem), 10)
}

// appendErrPath appends the path of field f for messages: its path, or
// for an element field the expand path, the element index and the rest.
func appendErrPath(dst []byte, f *cfield, elem int, d *cdef) []byte {
	if !f.rel || elem < 0 {
		return append(dst, f.pathText...)
	}
	dst = appendElemPath(dst, d, elem)
	if len(f.pathText) > 1 {
		dst = append(dst, f.pathText[1:]...) // "@.a.b" -> ".a.b"
	}
	return dst
}

// fieldErr opens an error of field f, writes its path, expected and actual
// (cut) and the start of its message, "field NAME (PATH) " (with
// "mandatory " before it when mandatory is set); the caller appends the
// rest of the message and closes it. It reports false when the error is
// only counted (MaxErrors).
func (w *worker) fieldErr(code failcode.Code, rule string, f *cfield, elem int, d *cdef, expected string, actual []byte, mandatory bool) bool {
	if !w.open(code, rule) {
		return false
	}
	w.text = appendErrPath(w.text, f, elem, d)
	w.endPath()
	w.text = append(w.text, expected...)
	w.endExpected()
	w.text = append(w.text, actual...)
	w.endActual()
	if mandatory {
		w.text = append(w.text, "mandatory "...)
	}
	w.text = append(w.text, "field "...)
	w.text = append(w.text, f.name...)
	w.text = append(w.text, " ("...)
	w.text = append(w.text, w.textOf(w.cur.path)...)
	w.text = append(w.text, ") "...)
	return true
}

// closeWith appends the message's last parts and closes the error.
func (w *worker) closeWith(parts ...string) {
	for _, p := range parts {
		w.text = append(w.text, p...)
	}
	w.close()
}

// unexpected adds an UNEXPECTED_FIELD error for every key of object x that
// no field path reaches; w.path holds x's path.
func (w *worker) unexpected(x *fastjson.Value, t *trie) {
	if t.open || x.Type() != fastjson.TypeObject {
		return
	}
	o, _ := x.Object()
	base := len(w.path)
	o.Visit(func(k []byte, vv *fastjson.Value) {
		w.path = w.path[:base]
		if base > 0 {
			w.path = append(w.path, '.')
		}
		w.path = appendPathKey(w.path, k)
		c := t.kids[string(k)]
		if c == nil {
			w.addUnexpected(w.path, k)
			return
		}
		w.unexpected(vv, c)
	})
	w.path = w.path[:base]
}

// addUnexpected adds an UNEXPECTED_FIELD error for key k at path.
func (w *worker) addUnexpected(path, k []byte) {
	if w.open(failcode.UnexpectedField, "additional_fields") {
		w.text = append(w.text, path...)
		w.endPath()
		w.text = append(w.text, "only the fields of the definition"...)
		w.endExpected()
		w.text = append(w.text, k...)
		w.endActual()
		w.text = append(w.text, "field "...)
		w.text = append(w.text, path...)
		w.closeWith(" is not in the definition, which rejects additional fields")
	}
}

// appendPathKey appends key k in path syntax (escaping '.', '\' and a
// leading '@').
func appendPathKey(dst, k []byte) []byte {
	for i, c := range k {
		if c == '.' || c == '\\' || (c == '@' && i == 0) {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return dst
}

// check validates value *xp (absent: zero) of field f and appends its
// msgpack encoding to out (nil when absent, null or invalid). Its
// arguments fit in registers: the event's fired time is w.fired.
func (w *worker) check(out []byte, v *Validator, f *cfield, xp *jv, elem int, d *cdef) []byte {
	x := *xp
	if x.absent() {
		if f.mandatory {
			if w.fieldErr(failcode.MandatoryFieldMissing, "mandatory", f, elem, d, f.aTypName, nil, true) {
				w.closeWith("is missing")
			}
		}
		return msgp.AppendNil(out)
	}
	jt := w.typ(x)
	if jt == fastjson.TypeNull {
		if f.mandatory {
			if w.fieldErr(failcode.MandatoryFieldNull, "mandatory", f, elem, d, f.aTypName, nullText, true) {
				w.closeWith("is null")
			}
		}
		return msgp.AppendNil(out)
	}
	switch f.typ {
	case tString:
		if jt != fastjson.TypeString {
			return w.mismatch(f, x, elem, d, out)
		}
		s := w.stringBytes(x)
		if !swar.ASCII(s) && !utf8.Valid(s) {
			if w.fieldErr(failcode.FieldFormatInvalid, "utf8", f, elem, d, "valid UTF-8", s, false) {
				w.closeWith("is not valid UTF-8")
			}
			return msgp.AppendNil(out)
		}
		if len(s) > f.maxLen {
			if w.fieldErr(failcode.FieldTooLong, "max_length", f, elem, d, f.maxLenText, s, false) {
				w.text = append(w.text, "is "...)
				w.text = strconv.AppendInt(w.text, int64(len(s)), 10)
				w.closeWith(" bytes, more than max_length ", f.maxLenNum)
			}
			return msgp.AppendNil(out)
		}
		if f.format != fmtNone && !formatOK(f, s) {
			if w.fieldErr(failcode.FieldFormatInvalid, "format", f, elem, d, f.fmtText, s, false) {
				w.closeWith("is not a valid ", f.fmtText)
			}
			return msgp.AppendNil(out)
		}
		return record.AppendStr(out, s)
	case tInteger:
		if jt != fastjson.TypeNumber {
			return w.mismatch(f, x, elem, d, out)
		}
		num := w.numberText(x)
		i, ok := parseSmallInt(num)
		if !ok {
			var err error
			i, err = strconv.ParseInt(unsafeString(num), 10, 64)
			if err != nil {
				if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange && validNumber(num) {
					return w.outOfRange(f, elem, d, "a 64-bit integer (BIGINT)", num, out)
				}
				fl, ferr := strconv.ParseFloat(unsafeString(num), 64)
				if ferr != nil || !validNumber(num) || fl != math.Trunc(fl) {
					return w.mismatch(f, x, elem, d, out)
				}
				if fl < -(1<<63) || fl >= 1<<63 {
					return w.outOfRange(f, elem, d, "a 64-bit integer (BIGINT)", num, out)
				}
				i = int64(fl)
			}
		}
		if (f.hasMin && i < f.imin) || (f.hasMax && i > f.imax) {
			return w.outOfRange(f, elem, d, f.rangeText, num, out)
		}
		return msgp.AppendInt64(out, i)
	case tNumber:
		if jt != fastjson.TypeNumber {
			return w.mismatch(f, x, elem, d, out)
		}
		num := w.numberText(x)
		fl, ok := parseShortDecimal(num)
		if !ok {
			var err error
			fl, err = strconv.ParseFloat(unsafeString(num), 64)
			if !validNumber(num) {
				return w.mismatch(f, x, elem, d, out)
			}
			if err != nil || math.IsInf(fl, 0) {
				return w.outOfRange(f, elem, d, "a finite double precision number", num, out)
			}
		}
		if (f.hasMin && fl < f.fmin) || (f.hasMax && fl > f.fmax) {
			return w.outOfRange(f, elem, d, f.rangeText, num, out)
		}
		return msgp.AppendFloat64(out, fl)
	case tBoolean:
		switch jt {
		case fastjson.TypeTrue:
			return msgp.AppendBool(out, true)
		case fastjson.TypeFalse:
			return msgp.AppendBool(out, false)
		}
		return w.mismatch(f, x, elem, d, out)
	case tTimestamp:
		var t time.Time
		switch f.format {
		case fmtRFC3339:
			if jt != fastjson.TypeString {
				return w.mismatch(f, x, elem, d, out)
			}
			s := w.stringBytes(x)
			var ok bool
			if t, ok = timefmt.ParseRFC3339(s); !ok {
				if w.fieldErr(failcode.FieldFormatInvalid, "format", f, elem, d, "an RFC 3339 time with a time zone, e.g. 2026-11-21T23:45:27.123Z", s, false) {
					w.closeWith("is not an RFC 3339 time")
				}
				return msgp.AppendNil(out)
			}
		default: // epoch seconds or milliseconds
			if jt != fastjson.TypeNumber {
				return w.mismatch(f, x, elem, d, out)
			}
			num := w.numberText(x)
			fl, err := strconv.ParseFloat(unsafeString(num), 64)
			if err != nil || !validNumber(num) {
				return w.mismatch(f, x, elem, d, out)
			}
			if f.format == fmtEpochMillis {
				fl /= 1000
			}
			if math.IsInf(fl, 0) || math.Abs(fl) > 1e12 {
				w.scratch = append(append(w.scratch[:0], "a time after "...), v.opts.TimestampMin.Format(time.RFC3339)...)
				if w.fieldErr(failcode.TimestampOutOfRange, "timestamp_range", f, elem, d, unsafeString(w.scratch), num, false) {
					w.closeWith("is far outside the accepted time window")
				}
				return msgp.AppendNil(out)
			}
			sec := math.Floor(fl)
			t = time.Unix(int64(sec), int64(math.Round((fl-sec)*1e6))*1000).UTC()
		}
		lo, hi, from := v.opts.TimestampMin, w.fired.Add(v.opts.TimestampMaxAhead), v.fromMin
		if f.hasMin {
			lo, from = f.tmin, f.fromMin
		}
		if f.hasMax {
			hi = f.tmax
		}
		if t.Before(lo) || t.After(hi) {
			js := w.marshalled(x)
			if !hi.Equal(w.window.hi) || from != w.window.from || w.window.text == nil {
				// the events of one request share a fired_ts, so their
				// window is mostly the last one's
				w.window.hi, w.window.from = hi, from
				w.window.text = appendRFC3339Nano(append(append(w.window.text[:0], from...), " to "...), hi)
			}
			if w.fieldErr(failcode.TimestampOutOfRange, "timestamp_range", f, elem, d, unsafeString(w.window.text), js, false) {
				w.text = appendRFC3339Nano(append(w.text, "is "...), t)
				w.text = append(w.text, ", outside "...)
				w.text = append(w.text, w.textOf(w.cur.expected)...)
				w.close()
			}
			return msgp.AppendNil(out)
		}
		var b [27]byte
		formatMicros(&b, t)
		return record.AppendStr(out, b[:])
	case tObject, tArray:
		want := fastjson.TypeObject
		if f.typ == tArray {
			want = fastjson.TypeArray
		}
		if jt != want {
			return w.mismatch(f, x, elem, d, out)
		}
		js := w.marshalled(x)
		if len(js) > f.maxLen {
			if w.fieldErr(failcode.FieldTooLong, "max_length", f, elem, d, f.maxLenText, js, false) {
				w.text = append(w.text, "is "...)
				w.text = strconv.AppendInt(w.text, int64(len(js)), 10)
				w.closeWith(" bytes of JSON, more than max_length ", f.maxLenNum)
			}
			return msgp.AppendNil(out)
		}
		return record.AppendStr(out, js)
	}
	return msgp.AppendNil(out)
}

func (w *worker) outOfRange(f *cfield, elem int, d *cdef, expected string, actual []byte, out []byte) []byte {
	if w.fieldErr(failcode.FieldOutOfRange, "range", f, elem, d, expected, actual, false) {
		w.text = append(w.text, "is "...)
		w.text = append(w.text, actual...)
		w.closeWith(", outside ", expected)
	}
	return msgp.AppendNil(out)
}

// mismatch adds a FIELD_TYPE_MISMATCH error for value x of field f and
// appends nil to out.
func (w *worker) mismatch(f *cfield, x jv, elem int, d *cdef, out []byte) []byte {
	if w.fieldErr(failcode.FieldTypeMismatch, "type", f, elem, d, f.typName, w.marshalled(x), false) {
		w.closeWith("is ", typeName(w.typ(x)), ", not ", f.typName)
	}
	return msgp.AppendNil(out)
}

func rangeText(f *cfield) string {
	if f.typ == tInteger {
		return fmt.Sprintf("from %d to %d", f.imin, f.imax)
	}
	return fmt.Sprintf("from %g to %g", f.fmin, f.fmax)
}

// formatOK checks a string format.
func formatOK(f *cfield, s []byte) bool {
	switch f.format {
	case fmtUUID:
		if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return false
		}
		for _, c := range s {
			if !hexOrDash[c] {
				return false
			}
		}
		return true
	case fmtDate:
		if len(s) != 10 {
			return false
		}
		_, err := time.Parse("2006-01-02", unsafeString(s))
		return err == nil
	case fmtEmail:
		at := -1
		for i, c := range s {
			if c == '@' {
				if at >= 0 {
					return false
				}
				at = i
			}
			if c <= ' ' || c == 0x7f {
				return false
			}
		}
		if at <= 0 || at == len(s)-1 {
			return false
		}
		dom := s[at+1:]
		dot := false
		for i, c := range dom {
			if c == '.' {
				if i == 0 || i == len(dom)-1 {
					return false
				}
				dot = true
			}
		}
		return dot
	case fmtIPv4:
		a, err := netip.ParseAddr(unsafeString(s))
		return err == nil && a.Is4()
	case fmtIPv6:
		a, err := netip.ParseAddr(unsafeString(s))
		return err == nil && a.Is6()
	case fmtPattern:
		if f.literals != nil {
			for _, l := range f.literals {
				if l == string(s) {
					return true
				}
			}
			return false
		}
		return f.re.Match(s)
	}
	return true
}

// hexOrDash marks the bytes of a uuid's text.
var hexOrDash = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c == '-' || isHex(byte(c))
	}
	return t
}()

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// validNumber reports whether b is a JSON number (RFC 8259 grammar); the
// parser is lenient about numbers, the validator is not.
// parseSmallInt reads what strconv.ParseInt reads in base 10 when it can
// be read without overflow: an optional '-' and 1 to 18 digits.
func parseSmallInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		c -= '0'
		if c > 9 {
			return 0, false
		}
		v = v*10 + int64(c)
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseShortDecimal reads a JSON number without an exponent and with at
// most 15 digits, which strconv.ParseFloat reads exactly so: the digits as
// an integer below 2^53, divided by a power of ten up to 10^15, both exact
// in a float64, so the one rounding is the division's (Clinger's fast
// path).
func parseShortDecimal(b []byte) (float64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 16 || b[0] == '0' && len(b) > 1 && b[1] != '.' {
		return 0, false // empty, too long for the fast path, or a leading zero
	}
	var m uint64
	digits, frac := 0, -1
	for i, c := range b {
		if c == '.' {
			if frac >= 0 || i == 0 || i == len(b)-1 {
				return 0, false
			}
			frac = 0
			continue
		}
		if c -= '0'; c > 9 {
			return 0, false
		}
		m = m*10 + uint64(c)
		digits++
		if frac >= 0 {
			frac++
		}
	}
	if digits > 15 {
		return 0, false
	}
	f := float64(m)
	if frac > 0 {
		f /= pow10[frac]
	}
	if neg {
		f = -f
	}
	return f, true
}

var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i == len(b) {
		return false
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	return i == len(b)
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

func jsonTypeName(x *fastjson.Value) string { return typeName(x.Type()) }

func typeName(t fastjson.Type) string {
	switch t {
	case fastjson.TypeNull:
		return "null"
	case fastjson.TypeObject:
		return "an object"
	case fastjson.TypeArray:
		return "an array"
	case fastjson.TypeString:
		return "a string"
	case fastjson.TypeNumber:
		return "a number"
	case fastjson.TypeTrue, fastjson.TypeFalse:
		return "a boolean"
	}
	return "unknown"
}

// capActual cuts b to at most MaxActual bytes at a character boundary.
func capActual(b []byte) []byte { return PrefixUTF8(b, MaxActual) }

// unsafeString views b as a string for a call that does not keep it.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
