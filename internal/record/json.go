package record

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tinylib/msgp/msgp"
	"github.com/whirlpool-events/whirlpool/internal/swar"
)

// AppendJSON appends m as a JSON object to dst and returns the extended
// buffer. An empty Map is written as {}. On error dst is returned with
// nothing appended. See Value.AppendJSON for how values are written.
func (m Map) AppendJSON(dst []byte) ([]byte, error) {
	if len(m) == 0 {
		return append(dst, '{', '}'), nil
	}
	if msgp.NextType(m) != msgp.MapType {
		return dst, fmt.Errorf("record: json: want map, found %s", typeName(m))
	}
	return Value(m).AppendJSON(dst)
}

// AppendJSON appends v as JSON to dst and returns the extended buffer; on
// error dst is returned with nothing appended. It does not allocate beyond
// growing dst.
//
//   - str: a JSON string; invalid UTF-8 is replaced with U+FFFD; control
//     characters, '"', '\\', U+2028 and U+2029 are escaped. '<', '>' and
//     '&' are not (the output is not meant for HTML).
//   - bin: a JSON string of its text if it is valid UTF-8, otherwise its
//     standard base64 encoding.
//   - int, uint: exact integers. float32/64: the shortest representation
//     that round-trips (strconv 'g', -1); NaN and ±Inf are null.
//   - EventTime (ext 0): a number of seconds with the nanoseconds as a
//     decimal fraction (trailing zeros trimmed; no fraction if zero).
//     Other extensions: null.
//   - map keys: str and bin keys as strings; nil, bool and number keys as
//     strings of their JSON text (e.g. "1"); other keys are an error.
func (v Value) AppendJSON(dst []byte) ([]byte, error) {
	n := len(dst)
	out, rest, err := appendJSON(dst, v, 0)
	if err == nil && len(rest) != 0 {
		err = fmt.Errorf("%d trailing bytes after the value", len(rest))
	}
	if err != nil {
		return dst[:n], fmt.Errorf("record: json at offset %d: %w", len(v)-len(rest), err)
	}
	return out, nil
}

// appendJSON writes the value at the start of b; depth is the number of
// containers it sits in.
func appendJSON(dst, b []byte, depth int) ([]byte, []byte, error) {
	if len(b) == 0 {
		return dst, b, ErrTruncated
	}
	// The commonest cases first, without going through NextType.
	if c := b[0]; c <= 0x7f { // positive fixint
		return strconv.AppendUint(dst, uint64(c), 10), b[1:], nil
	} else if c&0xe0 == 0xa0 { // fixstr
		s, o, err := msgp.ReadStringZC(b)
		if err != nil {
			return dst, b, describe(err)
		}
		return appendString(dst, s), o, nil
	}
	switch msgp.NextType(b) {
	case msgp.StrType:
		s, o, err := msgp.ReadStringZC(b)
		if err != nil {
			return dst, b, describe(err)
		}
		return appendString(dst, s), o, nil
	case msgp.BinType:
		s, o, err := msgp.ReadBytesZC(b)
		if err != nil {
			return dst, b, describe(err)
		}
		return appendBin(dst, s), o, nil
	case msgp.IntType:
		i, o, err := msgp.ReadInt64Bytes(b)
		if err != nil {
			return dst, b, describe(err)
		}
		return strconv.AppendInt(dst, i, 10), o, nil
	case msgp.UintType:
		u, o, err := msgp.ReadUint64Bytes(b)
		if err != nil {
			return dst, b, describe(err)
		}
		return strconv.AppendUint(dst, u, 10), o, nil
	case msgp.Float64Type:
		f, o, err := msgp.ReadFloat64Bytes(b)
		if err != nil {
			return dst, b, describe(err)
		}
		return appendFloat(dst, f, 64), o, nil
	case msgp.Float32Type:
		f, o, err := msgp.ReadFloat32Bytes(b)
		if err != nil {
			return dst, b, describe(err)
		}
		return appendFloat(dst, float64(f), 32), o, nil
	case msgp.BoolType:
		t, o, err := msgp.ReadBoolBytes(b)
		if err != nil {
			return dst, b, describe(err)
		}
		if t {
			return append(dst, "true"...), o, nil
		}
		return append(dst, "false"...), o, nil
	case msgp.NilType:
		return append(dst, "null"...), b[1:], nil
	case msgp.MapType:
		if depth >= MaxDepth {
			return dst, b, ErrTooDeep
		}
		n, p, err := msgp.ReadMapHeaderBytes(b)
		if err != nil {
			return dst, b, describe(err)
		}
		dst = append(dst, '{')
		for i := uint32(0); i < n; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, p, err = appendKey(dst, p); err != nil {
				return dst, p, err
			}
			dst = append(dst, ':')
			if dst, p, err = appendJSON(dst, p, depth+1); err != nil {
				return dst, p, err
			}
		}
		return append(dst, '}'), p, nil
	case msgp.ArrayType:
		if depth >= MaxDepth {
			return dst, b, ErrTooDeep
		}
		n, p, err := msgp.ReadArrayHeaderBytes(b)
		if err != nil {
			return dst, b, describe(err)
		}
		dst = append(dst, '[')
		for i := uint32(0); i < n; i++ {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, p, err = appendJSON(dst, p, depth+1); err != nil {
				return dst, p, err
			}
		}
		return append(dst, ']'), p, nil
	case msgp.InvalidType:
		return dst, b, fmt.Errorf("invalid byte 0x%02x", b[0])
	}
	// Extensions.
	sec, nsec, o, ok, err := readEventTime(b)
	if err != nil {
		return dst, b, err
	}
	if ok {
		return appendEventTime(dst, sec, nsec), o, nil
	}
	o, err = msgp.Skip(b) // not recursive for extensions
	if err != nil {
		return dst, b, describe(err)
	}
	return append(dst, "null"...), o, nil
}

