// Package logsafe makes a log message one harmless line. Messages carry
// text from clients and databases (URL paths, header values, error text);
// a raw newline in it would forge log lines, an ANSI escape would colour or
// erase them. The cgo glue escapes every message with Escape before Fluent
// Bit sees it, so no plugin can write a control byte, whatever it logs.
package logsafe

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Escape returns s with every control character written as an escape:
// \n, \r and \t as those two characters (a panic's stack trace stays
// readable), other C0 bytes, DEL and invalid UTF-8 bytes as \xNN, C1
// controls, line and paragraph separators and bidirectional overrides
// (which reorder what a terminal shows) as \uNNNN. Backslashes are kept:
// a client can write a literal `\n`, but never a line break.
func Escape(s string) string {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
		i++
	}
	if i == len(s) {
		return s // the common case: printable ASCII
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(hex2(byte(r)))
		case unsafeRune(r):
			b.WriteString(`\u`)
			h := strconv.FormatInt(int64(r), 16)
			b.WriteString(strings.Repeat("0", 4-len(h)) + h)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafeRune reports the non-ASCII runes a terminal or log viewer acts on
// instead of showing.
func unsafeRune(r rune) bool {
	return r >= 0x80 && r <= 0x9f || // C1 controls (0x9b is a one-byte CSI)
		r == 0x2028 || r == 0x2029 || // line and paragraph separators
		r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || // bidi embeddings, overrides, isolates
		r == 0x200e || r == 0x200f || r == 0x061c || // bidi marks
		r == 0xfeff // byte order mark, invisible
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}
