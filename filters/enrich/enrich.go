package enrich

import (
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/fieldname"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/timefmt"
)

// Enricher builds records per the package's record contract. The zero value
// is ready to use and is safe for concurrent use; the UUIDs of one Enricher
// are strictly increasing, so share one per plugin instance.
type Enricher struct {
	ids v7gen
}

// bodyFields is the number of keys in a record body.
const bodyFields = 6

// AppendRecord appends one complete record for event (one JSON object, kept
// byte for byte) to dst and returns the extended slice. key must be valid
// (Key.Validate); received is the receipt time, used for the record time,
// fired_ts and the UUID's timestamp. It allocates nothing when dst has room.
func (e *Enricher) AppendRecord(dst []byte, key Key, event []byte, received time.Time) []byte {
	var u [16]byte
	e.ids.next(received, &u)
	return appendRecord(dst, key, event, received, &u)
}

func appendRecord(dst []byte, key Key, event []byte, received time.Time, u *[16]byte) []byte {
	var us [36]byte
	var ts [24]byte
	formatUUID(&us, u)
	formatFiredTS(&ts, received)

	// record.AppendRecord copies the body map after the header; appending the
	// map straight onto dst instead gives the same bytes without the copy
	// (a test holds the two equal).
	dst = record.AppendRecord(dst, received, nil, nil)
	dst = msgp.AppendMapHeader(dst, bodyFields)
	dst = msgp.AppendString(dst, fieldname.UUID)
	dst = msgp.AppendStringFromBytes(dst, us[:])
	dst = msgp.AppendString(dst, fieldname.FiredTS)
	dst = msgp.AppendStringFromBytes(dst, ts[:])
	dst = msgp.AppendString(dst, fieldname.Game)
	dst = msgp.AppendString(dst, key.Game)
	dst = msgp.AppendString(dst, fieldname.Version)
	dst = msgp.AppendString(dst, key.Version)
	dst = msgp.AppendString(dst, fieldname.Event)
	dst = msgp.AppendString(dst, key.Event)
	dst = msgp.AppendString(dst, fieldname.Body)
	return msgp.AppendStringFromBytes(dst, event)
}

// RecordOverhead is an upper bound of the bytes a record adds to its event
// bytes, for sizing buffers: 13 for [[EventTime, {}], 1 for the map header, 38
// for the six field names, 38 + 25 for uuid and fired_ts, 3 × 130 for the
// longest key and 5 for body's string header.
const RecordOverhead = 13 + 1 + 38 + 38 + 25 + 3*(2+MaxKeyPartBytes) + 5

// FiredTS formats t as a fired_ts value: UTC, RFC 3339, milliseconds.
func FiredTS(t time.Time) string {
	var b [24]byte
	formatFiredTS(&b, t)
	return string(b[:])
}

// AppendFiredTS appends t as a fired_ts value (FiredTS without the
// allocation).
func AppendFiredTS(dst []byte, t time.Time) []byte {
	var b [24]byte
	formatFiredTS(&b, t)
	return append(dst, b[:]...)
}

// formatFiredTS writes t as YYYY-MM-DDTHH:MM:SS.mmmZ (UTC, milliseconds
// truncated). Years outside 0-9999 are clamped; receipt times never are.
func formatFiredTS(b *[24]byte, t time.Time) {
	timefmt.PutDateTime(b[:19], t)
	ms := t.Nanosecond() / 1e6
	b[19] = '.'
	b[20] = byte('0' + ms/100)
	timefmt.Put2(b[21:23], ms%100)
	b[23] = 'Z'
}