// appendKey writes a map key as a JSON string.
func appendKey(dst, b []byte) ([]byte, []byte, error) {
	if len(b) == 0 {
		return dst, b, ErrTruncated
	}
	if b[0]&0xe0 == 0xa0 { // fixstr, the usual key
		s, o, err := msgp.ReadStringZC(b)
		if err != nil {
			return dst, b, describe(err)
		}
		return appendString(dst, s), o, nil
	}
	switch msgp.NextType(b) {
	case msgp.StrType, msgp.BinType:
		return appendJSON(dst, b, 0)
	case msgp.IntType, msgp.UintType, msgp.Float32Type, msgp.Float64Type, msgp.BoolType, msgp.NilType:
		dst = append(dst, '"')
		dst, b, err := appendJSON(dst, b, 0) // digits, letters, '.', '+', '-': nothing to escape
		return append(dst, '"'), b, err
	}
	return dst, b, keyTypeError(b)
}

// appendEventTime writes seconds with a decimal fraction.
func appendEventTime(dst []byte, sec, nsec uint32) []byte {
	t := time.Unix(int64(sec), int64(nsec)) // normalises nsec >= 1e9
	dst = strconv.AppendInt(dst, t.Unix(), 10)
	ns := t.Nanosecond()
	if ns == 0 {
		return dst
	}
	var frac [10]byte
	frac[0] = '.'
	for i := 9; i >= 1; i-- {
		frac[i] = byte('0' + ns%10)
		ns /= 10
	}
	end := 10
	for frac[end-1] == '0' {
		end--
	}
	return append(dst, frac[:end]...)
}

func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

// needsEscape returns a mask whose lowest set bit (0x80 of some byte) marks
// the first of the 8 little-endian bytes in x that is not printable ASCII
// other than '"' and '\\'; 0 if all 8 can be copied as they are. (Bytes
// above the first flagged one may be flagged falsely; it does not matter.)
func needsEscape(x uint64) uint64 {
	return ((x - 0x20*swar.Ones) | ((x ^ '"'*swar.Ones) - swar.Ones) | ((x ^ '\\'*swar.Ones) - swar.Ones) | x) & swar.Highs
}

// jsonSafe[c] is true for the ASCII bytes that go into a JSON string as
// they are.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string.
func appendString(dst, s []byte) []byte {
	dst, _ = appendStringMode(dst, s, false)
	return dst
}

// appendBin writes s as a JSON string if it is valid UTF-8, otherwise as
// a base64 string.
func appendBin(dst, s []byte) []byte {
	n := len(dst)
	if out, ok := appendStringMode(dst, s, true); ok {
		return out
	}
	dst = append(dst[:n], '"')
	dst = base64.StdEncoding.AppendEncode(dst, s)
	return append(dst, '"')
}

// appendStringMode writes s as a JSON string. If strict, it gives up
// (ok false) at the first invalid UTF-8 sequence; otherwise it replaces
// each invalid byte with U+FFFD, as encoding/json does.
func appendStringMode(dst, s []byte, strict bool) (_ []byte, ok bool) {
	dst = append(dst, '"')
	start := 0
	for i := 0; ; {
		if i = scanSafe(s, i); i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf { // ASCII that needs escaping
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			if strict {
				return dst, false
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 end lines in JavaScript; U+FFFE and U+FFFF are
		// valid JSON but characters SQS refuses in a message body, which
		// would make one odd event sink the whole packed message.
		if r == '\u2028' || r == '\u2029' || r == 0xfffe || r == 0xffff {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', hexDigits[r>>12], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), true
}

// scanSafe returns the index of the first byte of s at or after i that is
// not printable ASCII other than '"' and '\\' (len(s) if none), checking 8
// bytes at a time.
func scanSafe(s []byte, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if m := needsEscape(swar.Load(s, i)); m != 0 {
			return i + swar.First(m)
		}
	}
	if i >= len(s) {
		return len(s)
	}
	if len(s) >= 8 {
		// Load the last 8 bytes and drop the k already checked (and safe,
		// so they cause no false flags) at the low end.
		k := uint(i - (len(s) - 8))
		m := needsEscape(swar.Load(s, len(s)-8)) >> (8 * k)
		if m == 0 {
			return len(s)
		}
		return i + swar.First(m)
	}
	for ; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || !jsonSafe[c] {
			return i
		}
	}
	return i
}
