package record

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// Map is one encoded msgpack map (exactly its bytes). A Map from a Decoder
// aliases the chunk. A zero-length Map is an empty map.
type Map []byte

// Value is one encoded msgpack value (exactly its bytes). A Value from a Map
// aliases the chunk. Accessors never panic: on malformed data they report
// false or an error.
type Value []byte

// Kind is the msgpack type of a Value.
type Kind uint8

// Kinds. They carry a Kind prefix because Map is already the name of the
// encoded-map type.
const (
	KindInvalid Kind = iota // empty or unknown first byte
	KindNil
	KindBool
	KindInt   // signed encodings and positive fixint
	KindUint  // unsigned encodings (uint8 .. uint64)
	KindFloat // float32 or float64
	KindStr
	KindBin
	KindArray
	KindMap
	KindExt // any extension, EventTime included
)

var kindNames = [...]string{"invalid", "nil", "bool", "int", "uint", "float", "str", "bin", "array", "map", "ext"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Len returns the number of entries of m, or 0 if m is empty or not a map.
func (m Map) Len() int {
	if len(m) == 0 {
		return 0
	}
	n, _, err := msgp.ReadMapHeaderBytes(m)
	if err != nil {
		return 0
	}
	return int(n)
}

// Range calls fn for every entry of m in order; key is the raw bytes of a
// str or bin key (zero-copy, aliasing m) and v the entry's value. It stops
// early, with a nil error, when fn returns false. A non-string key,
// truncated data or nesting deeper than MaxDepth is an error (entries
// before it were passed to fn).
func (m Map) Range(fn func(key []byte, v Value) bool) error { return m.rangeEntries(fn, true) }

// RangeDecoded is Range for a Map a Decoder cut (its Record's Body or
// Meta) or a map value inside one, whose bytes the Decoder has already
// walked to their end and found well formed within MaxDepth: it passes
// the last entry's value as the rest of m instead of walking it again.
// The value that is most of a record (a valid record's columns, written
// last) is then walked once per use rather than once more to find its end.
// On other bytes, it does not check the last value as Range does.
func (m Map) RangeDecoded(fn func(key []byte, v Value) bool) error { return m.rangeEntries(fn, false) }

func (m Map) rangeEntries(fn func(key []byte, v Value) bool, walkLast bool) error {
	if len(m) == 0 {
		return nil
	}
	var n uint32
	i := 1
	if c := m[0]; c&0xf0 == 0x80 { // fixmap, read here
		n = uint32(c & 0x0f)
	} else {
		h, p, err := msgp.ReadMapHeaderBytes(m)
		if err != nil {
			return fmt.Errorf("record: map: %w", describe(err))
		}
		n, i = h, len(m)-len(p)
	}
	for ; n > 0; n-- {
		var key []byte
		if i < len(m) && m[i]&0xe0 == 0xa0 && i+1+int(m[i]&0x1f) <= len(m) { // a fixstr key, read here
			e := i + 1 + int(m[i]&0x1f)
			key, i = m[i+1:e:e], e
		} else {
			k, p, err := readKey(m[i:])
			if err != nil {
				return fmt.Errorf("record: map key at offset %d: %w", i, err)
			}
			key, i = k, len(m)-len(p)
		}
		start := i
		switch {
		case n == 1 && !walkLast && i < len(m):
			i = len(m)
		case i < len(m) && scalarSize[m[i]] > 0 && i+int(scalarSize[m[i]]) <= len(m): // a scalar, skipped here
			i += int(scalarSize[m[i]])
		default:
			var err error
			if i, err = skipAt(m, i, 1); err != nil {
				return fmt.Errorf("record: map value at offset %d: %w", start, err)
			}
		}
		if !fn(key, Value(m[start:i:i])) {
			return nil
		}
	}
	return nil
}

// Get returns the value of the first entry whose key is key. It does not
// allocate. It reports false if there is none, or if the map is malformed
// before such an entry is found.
func (m Map) Get(key string) (Value, bool) {
	if len(m) == 0 {
		return nil, false
	}
	n, p, err := msgp.ReadMapHeaderBytes(m)
	if err != nil {
		return nil, false
	}
	for ; n > 0; n-- {
		var k []byte
		k, p, err = readKey(p)
		if err != nil {
			return nil, false
		}
		start := p
		p, err = skip(p, 1)
		if err != nil {
			return nil, false
		}
		if string(k) == key {
			return Value(upTo(start, p)), true
		}
	}
	return nil, false
}

// Kind returns the msgpack type of v, judged by its first byte.
func (v Value) Kind() Kind {
	if len(v) == 0 {
		return KindInvalid
	}
	return kindByLead[v[0]]
}

// kindByLead is the Kind of every msgpack first byte. msgp.NextType looks
// further only into extensions, to tell its own extension types apart;
// all of them are KindExt.
var kindByLead = func() (t [256]Kind) {
	for c := range 256 {
		t[c] = kindOfType(msgp.NextType([]byte{byte(c)}))
	}
	return t
}()

func kindOfType(t msgp.Type) Kind {
	switch t {
	case msgp.NilType:
		return KindNil
	case msgp.BoolType:
		return KindBool
	case msgp.IntType:
		return KindInt
	case msgp.UintType:
		return KindUint
	case msgp.Float32Type, msgp.Float64Type:
		return KindFloat
	case msgp.StrType:
		return KindStr
	case msgp.BinType:
		return KindBin
	case msgp.ArrayType:
		return KindArray
	case msgp.MapType:
		return KindMap
	case msgp.ExtensionType, msgp.TimeType, msgp.Complex64Type, msgp.Complex128Type:
		return KindExt
	}
	return KindInvalid
}

// Str returns the bytes of a str or bin value, zero-copy (aliasing v).
func (v Value) Str() ([]byte, bool) {
	if len(v) > 0 && v[0]&0xe0 == 0xa0 && 1+int(v[0]&0x1f) <= len(v) { // a fixstr, read inline
		n := 1 + int(v[0]&0x1f)
		return v[1:n:n], true
	}
	s, _, err := readStr(v)
	return s, err == nil
}

// Int returns an int value, or a uint value that fits in an int64.
func (v Value) Int() (int64, bool) {
	if len(v) > 0 && (v[0] <= 0x7f || v[0] >= 0xe0) { // a fixint, read inline
		return int64(int8(v[0])), true // positive and negative fixints alike
	}
	i, _, err := msgp.ReadInt64Bytes(v)
	return i, err == nil
}

// Uint returns a uint value, or a non-negative int value.
func (v Value) Uint() (uint64, bool) {
	u, _, err := msgp.ReadUint64Bytes(v)
	return u, err == nil
}

// Float returns a float32 or float64 value, or an integer as a float64.
func (v Value) Float() (float64, bool) {
	switch msgp.NextType(v) {
	case msgp.Float32Type, msgp.Float64Type:
		f, _, err := msgp.ReadFloat64Bytes(v)
		return f, err == nil
	case msgp.IntType:
		i, _, err := msgp.ReadInt64Bytes(v)
		return float64(i), err == nil
	case msgp.UintType:
		u, _, err := msgp.ReadUint64Bytes(v)
		return float64(u), err == nil
	}
	return 0, false
}

// Bool returns a bool value.
func (v Value) Bool() (bool, bool) {
	b, _, err := msgp.ReadBoolBytes(v)
	return b, err == nil
}

// IsNil reports whether v is msgpack nil.
func (v Value) IsNil() bool { return msgp.IsNil(v) }

// Map returns v as a Map if it is a map. Its entries are checked only when
// read (Range, Get, AppendJSON).
func (v Value) Map() (Map, bool) {
	if msgp.NextType(v) != msgp.MapType {
		return nil, false
	}
	return Map(v), true
}

// Array calls fn for every element of an array value in order; it stops
// early, with a nil error, when fn returns false. It is an error if v is
// not an array or is malformed.
func (v Value) Array(fn func(i int, e Value) bool) error {
	n, p, err := msgp.ReadArrayHeaderBytes(v)
	if err != nil {
		return fmt.Errorf("record: array: %w", describe(err))
	}
	for i := 0; i < int(n); i++ {
		start := p
		p, err = skip(p, 1)
		if err != nil {
			return fmt.Errorf("record: array element %d at offset %d: %w", i, len(v)-len(start), err)
		}
		if !fn(i, Value(upTo(start, p))) {
			return nil
		}
	}
	return nil
}

// Time returns an EventTime (ext type 0) or a number of seconds (int, uint
// or float) as a UTC time.
func (v Value) Time() (time.Time, bool) {
	switch msgp.NextType(v) {
	case msgp.IntType:
		i, _, err := msgp.ReadInt64Bytes(v)
		return time.Unix(i, 0).UTC(), err == nil
	case msgp.UintType:
		u, _, err := msgp.ReadUint64Bytes(v)
		if err != nil || u > math.MaxInt64 {
			return time.Time{}, false
		}
		return time.Unix(int64(u), 0).UTC(), true
	case msgp.Float32Type, msgp.Float64Type:
		f, _, err := msgp.ReadFloat64Bytes(v)
		if err != nil {
			return time.Time{}, false
		}
		return floatTime(f)
	}
	sec, nsec, _, ok, err := readEventTime(v)
	if !ok || err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(sec), int64(nsec)).UTC(), true
}

