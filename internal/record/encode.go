package record

import (
	"encoding/binary"
	"time"

	"github.com/tinylib/msgp/msgp"
)

// eventTimeExt is Fluent Bit's EventTime: msgpack extension type 0 holding
// big-endian uint32 seconds then uint32 nanoseconds.
const eventTimeExt = 0

// AppendEventTime appends t as a Fluent Bit EventTime (fixext8, type 0).
func AppendEventTime(dst []byte, t time.Time) []byte {
	var b [10]byte
	b[0] = 0xd7 // fixext 8
	b[1] = eventTimeExt
	binary.BigEndian.PutUint32(b[2:6], uint32(t.Unix()))
	binary.BigEndian.PutUint32(b[6:10], uint32(t.Nanosecond()))
	return append(dst, b[:]...)
}

// AppendRecord appends one record in Fluent Bit's current (2.0+) form,
// [[timestamp, metadata], body]. meta and body are encoded msgpack maps;
// an empty meta is written as an empty map. The caller builds body with the
// msgp Append* functions (AppendMapHeader, AppendString, ...).
func AppendRecord(dst []byte, t time.Time, meta, body []byte) []byte {
	dst = append(dst, 0x92, 0x92) // fixarray(2) of fixarray(2)
	dst = AppendEventTime(dst, t)
	if len(meta) == 0 {
		dst = msgp.AppendMapHeader(dst, 0)
	} else {
		dst = append(dst, meta...)
	}
	return append(dst, body...)
}

// AppendStr appends s as a msgpack str, as msgp.AppendStringFromBytes
// does. The short strings that most values are (under 32 bytes) are
// written here when dst has room, without msgp's size switch and growth
// check.
func AppendStr(dst, s []byte) []byte {
	if n := len(dst); len(s) <= 31 && cap(dst)-n > 31 {
		dst = dst[:n+1+len(s)]
		dst[n] = 0xa0 | byte(len(s))
		copy(dst[n+1:], s)
		return dst
	}
	return msgp.AppendStringFromBytes(dst, s)
}
