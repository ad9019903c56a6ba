package enrich

import (
	"encoding/binary"
	"time"
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
	c := (binary.BigEndian.Uint32(seed[0:4])>>(32-counterBits+1) + uint32(index)) & counterMax
	r := splitmix64(binary.BigEndian.Uint64(seed[8:16]) ^ binary.BigEndian.Uint64(seed[16:24]) ^ uint64(index)*0x9e3779b97f4a7c15)
	putV7(&u, t.UnixMilli(), c, r)
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

// AppendUUID appends u in its canonical 36-character form (FormatUUID
// without the allocation).
func AppendUUID(dst []byte, u [16]byte) []byte {
	var b [36]byte
	formatUUID(&b, &u)
	return append(dst, b[:]...)
}

// AppendRecordUUID is AppendRecord with the caller's UUID instead of one
// from an Enricher: the same record bytes, for callers that must produce
// the same record again (an output enriching a chunk that may be retried).
func AppendRecordUUID(dst []byte, key Key, event []byte, received time.Time, uuid [16]byte) []byte {
	return appendRecord(dst, key, event, received, &uuid)
}
