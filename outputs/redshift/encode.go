package redshift

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/tinylib/msgp/msgp"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/swar"
)

// Rows are encoded from msgpack values straight into the payload of each
// load method, without building Go values:
//
//   - pg_copy: PostgreSQL's COPY text format (tab-separated, \N for NULL,
//     backslash escapes: a newline, CR or tab in a value is escaped, so
//     each row is one line and JSON text is stored as it came).
//   - insert: a tuple of string literals, e.g. (E'a', '12', NULL), that the
//     database coerces to each column's type (so a bad value is a data
//     error the database reports, never a silent conversion).
//   - copy: a JSON object per line whose keys are the column names (read
//     through a generated JSONPaths file). Exactly one line per row:
//     SYS_LOAD_ERROR_DETAIL names a bad row by its line, so JSON text embedded
//     for a SUPER column is compacted (a client's pretty-printed event
//     spans lines), and strings are JSON-quoted (\n, never a newline).
//
// A nil Value (a column the record does not have) is NULL.

// appendCopyValue writes one value in COPY text format.
func appendCopyValue(dst []byte, v record.Value) []byte {
	if len(v) == 0 {
		return append(dst, '\\', 'N')
	}
	// The encodings most values take (short strings, small integers) are
	// read here from their first byte; every other goes through Kind.
	switch c := v[0]; {
	case c >= 0xa0 && c <= 0xbf: // fixstr
		if n := 1 + int(c&0x1f); n <= len(v) {
			return appendCopyText(dst, v[1:n])
		}
	case c == 0xd9 && len(v) >= 2: // str 8: uuids, longer text
		if n := 2 + int(v[1]); n <= len(v) {
			return appendCopyText(dst, v[2:n])
		}
	case c <= 0x7f: // positive fixint
		return strconv.AppendInt(dst, int64(c), 10)
	case c >= 0xe0: // negative fixint
		return strconv.AppendInt(dst, int64(int8(c)), 10)
	}
	switch v.Kind() {
	case record.KindNil:
		return append(dst, '\\', 'N')
	case record.KindStr, record.KindBin:
		s, _ := v.Str()
		return appendCopyText(dst, s)
	case record.KindInt:
		n, _ := v.Int()
		return strconv.AppendInt(dst, n, 10)
	case record.KindUint:
		n, _ := v.Uint()
		return strconv.AppendUint(dst, n, 10)
	case record.KindFloat:
		f, _ := v.Float()
		return appendFloatText(dst, f)
	case record.KindBool:
		b, _ := v.Bool()
		if b {
			return append(dst, 't')
		}
		return append(dst, 'f')
	}
	js, err := v.AppendJSON(nil)
	if err != nil {
		return append(dst, '\\', 'N')
	}
	return appendCopyText(dst, js)
}

