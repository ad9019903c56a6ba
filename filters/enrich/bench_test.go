package enrich

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// BenchmarkUUID compares ways to get the canonical text of a UUIDv7. The
// formatting is the same (formatUUID) in every case; uuid.UUID.String would
// add an allocation.
func BenchmarkUUID(b *testing.B) {
	var s [36]byte
	b.Run("google-NewV7", func(b *testing.B) {
		for b.Loop() {
			u, err := uuid.NewV7()
			if err != nil {
				b.Fatal(err)
			}
			formatUUID(&s, (*[16]byte)(&u))
		}
	})
	b.Run("google-NewV7-RandPool", func(b *testing.B) {
		uuid.EnableRandPool() // process-wide; undone below
		defer uuid.DisableRandPool()
		for b.Loop() {
			u, err := uuid.NewV7()
			if err != nil {
				b.Fatal(err)
			}
			formatUUID(&s, (*[16]byte)(&u))
		}
	})
	b.Run("enrich-v7gen", func(b *testing.B) {
		var g v7gen
		var u [16]byte
		for b.Loop() {
			g.next(time.Now(), &u)
			formatUUID(&s, &u)
		}
	})
	b.Run("enrich-v7gen-parallel", func(b *testing.B) {
		var g v7gen
		b.RunParallel(func(pb *testing.PB) {
			var u [16]byte
			var s [36]byte
			for pb.Next() {
				g.next(time.Now(), &u)
				formatUUID(&s, &u)
			}
		})
	})
	b.Run("google-NewV7-RandPool-parallel", func(b *testing.B) {
		uuid.EnableRandPool()
		defer uuid.DisableRandPool()
		b.RunParallel(func(pb *testing.PB) {
			var s [36]byte
			for pb.Next() {
				u, _ := uuid.NewV7()
				formatUUID(&s, (*[16]byte)(&u))
			}
		})
	})
}

func BenchmarkAppendRecord(b *testing.B) {
	var e Enricher
	ev := []byte(`{"player_id":"p-12345678","session_id":"s-abcdef","level":17,"score":123456,"items":["sword","shield"],"ts":1790000000123}`)
	key := Key{"space-race", "1.4.2", "level_up"}
	buf := make([]byte, 0, 4096)
	b.SetBytes(int64(len(ev)))
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendRecord(buf[:0], key, ev, time.Now())
	}
}