// SplitScalar splits off the value at the start of b when it is a scalar
// (nil, bool, int, uint, float, str or bin; not a map, an array or an
// extension): it returns the value and the bytes after it, zero-copy. ok
// is false for any other value and for a cut one.
func SplitScalar(b []byte) (v Value, rest []byte, ok bool) {
	if len(b) == 0 {
		return nil, b, false
	}
	if l := int(scalarSize[b[0]]); l > 0 {
		if l > len(b) {
			return nil, b, false
		}
		return Value(b[:l:l]), b[l:], true
	}
	_, rest, err := readStr(b)
	if err != nil {
		return nil, b, false
	}
	return Value(upTo(b, rest)), rest, true
}

// readStr reads a str or bin, zero-copy. (The lead-byte test only picks
// which msgp reader to call; they do the decoding.)
func readStr(b []byte) ([]byte, []byte, error) {
	if len(b) > 0 {
		// fixstr and str 8 (short strings and uuids) are read here; the
		// other forms, and every cut string, go to msgp and its errors.
		switch c := b[0]; {
		case c&0xe0 == 0xa0 && 1+int(c&0x1f) <= len(b):
			n := 1 + int(c&0x1f)
			return b[1:n:n], b[n:], nil
		case c == 0xd9 && len(b) >= 2 && 2+int(b[1]) <= len(b):
			n := 2 + int(b[1])
			return b[2:n:n], b[n:], nil
		case c&0xe0 == 0xa0 || c == 0xd9 || c == 0xda || c == 0xdb: // fixstr, str 8/16/32
			s, o, err := msgp.ReadStringZC(b)
			return s[:len(s):len(s)], o, err // capacity cut: appending must not write into the chunk
		case c == 0xc4 || c == 0xc5 || c == 0xc6: // bin 8/16/32
			s, o, err := msgp.ReadBytesZC(b)
			return s[:len(s):len(s)], o, err
		}
	}
	return nil, b, errNotStr
}

