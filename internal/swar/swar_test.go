package swar

import (
	"encoding/binary"
	"testing"
)

// byByte is what each test must flag first: the index of the first byte
// of w for which match holds, or 8.
func byByte(w uint64, match func(byte) bool) int {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], w)
	for i, c := range b {
		if match(c) {
			return i
		}
	}
	return 8
}

func firstOr8(mask uint64) int {
	if mask == 0 {
		return 8
	}
	return First(mask)
}

// Every test finds the first matching byte of a word exactly, and reports
// none only when there is none, for the bytes around each boundary.
func FuzzTestsMatchByteByByte(f *testing.F) {
	f.Add([]byte("abcdefgh"), byte('"'), byte(0x20))
	f.Add([]byte{0, 1, 0x80, 0xff, '\\', '\t', '\n', '\r'}, byte('\\'), byte('\r'+1))
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0}, byte(0), byte(0x80))
	f.Fuzz(func(t *testing.T, b []byte, c, n byte) {
		if len(b) < 8 {
			return
		}
		n = n%0x80 + 1 // 1..0x80
		w := Load(b, 0)
		if got, want := firstOr8(Zero(w)), byByte(w, func(x byte) bool { return x == 0 }); got != want {
			t.Errorf("Zero(%016x): first %d, want %d", w, got, want)
		}
		if got, want := firstOr8(Equal(w, c)), byByte(w, func(x byte) bool { return x == c }); got != want {
			t.Errorf("Equal(%016x, %#x): first %d, want %d", w, c, got, want)
		}
		if got, want := firstOr8(Less(w, n)), byByte(w, func(x byte) bool { return x < n }); got != want {
			t.Errorf("Less(%016x, %#x): first %d, want %d", w, n, got, want)
		}
		checkStringTests(t, w)
		if c < 0x80 {
			if got, want := firstOr8(BelowOr(w, n, c)), byByte(w, func(x byte) bool { return x < n || x == c }); got != want {
				t.Errorf("BelowOr(%016x, %#x, %#x): first %d, want %d", w, n, c, got, want)
			}
		}
	})
}

// The tests above, on every byte value in every position of a word of
// other bytes that do or do not match.
func TestEveryByteInEveryPosition(t *testing.T) {
	for _, fill := range []byte{0, 1, 'a', '\\', 0x7f, 0x80, 0xff} {
		for pos := 0; pos < 8; pos++ {
			for c := 0; c < 256; c++ {
				var b [8]byte
				for i := range b {
					b[i] = fill
				}
				b[pos] = byte(c)
				w := binary.LittleEndian.Uint64(b[:])
				for _, n := range []byte{1, 0x0e, 0x20, 0x80} {
					if got, want := firstOr8(Less(w, n)), byByte(w, func(x byte) bool { return x < n }); got != want {
						t.Fatalf("Less(% x, %#x): first %d, want %d", b, n, got, want)
					}
				}
				checkStringTests(t, w)
				for _, n := range []byte{1, 0x0e, 0x20, 0x80} {
					for _, e := range []byte{0, '"', '\\', 0x7f} {
						if got, want := firstOr8(BelowOr(w, n, e)), byByte(w, func(x byte) bool { return x < n || x == e }); got != want {
							t.Fatalf("BelowOr(% x, %#x, %#x): first %d, want %d", b, n, e, got, want)
						}
					}
				}
				for _, e := range []byte{0, '"', '\\', 0xff} {
					if got, want := firstOr8(Equal(w, e)), byByte(w, func(x byte) bool { return x == e }); got != want {
						t.Fatalf("Equal(% x, %#x): first %d, want %d", b, e, got, want)
					}
				}
			}
		}
	}
}

// checkStringTests checks Quote, JSONStop and JSONStopOrHigh on w.
func checkStringTests(t *testing.T, w uint64) {
	t.Helper()
	if got, want := firstOr8(Quote(w)), byByte(w, func(x byte) bool { return x == '"' || x == '\\' }); got != want {
		t.Fatalf("Quote(%016x): first %d, want %d", w, got, want)
	}
	if got, want := firstOr8(JSONStop(w)), byByte(w, func(x byte) bool { return x < 0x20 || x == '"' || x == '\\' }); got != want {
		t.Fatalf("JSONStop(%016x): first %d, want %d", w, got, want)
	}
	if got, want := firstOr8(JSONStopOrHigh(w)), byByte(w, func(x byte) bool { return x < 0x20 || x == '"' || x == '\\' || x >= 0x80 }); got != want {
		t.Fatalf("JSONStopOrHigh(%016x): first %d, want %d", w, got, want)
	}
}

// ASCII finds a byte of 0x80 or more at any place in any length.
func TestASCII(t *testing.T) {
	for n := 0; n <= 33; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = 'a' + byte(i%26)
		}
		if !ASCII(b) {
			t.Fatalf("ASCII(%q) = false", b)
		}
		for pos := 0; pos < n; pos++ {
			for _, c := range []byte{0x80, 0xc3, 0xff} {
				b[pos] = c
				if ASCII(b) {
					t.Fatalf("ASCII(% x) = true", b)
				}
				b[pos] = 0x7f
				if !ASCII(b) {
					t.Fatalf("ASCII(% x) = false", b)
				}
				b[pos] = 'a'
			}
		}
	}
}

func FuzzASCII(f *testing.F) {
	f.Add([]byte("plain"))
	f.Add([]byte("caf\xc3\xa9 au lait, s'il vous pla\xc3\xaet"))
	f.Fuzz(func(t *testing.T, b []byte) {
		want := true
		for _, c := range b {
			want = want && c < 0x80
		}
		if got := ASCII(b); got != want {
			t.Fatalf("ASCII(% x) = %v, want %v", b, got, want)
		}
	})
}
