// Package jsonscan checks JSON text in one pass, without building a tree
// and without allocating, and hands its caller the members of a top-level
// object, or the elements of a top-level array, on the way. It is the fast path of the stages that only need to
// know that a text is JSON and where its top-level values are (the sqs
// input's envelope, the sqs output's raw-embedding check); what it refuses
// they hand to their slower, exact path, so its answers never decide a
// failure's text. Its readers of one string and one number (StringEnd,
// NumberEnd) hold the validator's own one-pass reading to the same grammar.
//
// The grammar is RFC 8259's, strictly: it accepts exactly what
// encoding/json.Valid accepts, and nothing fastjson.Validate refuses
// (FuzzValid; fastjson lets control characters before a string's last
// escape through, this does not), except inside a value the caller asks
// to skim (Options.SkimKey, FuzzSkim). It does not recurse: nesting is bounded
// by Options.MaxDepth, and by maxDepth at most.
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"unicode/utf8"

	"github.com/whirlpool-events/whirlpool/internal/swar"
)

// Options tune a scan.
type Options struct {
	// UTF8 also requires every string to be valid UTF-8 without the
	// noncharacters U+FFFE and U+FFFF (what SQS takes in a message body).
	UTF8 bool
	// MaxDepth is the deepest nesting of objects and arrays accepted
	// (0 or more than maxDepth: maxDepth).
	MaxDepth int
	// SkimKey names a top-level member whose value, when it is an object
	// or an array, is skimmed instead of checked: its end is found by its
	// strings and brackets alone, so its text may not be JSON, nor nested
	// within MaxDepth. It is for a value the caller parses fully later
	// (the sqs input's body, which the validator reads), which would
	// otherwise be checked twice. Everything else is checked as ever.
	SkimKey string
	// PlainTop refuses a text in which a top-level key, or a string that
	// is a top-level member's value, holds an escape: for a caller that
	// takes them as they are written.
	PlainTop bool

	special bool // SkimKey or PlainTop: scan calls topValue
}

// maxDepth bounds the nesting of any scan: the stack of open containers
// is a fixed bit set on the scanner's frame.
const maxDepth = 4096

// Byte classes inside a string: 0 continues the string.
const (
	cPlain = iota
	cQuote
	cEscape
	cControl
	cHigh // a byte of a multi-byte UTF-8 character (UTF8 mode only)
)

// The byte classes of each mode; the noEscape ones (PlainTop) refuse a
// backslash as they refuse a control character.
var plainClass, utf8Class, plainNoEscape, utf8NoEscape [256]uint8

func init() {
	for c := 0; c < 0x20; c++ {
		plainClass[c], utf8Class[c] = cControl, cControl
	}
	plainClass['"'], utf8Class['"'] = cQuote, cQuote
	plainClass['\\'], utf8Class['\\'] = cEscape, cEscape
	for c := 0x80; c < 0x100; c++ {
		utf8Class[c] = cHigh
	}
	plainNoEscape, utf8NoEscape = plainClass, utf8Class
	plainNoEscape['\\'], utf8NoEscape['\\'] = cControl, cControl
}

// Valid reports whether b is one JSON value, with only JSON white space
// around it, within o.
func Valid(b []byte, o Options) bool {
	return Scan(b, o, nil)
}

// Scan checks b as Valid does and, when b is an object, calls member with
// the key (the raw text between its quotes, escapes not undone) and the
// raw value (exactly its text) of every top-level member, in order, as
// soon as the member is read; member returning false stops the scan, and
// Scan returns false. A text that turns out invalid after some members
// were handed over also returns false.
func Scan(b []byte, o Options, member func(key, value []byte) bool) bool {
	return scan(b, o, member, nil)
}

// Elements checks b as Valid does and, when b is an array, calls element
// with the raw text of every element, in order, as soon as it is read;
// element returning false stops the scan, and Elements returns false. As
// with Scan, a text that turns out invalid after some elements were handed
// over returns false: an element is only known good once Elements returns
// true.
func Elements(b []byte, o Options, element func(value []byte) bool) bool {
	return scan(b, o, nil, element)
}

