// Package record reads and writes the msgpack records of Fluent Bit chunks
// without building Go maps: a Record's Meta and Body are views (Map, Value)
// into the chunk, decoded on demand with tinylib/msgp's zero-copy readers.
//
// A chunk is a concatenation of records, each either
//
//	[[timestamp, metadata], body]   (Fluent Bit >= 2.0)
//	[timestamp, body]               (legacy)
//
// where metadata and body are maps and timestamp is an EventTime (ext 0,
// fixext8: big-endian uint32 seconds, uint32 nanoseconds) or a number of
// seconds. Records whose timestamp is -1 or -2 are group start/end markers;
// the Decoder skips and counts them.
package record

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// MaxDepth bounds how deeply containers (maps and arrays) may nest inside a
// record's metadata or body (the map itself is level 1). Deeper data is
// reported as an error instead of recursing without bound.
const MaxDepth = 1000

// Group marker timestamps (OpenTelemetry group start / end).
const (
	groupStart = -1
	groupEnd   = -2
)

// Record is one log record of a chunk. Slices alias the chunk (valid only as
// long as the chunk is).
type Record struct {
	// Time is the record timestamp, in UTC, from an EventTime (ext type 0)
	// or an int / uint / float number of seconds.
	Time time.Time
	// Meta is the metadata map; empty (len 0 slice) for the legacy
	// [ts, body] form.
	Meta Map
	// Body is the record body.
	Body Map
}

// Decoder walks the records of one chunk. It never copies the chunk: the
// Records it returns alias it. The zero value is an empty decoder; use
// Reset to point it at a chunk.
type Decoder struct {
	buf     []byte
	off     int   // bytes consumed
	index   int   // entries (records and markers) consumed
	markers int   // group markers skipped
	err     error // first error; sticky
}

// NewDecoder returns a Decoder over chunk.
func NewDecoder(chunk []byte) *Decoder {
	return &Decoder{buf: chunk}
}

// Reset points d at a new chunk and clears its state, so one Decoder can be
// reused for every chunk without allocating.
func (d *Decoder) Reset(chunk []byte) {
	*d = Decoder{buf: chunk}
}

// Err returns nil if decoding stopped at a clean end of the chunk (or has
// not stopped yet), otherwise a *DecodeError naming the entry index, the
// byte offset and what was wrong.
func (d *Decoder) Err() error { return d.err }

// Markers returns how many group markers have been skipped so far.
func (d *Decoder) Markers() int { return d.markers }

// Offset returns the number of bytes consumed: the end of the last record
// or marker decoded. After an error it is the start of the bad entry.
func (d *Decoder) Offset() int { return d.off }

// Next decodes the next record into r; false at end of chunk or on error
// (see Err). It reads both forms, [[ts, meta], body] (Fluent Bit >= 2.0)
// and [ts, body] (legacy, with r.Meta set empty). Group markers (timestamp
// -1 or -2 as an int, a float, or an EventTime whose seconds read as int32)
// are skipped and counted, never returned. Metadata and body must be maps,
// nested at most MaxDepth deep; their contents are checked to be
// well-formed msgpack but map keys are not type-checked here (Range does).
// Decoding stops at the first malformed record: msgpack cannot resync.
// After Next returns false it keeps returning false.
func (d *Decoder) Next(r *Record) bool {
	for d.err == nil && d.off < len(d.buf) {
		b := d.buf[d.off:]
		rest, marker, err := d.decodeEntry(b, r)
		if err != nil {
			d.err = err
			return false
		}
		d.off += len(b) - len(rest)
		d.index++
		if marker {
			d.markers++
			continue
		}
		return true
	}
	return false
}

// decodeEntry decodes one [header, body] entry at the start of b.
func (d *Decoder) decodeEntry(b []byte, r *Record) (rest []byte, marker bool, err error) {
	if msgp.NextType(b) != msgp.ArrayType {
		return nil, false, d.failf(b, b, "record", "not an array [header, body] but %s", typeName(b))
	}
	n, p, err := msgp.ReadArrayHeaderBytes(b)
	if err != nil {
		return nil, false, d.fail(b, b, "record", err)
	}
	if n != 2 {
		return nil, false, d.failf(b, b, "record", "array of %d elements, want 2 [header, body]", n)
	}
	var ts time.Time
	var meta Map
	if len(p) > 0 && msgp.NextType(p) == msgp.ArrayType {
		// [[ts, meta], body]
		hdr := p
		n, p, err = msgp.ReadArrayHeaderBytes(p)
		if err != nil {
			return nil, false, d.fail(b, hdr, "header", err)
		}
		if n != 2 {
			return nil, false, d.failf(b, hdr, "header", "array of %d elements, want 2 [timestamp, metadata]", n)
		}
		ts, marker, p, err = readTimestamp(p)
		if err != nil {
			return nil, false, d.fail(b, p, "timestamp", err)
		}
		start := p
		p, err = skipMap(p)
		if err != nil {
			return nil, false, d.fail(b, start, "metadata", err)
		}
		meta = Map(upTo(start, p))
	} else {
		// legacy [ts, body]
		ts, marker, p, err = readTimestamp(p)
		if err != nil {
			return nil, false, d.fail(b, p, "timestamp", err)
		}
	}
	start := p
	p, err = skipMap(p)
	if err != nil {
		return nil, false, d.fail(b, start, "body", err)
	}
	if !marker {
		r.Time = ts
		r.Meta = meta
		r.Body = Map(upTo(start, p))
	}
	return p, marker, nil
}

