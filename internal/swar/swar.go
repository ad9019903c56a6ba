// Package swar reads 8 bytes at a time as one word ("SIMD within a
// register"), for the scans that look for a few special bytes in long runs
// of ordinary ones: JSON string ends, COPY text escapes.
//
// Each test returns a mask with the high bit (0x80) set in the first byte
// of the word that matches and in no byte before it; bytes after the
// first match may be flagged falsely. First turns a mask into that byte's
// index. Words are little-endian: the byte at the lowest address is the
// lowest byte of the word.
package swar

import (
	"encoding/binary"
	"math/bits"
)

const (
	// Ones has 0x01 in every byte; Ones*uint64(c) has c in every byte.
	Ones = 0x0101010101010101
	// Highs has 0x80 in every byte.
	Highs = 0x8080808080808080
)

// Load is the word of b[i:i+8].
func Load(b []byte, i int) uint64 { return binary.LittleEndian.Uint64(b[i:]) }

// Zero flags the bytes of w that are 0.
func Zero(w uint64) uint64 { return (w - Ones) &^ w & Highs }

// Equal flags the bytes of w that are c.
func Equal(w uint64, c byte) uint64 { return Zero(w ^ Ones*uint64(c)) }

// Less flags the bytes of w below n, which must be at most 0x80.
func Less(w uint64, n byte) uint64 { return (w - Ones*uint64(n)) &^ w & Highs }

// BelowOr flags the bytes of w below n or equal to c: Less(w, n) |
// Equal(w, c) with their masks shared, for n at most 0x80 and c below it.
func BelowOr(w uint64, n, c byte) uint64 {
	return ((w - Ones*uint64(n)) | ((w ^ Ones*uint64(c)) - Ones)) &^ w & Highs
}

// Quote flags the bytes of w that are '"' or '\\', the bytes that can end
// a JSON string or hide its end: the two tests of Equal sharing their
// masks. Each subtraction borrows out of a byte below 0x80 exactly when
// it is the byte looked for, and &^w keeps only the bytes below 0x80.
func Quote(w uint64) uint64 {
	return (((w ^ Ones*'"') - Ones) | ((w ^ Ones*'\\') - Ones)) &^ w & Highs
}

// JSONStop flags the bytes of w that stop a plain run of a JSON string: a
// quote, a backslash or a control character (below 0x20). It is
// Less(w, 0x20) | Quote(w) with their masks shared.
func JSONStop(w uint64) uint64 {
	return ((w - Ones*0x20) | ((w ^ Ones*'"') - Ones) | ((w ^ Ones*'\\') - Ones)) &^ w & Highs
}

// JSONStopOrHigh is JSONStop(w) | w&Highs: it also flags every byte from
// 0x80 (a byte of a multi-byte UTF-8 character, which a check of UTF-8
// must look at), and costs less than the two: (a &^ w) | w is a | w.
func JSONStopOrHigh(w uint64) uint64 {
	return ((w - Ones*0x20) | ((w ^ Ones*'"') - Ones) | ((w ^ Ones*'\\') - Ones) | w) & Highs
}

// First is the index (0-7) of the first flagged byte of a mask that is
// not 0.
func First(mask uint64) int { return bits.TrailingZeros64(mask) >> 3 }

// ASCII reports whether every byte of b is below 0x80, reading b as whole
// words (the last one overlapping the one before it) rather than byte by
// byte: most text a pipeline checks for UTF-8 is ASCII, and short.
func ASCII(b []byte) bool {
	n := len(b)
	var x uint64
	switch {
	case n >= 8:
		for i := 0; i+8 <= n; i += 8 {
			x |= binary.LittleEndian.Uint64(b[i : i+8 : n]) // the loop's bound check covers it
		}
		x |= Load(b, n-8)
	case n >= 4:
		x = uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))
	case n >= 2:
		x = uint64(binary.LittleEndian.Uint16(b)) | uint64(binary.LittleEndian.Uint16(b[n-2:]))
	case n == 1:
		x = uint64(b[0])
	}
	return x&Highs == 0
}