var errNotStr = errors.New("not a str or bin")

// readKey reads a map key, which must be a str or bin.
func readKey(b []byte) ([]byte, []byte, error) {
	k, o, err := readStr(b)
	if err != nil {
		if err == errNotStr {
			if len(b) == 0 {
				return nil, b, ErrTruncated
			}
			return nil, b, keyTypeError(b)
		}
		return nil, b, describe(err)
	}
	return k, o, nil
}

func keyTypeError(b []byte) error {
	return fmt.Errorf("%w (found %s)", ErrKeyType, typeName(b))
}

// skipMap skips one map at the start of b (depth 1), checking everything
// inside it.
func skipMap(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return b, ErrTruncated
	}
	if msgp.NextType(b) != msgp.MapType {
		return b, fmt.Errorf("want map, found %s", typeName(b))
	}
	return skip(b, 0)
}

// skip returns b after the one value at its start, which sits at nesting
// depth depth. msgp.Skip would do, but it allows 100,000 levels of
// recursion; this bounds nesting at MaxDepth.
func skip(b []byte, depth int) ([]byte, error) {
	i, err := skipAt(b, 0, depth)
	if err != nil {
		return b, err
	}
	return b[i:], nil
}

// skipAt returns the index after the value at b[i:]. It has fast paths
// for the one-byte-header encodings that make up most records (fixint,
// fixstr, fixmap, fixarray) and leaves every other encoding to msgp. It
// walks an index rather than a slice: one register per step instead of
// three, the most-run loop of every chunk decoded.
func skipAt(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return i, ErrTruncated
	}
	c := b[i]
	if l := int(scalarSize[c]); l > 0 {
		if i+l > len(b) {
			return i, ErrTruncated
		}
		return i + l, nil
	}
	var n uint64
	switch {
	case c <= 0x8f: // fixmap
		n, i = 2*uint64(c&0x0f), i+1
	case c <= 0x9f: // fixarray
		n, i = uint64(c&0x0f), i+1
	case c == 0xde || c == 0xdf: // map 16/32
		m, o, err := msgp.ReadMapHeaderBytes(b[i:])
		if err != nil {
			return i, describe(err)
		}
		n, i = 2*uint64(m), len(b)-len(o)
	case c == 0xdc || c == 0xdd: // array 16/32
		m, o, err := msgp.ReadArrayHeaderBytes(b[i:])
		if err != nil {
			return i, describe(err)
		}
		n, i = uint64(m), len(b)-len(o)
	case c == 0xd9 || c == 0xc4: // str 8, bin 8 (a uuid)
		if i+2 > len(b) || i+2+int(b[i+1]) > len(b) {
			return i, ErrTruncated
		}
		return i + 2 + int(b[i+1]), nil
	default: // other scalars: msgp.Skip does not recurse for them
		o, err := msgp.Skip(b[i:])
		if err != nil {
			return i, describe(err)
		}
		return len(b) - len(o), nil
	}
	depth++
	if depth > MaxDepth {
		return i, ErrTooDeep
	}
	for ; n > 0; n-- {
		if i >= len(b) {
			return i, ErrTruncated
		}
		// Most elements are scalars: skipped here, without a call. A
		// step past the end is caught by the next element's test or the
		// last one below.
		c := b[i]
		if l := int(scalarSize[c]); l > 0 {
			i += l
			continue
		}
		if c == 0xd9 && i+1 < len(b) { // str 8: uuids, JSON text
			i += 2 + int(b[i+1])
			continue
		}
		var err error
		if i, err = skipAt(b, i, depth); err != nil {
			return i, err
		}
	}
	if i > len(b) {
		return i, ErrTruncated
	}
	return i, nil
}

