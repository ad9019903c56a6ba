package logsafe

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain ascii: 100% ok", "plain ascii: 100% ok"},
		{"", ""},
		{"/v1/events\n[error] forged", `/v1/events\n[error] forged`},
		{"a\r\nb", `a\r\nb`},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"nul\x00bel\x07del\x7f", `nul\x00bel\x07del\x7f`},
		{"tab\there", `tab\there`},
		{"bad utf-8 \xff\xfe end", `bad utf-8 \xff\xfe end`},
		{"truncated \xe2\x82", `truncated \xe2\x82`},
		{"c1 \u009b31m csi", `c1 \u009b31m csi`},
		{"next line \u0085 x", `next line \u0085 x`},
		{"sep \u2028 \u2029", `sep \u2028 \u2029`},
		{"bidi \u202egnp.exe", `bidi \u202egnp.exe`},
		{"bom \ufeff", `bom \ufeff`},
		{"café 日本 🎮", "café 日本 🎮"},
		{`kept \n backslash`, `kept \n backslash`},
		{"panic: x\n\ngoroutine 1 [running]:\nmain.f()\n\t/src/main.go:3", `panic: x\n\ngoroutine 1 [running]:\nmain.f()\n\t/src/main.go:3`},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Whatever goes in, what comes out is valid UTF-8 without a control
// character or any rune a terminal acts on.
func FuzzEscape(f *testing.F) {
	f.Add("x\n\x1b[31m\xff\u009b\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Escape(%q) = %q: invalid UTF-8", s, out)
		}
		if i := strings.IndexFunc(out, func(r rune) bool { return unicode.IsControl(r) || unsafeRune(r) }); i >= 0 {
			t.Fatalf("Escape(%q) = %q: control at %d", s, out, i)
		}
	})
}
