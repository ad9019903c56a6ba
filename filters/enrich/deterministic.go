package enrich

import (
	"encoding/binary"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/plugins/record"
)

// DeterministicUUID returns a UUIDv7 for the index-th event of a batch
// identified by seed (e.g. a hash of a Fluent Bit chunk and its tag), so
// that enriching the same batch again yields the same UUIDs. The layout is
// the generator's (see uuid.go): the 48-bit millisecond timestamp of t, a
// 30-bit counter that starts at a seed-derived value below 2^29 and adds
// index (distinct and increasing within one seed for up to 2^29 events), and
// 44 bits mixed from the seed and the index.
func DeterministicUUID(t time.Time, seed [32]byte, index int) [16]byte {
	var u [16]byte
	ms := t.UnixMilli()
	c := (binary.BigEndian.Uint32(seed[0:4])>>(32-counterBits+1) + uint32(index)) & counterMax
	r := splitmix64(binary.BigEndian.Uint64(seed[8:16]) ^ binary.BigEndian.Uint64(seed[16:24]) ^ uint64(index)*0x9e3779b97f4a7c15)
	u[0] = byte(ms >> 40)
	u[1] = byte(ms >> 32)
	u[2] = byte(ms >> 24)
	u[3] = byte(ms >> 16)
	u[4] = byte(ms >> 8)
	u[5] = byte(ms)
	u[6] = 0x70 | byte(c>>26)&0x0f
	u[7] = byte(c >> 18)
	u[8] = 0x80 | byte(c>>12)&0x3f
	u[9] = byte(c >> 4)
	u[10] = byte(c&0x0f)<<4 | byte(r>>40)&0x0f
	u[11] = byte(r >> 32)
	u[12] = byte(r >> 24)
	u[13] = byte(r >> 16)
	u[14] = byte(r >> 8)
	u[15] = byte(r)
	return u
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// FormatUUID returns u in its canonical 36-character form.
func FormatUUID(u [16]byte) string {
	var b [36]byte
	formatUUID(&b, &u)
	return string(b[:])
}

// AppendRecordUUID is AppendRecord with the caller's UUID instead of one
// from an Enricher: the same record bytes, for callers that must produce
// the same record again (an output enriching a chunk that may be retried).
func AppendRecordUUID(dst []byte, key Key, event []byte, received time.Time, uuid [16]byte) []byte {
	var us [36]byte
	var ts [24]byte
	formatUUID(&us, &uuid)
	formatFiredTS(&ts, received)
	dst = record.AppendRecord(dst, received, nil, nil)
	dst = msgp.AppendMapHeader(dst, bodyFields)
	dst = msgp.AppendString(dst, FieldUUID)
	dst = msgp.AppendStringFromBytes(dst, us[:])
	dst = msgp.AppendString(dst, FieldFiredTS)
	dst = msgp.AppendStringFromBytes(dst, ts[:])
	dst = msgp.AppendString(dst, FieldGame)
	dst = msgp.AppendString(dst, key.Game)
	dst = msgp.AppendString(dst, FieldVersion)
	dst = msgp.AppendString(dst, key.Version)
	dst = msgp.AppendString(dst, FieldEvent)
	dst = msgp.AppendString(dst, key.Event)
	dst = msgp.AppendString(dst, FieldBody)
	return msgp.AppendStringFromBytes(dst, event)
}
