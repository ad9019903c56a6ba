package validate

import (
	"crypto/sha256"
	"encoding/hex"
	"unicode/utf8"

	"github.com/whirlpool-events/whirlpool/internal/props"
)

// DefaultMaxEventSize is max_event_size when it is not set: the largest
// event body validated, and the most raw text a failure record keeps.
const DefaultMaxEventSize = 1 << 20

// ReadMaxEventSize reads max_event_size from a plugin's properties (the
// reader's set must include Properties). It is read where it applies, also
// by readers that build failures without a Validator (the sqs input with
// validate off) and by loaders that store them.
func ReadMaxEventSize(r *props.Reader) int {
	if n := int(r.Size("max_event_size")); n > 0 {
		return n
	}
	return DefaultMaxEventSize
}

// TextDigest identifies the whole raw text of a failure whose body keeps
// only its first bytes, so that the original can be found and matched
// (e.g. in a dead-letter queue or a client's log) without storing it: a
// queue can carry tens of megabytes that no failure row should hold.
type TextDigest struct {
	Bytes  int64             // length of the whole text
	SHA256 [sha256.Size]byte // its SHA-256
}

// DigestOf returns the digest of text.
func DigestOf(text []byte) *TextDigest {
	return &TextDigest{Bytes: int64(len(text)), SHA256: sha256.Sum256(text)}
}

// Hex is the SHA-256 in lower-case hex, as failure records carry it.
func (d *TextDigest) Hex() string { return hex.EncodeToString(d.SHA256[:]) }

// CutText returns the first at most n bytes of text and, when that is not
// all of it, the digest of the whole text (nil when text is kept whole).
// The cut never splits a UTF-8 character, so the prefix of valid UTF-8 is
// valid UTF-8.
func CutText(text []byte, n int) ([]byte, *TextDigest) {
	if len(text) <= n {
		return text, nil
	}
	return PrefixUTF8(text, n), DigestOf(text)
}

// PrefixUTF8 returns the first at most n bytes of b without splitting a
// UTF-8 character: a character that b[n] continues is left out whole.
// Bytes that are not UTF-8 in b stay as they are (it looks back at most
// utf8.UTFMax-1 bytes, so a run of stray continuation bytes is not cut to
// nothing).
func PrefixUTF8(b []byte, n int) []byte {
	if n >= len(b) {
		return b
	}
	if n <= 0 {
		return b[:0]
	}
	if utf8.RuneStart(b[n]) {
		return b[:n]
	}
	for i := n - 1; i >= 0 && i > n-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:n]) {
				return b[:i] // b[i:] starts the character the cut would split
			}
			break
		}
	}
	return b[:n]
}