func appendFloatText(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	if out, ok := appendShortDecimal(dst, f); ok {
		return out
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// pow10 are the powers of ten appendShortDecimal tries, each exact.
var pow10 = [...]float64{1, 10, 100, 1e3, 1e4, 1e5, 1e6}

// appendShortDecimal writes f as strconv.AppendFloat(dst, f, 'g', -1, 64)
// does, for the values most events carry (a duration of 1834.25, a ratio
// of 0.4375): at most six decimals, and from 1e-4 up to but not including
// 1e6, where 'g' writes no exponent. It reports false for any other value,
// left to strconv, whose shortest-digits search costs about 400
// instructions a value. The digits are the shortest that read back as f:
// n/10^k for the least k at which one does, which is unique at this
// magnitude (a float's spacing here is below 2^-33, far finer than 10^-6).
func appendShortDecimal(dst []byte, f float64) ([]byte, bool) {
	a := math.Abs(f)
	if !(a >= 1e-4 && a < 1e6) { // also NaN and 0 (-0 keeps its sign in strconv)
		return dst, false
	}
	for k, p := range pow10 {
		m := math.Round(a * p)
		if m/p != a { // the division rounds correctly: m/10^k reads back as a
			continue
		}
		n := uint64(m)
		if f < 0 {
			dst = append(dst, '-')
		}
		if k == 0 {
			return strconv.AppendUint(dst, n, 10), true
		}
		q := uint64(p)
		dst = strconv.AppendUint(dst, n/q, 10)
		dst = append(dst, '.')
		var frac [6]byte
		r := n % q
		for i := k - 1; i >= 0; i-- {
			frac[i] = byte('0' + r%10)
			r /= 10
		}
		return append(dst, frac[:k]...), true
	}
	return dst, false
}

// copyEscape is the letter after the backslash for each byte COPY text
// format escapes (0: a byte written as it is).
var copyEscape = [256]byte{'\\': '\\', '\n': 'n', '\r': 'r', '\t': 't'}

// appendCopyText writes s escaped for COPY text. It copies 8 bytes at a
// time, each word stored whole once the word test finds no byte to escape
// in it; a word that may hold one goes byte by byte. The last bytes go as
// one word read back from the end of s, overlapping the word before (its
// bytes written again, the same), when that word went whole; a value of 4
// to 7 bytes goes as two 4-byte halves. Most values (uuids, names, JSON
// text) have no escape, and this costs them a few instructions a word
// instead of a search for the next escape and an append per run.
func appendCopyText(dst, s []byte) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(s)+8) // the text, and room for a whole word past it
	out := dst[:cap(dst)]
	if len(s) < 8 {
		if len(s) >= 4 {
			lo, hi := binary.LittleEndian.Uint32(s), binary.LittleEndian.Uint32(s[len(s)-4:])
			if copyEscapeMask(uint64(lo)|uint64(hi)<<32) == 0 {
				binary.LittleEndian.PutUint32(out[n:], lo)
				binary.LittleEndian.PutUint32(out[n+len(s)-4:], hi)
				return dst[:n+len(s)]
			}
		}
		return appendCopyBytes(dst[:n], s)
	}
	whole := false // the last word went whole
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := swar.Load(s, i)
		if whole = copyEscapeMask(w) == 0; whole {
			binary.LittleEndian.PutUint64(out[n:], w)
			n += 8
			continue
		}
		dst = appendCopyBytes(dst[:n], s[i:i+8])
		n = len(dst)
		dst = slices.Grow(dst, len(s)-i+8)
		out = dst[:cap(dst)]
	}
	if i < len(s) && whole {
		// the bytes before i in this word were flagged by no test: no
		// borrow reaches the bytes after them, whose flags are exact
		k := uint(8 - (len(s) - i))
		if w := swar.Load(s, len(s)-8); copyEscapeMask(w)>>(8*k) == 0 {
			binary.LittleEndian.PutUint64(out[n-int(k):], w)
			return dst[:n+len(s)-i]
		}
	}
	return appendCopyBytes(dst[:n], s[i:])
}

// appendCopyBytes writes s escaped for COPY text, a byte at a time.
func appendCopyBytes(dst, s []byte) []byte {
	for _, c := range s {
		if e := copyEscape[c]; e != 0 {
			dst = append(dst, '\\', e)
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// copyEscapeMask flags a word's bytes that COPY text may escape: its
// first flag is the first escape or another control byte.
func copyEscapeMask(w uint64) uint64 { return swar.BelowOr(w, '\r'+1, '\\') }

// appendCopyRow writes one row (tab-separated values and '\n').
func appendCopyRow(dst []byte, vals []record.Value) []byte {
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, '\t')
		}
		dst = appendCopyValue(dst, v)
	}
	return append(dst, '\n')
}

// appendInsertTuple writes one VALUES tuple. Values of SUPER columns that
// hold JSON text are wrapped in JSON_PARSE (Redshift only).
func appendInsertTuple(dst []byte, vals []record.Value, cols []*colMeta, d Dialect) []byte {
	dst = append(dst, '(')
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, ',', ' ')
		}
		dst = appendInsertValue(dst, v, cols[i].super && d == Redshift, d)
	}
	return append(dst, ')')
}