func scan(b []byte, o Options, member func(key, value []byte) bool, element func(value []byte) bool) bool {
	o.special = o.SkimKey != "" || o.PlainTop
	class, high := &plainClass, uint64(0)
	if o.UTF8 {
		class, high = &utf8Class, swar.Highs // bytes of multi-byte characters stop the SWAR run too
	}
	limit := o.MaxDepth
	if limit <= 0 || limit > maxDepth {
		limit = maxDepth
	}
	var (
		// Bit d-1 of objects says the container at depth d is an object:
		// in top for the first 64 levels, in deep (made when needed)
		// below; a fixed array of maxDepth bits would be cleared on
		// every call.
		top              uint64
		deep             []uint64
		depth            int
		n                = len(b)
		i                = skipWS(b, 0)
		keyStart, keyEnd int
		valStart         int
		ok               bool
		c                byte
		// obj says the innermost open container is an object: read at
		// every ',' and close, set from the bits only when one closes.
		obj bool
	)
value:
	if i >= n {
		return false
	}
	switch b[i] {
	case '{':
		if depth++; depth > limit {
			return false
		}
		if depth <= 64 {
			top |= 1 << (depth - 1)
		} else {
			deep = setBit(deep, depth-65, true)
		}
		if i = skipWS(b, i+1); i < n && b[i] == '}' {
			i++
			depth--
			goto after
		}
		obj = true
		goto key
	case '[':
		if depth++; depth > limit {
			return false
		}
		if depth <= 64 {
			top &^= 1 << (depth - 1)
		} else {
			deep = setBit(deep, depth-65, false)
		}
		if i = skipWS(b, i+1); i < n && b[i] == ']' {
			i++
			depth--
			goto after
		}
		obj = false
		if depth == 1 {
			valStart = i
		}
		goto value
	case '"':
		if e := shortString(b, i+1); e > 0 {
			i = e
		} else if i, ok = scanString(b, i+1, class, high); !ok {
			return false
		}
	case 't':
		if n-i < 4 || b[i+1] != 'r' || b[i+2] != 'u' || b[i+3] != 'e' {
			return false
		}
		i += 4
	case 'f':
		if n-i < 5 || b[i+1] != 'a' || b[i+2] != 'l' || b[i+3] != 's' || b[i+4] != 'e' {
			return false
		}
		i += 5
	case 'n':
		if n-i < 4 || b[i+1] != 'u' || b[i+2] != 'l' || b[i+3] != 'l' {
			return false
		}
		i += 4
	default:
		if i, ok = scanNumber(b, i); !ok {
			return false
		}
	}
after:
	if depth == 0 {
		return skipWS(b, i) == n
	}
	if depth == 1 {
		if top&1 != 0 {
			if member != nil && !member(b[keyStart:keyEnd], b[valStart:i]) {
				return false
			}
		} else if element != nil && !element(b[valStart:i]) {
			return false
		}
	}
	if i = skipWS(b, i); i >= n {
		return false
	}
	c = b[i]
	if c == ',' {
		if i++; i < n && b[i] <= ' ' { // most JSON has no white space after a ','
			i = skipWS(b, i)
		}
		if obj {
			goto key
		}
		if depth == 1 {
			valStart = i
		}
		goto value
	}
	if obj {
		if c != '}' {
			return false
		}
	} else if c != ']' {
		return false
	}
	i++
	if depth--; depth > 0 {
		obj = inObject(top, deep, depth)
	}
	goto after
key:
	if i >= n || b[i] != '"' {
		return false
	}
	c = 0 // stays 0 unless this is a top-level member
	if depth == 1 {
		keyStart, c = i+1, 1
	}
	if e := shortString(b, i+1); e > 0 {
		i = e
	} else if i, ok = scanString(b, i+1, class, high); !ok {
		return false
	}
	if c != 0 {
		keyEnd = i - 1
	}
	if i+1 < n && b[i] == ':' && b[i+1] > ' ' {
		i++ // no white space around the ':' (most JSON)
	} else {
		if i = skipWS(b, i); i >= n || b[i] != ':' {
			return false
		}
		i = skipWS(b, i+1)
	}
	if c != 0 {
		valStart = i
		if o.special {
			// the options' reading of a top-level value, out of line:
			// code here costs every scan registers
			var read bool
			if i, read, ok = topValue(b, i, b[keyStart:keyEnd], &o); !ok {
				return false
			} else if read {
				goto after
			}
		}
	}
	goto value
}