// scalarSize is the whole size of the msgpack values whose first byte
// alone tells it (0: another kind): fixint, fixstr, and the fixed-size
// nil, bool, float, int and uint of a validated record's scalars.
var scalarSize = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c <= 0x7f || c >= 0xe0: // positive / negative fixint
			t[c] = 1
		case c >= 0xa0 && c <= 0xbf: // fixstr
			t[c] = 1 + uint8(c&0x1f)
		case c >= 0xc0 && c <= 0xdf:
			t[c] = fixedSize[c-0xc0]
		}
	}
	return t
}()

// fixedSize is the whole size of the msgpack values of a fixed size whose
// first byte is 0xc0 + i (0: not one).
var fixedSize = [32]uint8{
	0x00: 1,          // nil
	0x02: 1, 0x03: 1, // false, true
	0x0a: 5, 0x0b: 9, // float 32, 64
	0x0c: 2, 0x0d: 3, 0x0e: 5, 0x0f: 9, // uint 8-64
	0x10: 2, 0x11: 3, 0x12: 5, 0x13: 9, // int 8-64
}

// upTo returns the bytes of from before rest (rest is a suffix of from),
// with the capacity cut so that appending to the result cannot overwrite
// the chunk.
func upTo(from, rest []byte) []byte {
	n := len(from) - len(rest)
	return from[:n:n]
}