// DecodeError describes the first malformed entry of a chunk.
type DecodeError struct {
	Index  int    // index of the bad record in the chunk, from 0, group markers included
	Offset int    // byte offset of the bad record in the chunk
	At     int    // byte offset in the chunk where the problem was found
	What   string // the part that was wrong: "record", "header", "timestamp", "metadata", "body"
	Err    error  // the underlying problem
}

func (e *DecodeError) Error() string {
	if e.What == "record" {
		return fmt.Sprintf("record: record %d at offset %d: %v", e.Index, e.Offset, e.Err)
	}
	return fmt.Sprintf("record: record %d at offset %d: %s at offset %d: %v", e.Index, e.Offset, e.What, e.At, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// fail builds a DecodeError for the entry starting at entry; at is the
// remaining input where the problem was found.
func (d *Decoder) fail(entry, at []byte, what string, err error) error {
	return &DecodeError{
		Index:  d.index,
		Offset: d.off,
		At:     d.off + len(entry) - len(at),
		What:   what,
		Err:    describe(err),
	}
}

func (d *Decoder) failf(entry, at []byte, what, format string, args ...any) error {
	return d.fail(entry, at, what, fmt.Errorf(format, args...))
}

// Errors reported inside DecodeError (and by Map / Value methods).
var (
	// ErrTruncated: the data ends in the middle of a value.
	ErrTruncated = errors.New("truncated data")
	// ErrTooDeep: containers nest deeper than MaxDepth.
	ErrTooDeep = fmt.Errorf("nesting deeper than %d levels", MaxDepth)
	// ErrKeyType: a map key is not a str or bin.
	ErrKeyType = errors.New("map key is not a string")
)

// describe turns msgp's errors into ours where they mean the same thing.
func describe(err error) error {
	if errors.Is(err, msgp.ErrShortBytes) {
		return ErrTruncated
	}
	return err
}

// readTimestamp reads a record timestamp and reports whether it is a group
// marker (-1 or -2).
func readTimestamp(b []byte) (t time.Time, marker bool, rest []byte, err error) {
	// Fast path: EventTime as fixext8 type 0, what Fluent Bit writes.
	if len(b) >= 10 && b[0] == 0xd7 && b[1] == eventTimeExt {
		sec := be32(b[2:])
		if s := int32(sec); s == groupStart || s == groupEnd {
			return time.Time{}, true, b[10:], nil
		}
		return time.Unix(int64(sec), int64(be32(b[6:]))).UTC(), false, b[10:], nil
	}
	switch msgp.NextType(b) {
	case msgp.IntType:
		i, o, err := msgp.ReadInt64Bytes(b)
		if err != nil {
			return t, false, b, err
		}
		if i == groupStart || i == groupEnd {
			return t, true, o, nil
		}
		return time.Unix(i, 0).UTC(), false, o, nil
	case msgp.UintType:
		u, o, err := msgp.ReadUint64Bytes(b)
		if err != nil {
			return t, false, b, err
		}
		if u > math.MaxInt64 {
			return t, false, b, fmt.Errorf("%d seconds is out of range", u)
		}
		return time.Unix(int64(u), 0).UTC(), false, o, nil
	case msgp.Float32Type, msgp.Float64Type:
		f, o, err := msgp.ReadFloat64Bytes(b)
		if err != nil {
			return t, false, b, err
		}
		if f == groupStart || f == groupEnd {
			return t, true, o, nil
		}
		t, ok := floatTime(f)
		if !ok {
			return t, false, b, fmt.Errorf("%v seconds is out of range", f)
		}
		return t, false, o, nil
	case msgp.InvalidType:
		if len(b) == 0 {
			return t, false, b, ErrTruncated
		}
	default:
		if sec, nsec, o, ok, err := readEventTime(b); err != nil {
			return t, false, b, err
		} else if ok {
			if s := int32(sec); s == groupStart || s == groupEnd {
				return t, true, o, nil
			}
			return time.Unix(int64(sec), int64(nsec)).UTC(), false, o, nil
		}
	}
	return t, false, b, fmt.Errorf("want EventTime or number, found %s", typeName(b))
}

// readEventTime reads an EventTime written as fixext8 or ext8 (length 8),
// type 0. ok is false (with no error) if b holds some other value.
func readEventTime(b []byte) (sec, nsec uint32, rest []byte, ok bool, err error) {
	var data []byte
	switch {
	case len(b) >= 2 && b[0] == 0xd7 && b[1] == eventTimeExt: // fixext 8
		if len(b) < 10 {
			return 0, 0, b, false, ErrTruncated
		}
		data, rest = b[2:10], b[10:]
	case len(b) >= 3 && b[0] == 0xc7 && b[1] == 8 && b[2] == eventTimeExt: // ext 8, length 8
		if len(b) < 11 {
			return 0, 0, b, false, ErrTruncated
		}
		data, rest = b[3:11], b[11:]
	default:
		return 0, 0, b, false, nil
	}
	return be32(data), be32(data[4:]), rest, true, nil
}

// floatTime converts a float number of seconds to a time, rounding to the
// nearest nanosecond.
func floatTime(f float64) (time.Time, bool) {
	if math.IsNaN(f) || f < -(1<<62) || f > 1<<62 {
		return time.Time{}, false
	}
	sec := math.Floor(f)
	nsec := math.Round((f - sec) * 1e9)
	return time.Unix(int64(sec), int64(nsec)).UTC(), true
}

func be32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// typeName names the msgpack type at the start of b, for error messages.
func typeName(b []byte) string {
	if len(b) == 0 {
		return "end of data"
	}
	t := msgp.NextType(b)
	if t == msgp.InvalidType {
		return fmt.Sprintf("invalid byte 0x%02x", b[0])
	}
	return t.String()
}