// topValue reads the value at b[i] of the top-level member key as o asks,
// if it does: a string whose escapes PlainTop refuses, or a container
// SkimKey skims. read reports whether it did; i is then after the value.
func topValue(b []byte, i int, key []byte, o *Options) (_ int, read, ok bool) {
	if o.PlainTop && bytes.IndexByte(key, '\\') >= 0 {
		return i, false, false
	}
	switch {
	case i >= len(b):
		return i, false, true
	case b[i] == '"' && o.PlainTop:
		if e := shortString(b, i+1); e > 0 {
			return e, true, true
		}
		high := uint64(0)
		if o.UTF8 {
			high = swar.Highs
		}
		i, ok = scanString(b, i+1, noEscape(o.UTF8), high)
		return i, true, ok
	case (b[i] == '{' || b[i] == '[') && o.SkimKey != "" && string(key) == o.SkimKey:
		i, ok = skimContainer(b, i)
		return i, true, ok
	}
	return i, false, true
}

// noEscape is the byte classes of a mode's strings (UTF8 or not) with a
// backslash refused.
func noEscape(utf8Mode bool) *[256]uint8 {
	if utf8Mode {
		return &utf8NoEscape
	}
	return &plainNoEscape
}

// skimContainer returns the index after the object or array that opens
// at i, found by its brackets and strings alone: any bracket opens or
// closes a level, and a string runs to the next quote that no backslash
// escapes. Of a JSON value it finds the true end; of anything else, some
// end or none.
func skimContainer(b []byte, i int) (int, bool) {
	depth := 0
	for i < len(b) {
		switch skimClass[b[i]] {
		case sOpen:
			depth++
		case sClose:
			if depth--; depth == 0 {
				return i + 1, true
			}
		case sQuote:
			// to the closing quote, stepping over each backslash and the
			// byte it escapes
			for i++; ; i += 2 {
				for i+8 <= len(b) {
					if m := swar.Quote(binary.LittleEndian.Uint64(b[i : i+8 : len(b)])); m != 0 {
						i += swar.First(m)
						break
					}
					i += 8
				}
				for i < len(b) && b[i] != '"' && b[i] != '\\' {
					i++
				}
				if i >= len(b) {
					return i, false
				}
				if b[i] == '"' {
					break
				}
			}
		}
		i++
	}
	return i, false
}

// Classes of bytes for skimContainer: 0 is any other byte.
const (
	sOpen = 1 + iota
	sClose
	sQuote
)

var skimClass = [256]uint8{'{': sOpen, '[': sOpen, '}': sClose, ']': sClose, '"': sQuote}

// StringEnd returns the index after the closing quote of the JSON string
// whose text starts at i, just after its opening quote; false when the
// text is not one by RFC 8259 (a control byte, an unknown escape, no
// closing quote) or i is past b. For a reader that walks JSON its own way
// (the validator's scan) and must accept exactly what Valid does.
func StringEnd(b []byte, i int) (int, bool) {
	// most strings end in their first plain run: read it here, and leave
	// escapes, control bytes and the last few bytes to scanString, whose
	// general loop (UTF8 mode's high bytes too) cost the validator 390
	// instructions an event when StringEnd only called it
	for j := i; j+8 <= len(b); j += 8 {
		if m := swar.JSONStop(binary.LittleEndian.Uint64(b[j : j+8 : len(b)])); m != 0 {
			if j += swar.First(m); b[j] == '"' {
				return j + 1, true
			}
			return scanString(b, j, &plainClass, 0)
		}
	}
	return scanString(b, i, &plainClass, 0)
}