func appendInsertValue(dst []byte, v record.Value, super bool, d Dialect) []byte {
	if len(v) == 0 {
		return append(dst, "NULL"...)
	}
	var scratch [32]byte
	switch v.Kind() {
	case record.KindNil:
		return append(dst, "NULL"...)
	case record.KindStr, record.KindBin:
		s, _ := v.Str()
		if super && json.Valid(s) {
			dst = append(dst, "JSON_PARSE("...)
			dst = appendLiteral(dst, s, d)
			return append(dst, ')')
		}
		return appendLiteral(dst, s, d)
	case record.KindInt:
		n, _ := v.Int()
		return appendLiteral(dst, strconv.AppendInt(scratch[:0], n, 10), d)
	case record.KindUint:
		n, _ := v.Uint()
		return appendLiteral(dst, strconv.AppendUint(scratch[:0], n, 10), d)
	case record.KindFloat:
		f, _ := v.Float()
		return appendLiteral(dst, appendFloatText(scratch[:0], f), d)
	case record.KindBool:
		b, _ := v.Bool()
		if b {
			return appendLiteral(dst, []byte("true"), d)
		}
		return appendLiteral(dst, []byte("false"), d)
	}
	js, err := v.AppendJSON(nil)
	if err != nil {
		return append(dst, "NULL"...)
	}
	if super {
		dst = append(dst, "JSON_PARSE("...)
		dst = appendLiteral(dst, js, d)
		return append(dst, ')')
	}
	return appendLiteral(dst, js, d)
}

// appendJSONRow writes one JSON-lines row for COPY ... FORMAT JSON. Strings
// bound for SUPER columns that hold valid JSON are embedded as compact JSON,
// so the row is one line.
func appendJSONRow(dst []byte, vals []record.Value, cols []*colMeta) []byte {
	dst = append(dst, '{')
	for i, v := range vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendQuote(dst, cols[i].name) // identifiers are plain ASCII
		dst = append(dst, ':')
		if len(v) == 0 {
			dst = append(dst, "null"...)
			continue
		}
		if cols[i].super {
			if s, ok := v.Str(); ok {
				if out, ok := appendCompactJSON(dst, s); ok {
					dst = out
					continue
				}
			}
		}
		if v.Kind() == record.KindFloat {
			if f, _ := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
				dst = append(dst, "null"...)
				continue
			}
		}
		out, err := v.AppendJSON(dst)
		if err != nil {
			out = append(dst, "null"...)
		}
		dst = out
	}
	return append(dst, '}', '\n')
}

// appendCompactJSON appends JSON text s without the white space outside its
// strings (newlines and indentation included); ok is false, and dst
// unchanged, when s is not JSON. Its value is unchanged: white space
// outside strings is not part of it.
func appendCompactJSON(dst, s []byte) (_ []byte, ok bool) {
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, s); err != nil {
		return dst, false
	}
	return buf.Bytes(), true
}

// arena holds msgpack values the output builds (failure rows, batch
// timestamps). Values alias it; it only grows, so they stay valid.
type arena struct{ b []byte }

func (a *arena) str(s []byte) record.Value {
	start := len(a.b)
	a.b = msgp.AppendStringFromBytes(a.b, s)
	return record.Value(a.b[start:len(a.b):len(a.b)])
}

func (a *arena) int(n int64) record.Value {
	start := len(a.b)
	a.b = msgp.AppendInt64(a.b, n)
	return record.Value(a.b[start:len(a.b):len(a.b)])
}

func (a *arena) bool(b bool) record.Value {
	start := len(a.b)
	a.b = msgp.AppendBool(a.b, b)
	return record.Value(a.b[start:len(a.b):len(a.b)])
}
