package enrich

import (
	"crypto/rand"
	"sync"
	"time"
)

// UUIDv7 layout used here (RFC 9562 §5.7, counter per §6.2 method 1):
//
//	bits  0-47  unix_ts_ms: the receipt time in milliseconds
//	bits 48-51  version 7
//	bits 52-63  counter, high 12 bits          (rand_a)
//	bits 64-65  variant 0b10
//	bits 66-83  counter, low 18 bits           (rand_b, high part)
//	bits 84-127 44 random bits                 (rand_b, low part)
//
// The 30-bit counter starts at a random value below 2^29 whenever the
// millisecond changes and grows by one per UUID within it, so the UUIDs of one
// generator are strictly increasing, and the timestamp stays the receipt
// millisecond even for a burst of a million events in one millisecond.
const (
	counterBits = 30
	counterMax  = 1<<counterBits - 1
	randPool    = 512 // bytes of crypto/rand read at a time
)

// v7gen generates UUIDv7s for given times. The zero value is ready; it is
// safe for concurrent use.
type v7gen struct {
	mu      sync.Mutex
	lastMs  int64
	counter uint32
	pool    [randPool]byte
	left    int // unread bytes at the end of pool
}

// randLocked returns n fresh random bytes from the pool; g.mu is held.
func (g *v7gen) randLocked(n int) []byte {
	if g.left < n {
		// crypto/rand.Read never fails on Go 1.24 and later.
		_, _ = rand.Read(g.pool[:])
		g.left = randPool
	}
	b := g.pool[randPool-g.left : randPool-g.left+n]
	g.left -= n
	return b
}

// next writes a new UUIDv7 for time t into u.
func (g *v7gen) next(t time.Time, u *[16]byte) {
	ms := t.UnixMilli()
	g.mu.Lock()
	switch {
	case ms > g.lastMs:
		g.lastMs = ms
		r := g.randLocked(4)
		g.counter = (uint32(r[0])<<24 | uint32(r[1])<<16 | uint32(r[2])<<8 | uint32(r[3])) >> (32 - counterBits + 1)
	case g.counter < counterMax:
		// Same millisecond, or the clock went back: stay on the last
		// millisecond and count on, keeping the order.
		ms = g.lastMs
		g.counter++
	default:
		// Counter exhausted (2^29 UUIDs in one millisecond): borrow the next.
		g.lastMs++
		ms = g.lastMs
		r := g.randLocked(4)
		g.counter = (uint32(r[0])<<24 | uint32(r[1])<<16 | uint32(r[2])<<8 | uint32(r[3])) >> (32 - counterBits + 1)
	}
	c := g.counter
	r := g.randLocked(6)
	rnd := uint64(r[0]&0x0f)<<40 | uint64(r[1])<<32 | uint64(r[2])<<24 | uint64(r[3])<<16 | uint64(r[4])<<8 | uint64(r[5])
	g.mu.Unlock()
	putV7(u, ms, c, rnd)
}

// putV7 lays out a UUIDv7 from its millisecond timestamp, 30-bit counter
// and 44 random bits (the low 44 bits of rnd), as described above.
func putV7(u *[16]byte, ms int64, c uint32, rnd uint64) {
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
	u[10] = byte(c&0x0f)<<4 | byte(rnd>>40)&0x0f
	u[11] = byte(rnd >> 32)
	u[12] = byte(rnd >> 24)
	u[13] = byte(rnd >> 16)
	u[14] = byte(rnd >> 8)
	u[15] = byte(rnd)
}

const hexDigits = "0123456789abcdef"

// formatUUID writes u in its canonical 36-character form.
func formatUUID(dst *[36]byte, u *[16]byte) {
	j := 0
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst[j] = '-'
			j++
		}
		dst[j] = hexDigits[b>>4]
		dst[j+1] = hexDigits[b&0x0f]
		j += 2
	}
}