// NumberEnd returns the index after the JSON number that starts at i, where
// b[i] is '-' or a digit; false when no number of RFC 8259 starts there.
// What follows it is the caller's to check: "1x" is the number 1 and x.
func NumberEnd(b []byte, i int) (int, bool) {
	return scanNumber(b, i)
}

// inObject reports whether the container at depth is an object.
func inObject(top uint64, deep []uint64, depth int) bool {
	if depth <= 64 {
		return top&(1<<(depth-1)) != 0
	}
	d := depth - 65
	return deep[d>>6]&(1<<(d&63)) != 0
}

// setBit sets bit i of deep to on, growing deep to hold it.
func setBit(deep []uint64, i int, on bool) []uint64 {
	for len(deep) <= i>>6 {
		deep = append(deep, 0)
	}
	if on {
		deep[i>>6] |= 1 << (i & 63)
	} else {
		deep[i>>6] &^= 1 << (i & 63)
	}
	return deep
}

// skipWS returns the index of the first byte at or after i that is not
// JSON white space.
func skipWS(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
}

// shortString is scanString's first step, inlined into scan: it returns
// the index after the closing quote of a string that ends within the 8
// bytes from i with no control byte, backslash or byte from 0x80 before
// it, else 0 (scanString then reads it). Most keys and many values are that short, and a call
// costs scan the reload of every variable it keeps in registers.
func shortString(b []byte, i int) int {
	if i+8 <= len(b) {
		if m := swar.JSONStopOrHigh(binary.LittleEndian.Uint64(b[i : i+8 : len(b)])); m != 0 {
			if e := i + swar.First(m); b[e] == '"' {
				return e + 1
			}
		}
	}
	return 0
}

// scanString reads a string whose opening quote is before i; it returns
// the index after the closing quote.
func scanString(b []byte, i int, class *[256]uint8, high uint64) (int, bool) {
	for {
		// Eight plain bytes at a time (SWAR): no quote, backslash, control
		// character, nor (UTF8 mode) a byte of a multi-byte character.
		// A borrow only runs upwards from a flagged byte, so the lowest
		// flag is exact.
		for i+8 <= len(b) {
			// Not swar.Load: slicing to len(b) lets the compiler fold
			// the word's bound check into the loop's (a third of the
			// instructions of this loop), a form too costly for the
			// inlining budget of swar.Load's other callers.
			x := binary.LittleEndian.Uint64(b[i : i+8 : len(b)])
			if m := swar.JSONStop(x) | x&high; m != 0 {
				if i += swar.First(m); b[i] == '"' {
					return i + 1, true // most strings end in their first plain run
				}
				goto special
			}
			i += 8
		}
		for i < len(b) && class[b[i]] == cPlain {
			i++
		}
	special:
		if i >= len(b) {
			return i, false
		}
		switch class[b[i]] {
		case cQuote:
			return i + 1, true
		case cEscape:
			if i+1 >= len(b) {
				return i, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return i, false
				}
				i += 6
			default:
				return i, false
			}
		case cHigh:
			r, size := utf8.DecodeRune(b[i:])
			if size == 1 || r == 0xFFFE || r == 0xFFFF {
				return i, false
			}
			i += size
		default: // a control character
			return i, false
		}
	}
}

func isHex(c byte) bool {
	return c-'0' < 10 || (c|0x20)-'a' < 6
}

// scanNumber reads a number starting at i; it returns the index after it.
func scanNumber(b []byte, i int) (int, bool) {
	n := len(b)
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= n:
		return i, false
	case b[i] == '0':
		i++
	case b[i]-'1' < 9:
		for i++; i < n && b[i]-'0' < 10; i++ {
		}
	default:
		return i, false
	}
	if i < n && b[i] == '.' {
		j := i + 1
		for i = j; i < n && b[i]-'0' < 10; i++ {
		}
		if i == j {
			return i, false
		}
	}
	if i < n && (b[i]|0x20) == 'e' {
		i++
		if i < n && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := i
		for ; i < n && b[i]-'0' < 10; i++ {
		}
		if i == j {
			return i, false
		}
	}
	return i, true
}
