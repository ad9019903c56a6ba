package redshift

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/record"
)

// Every msgpack encoding of a value becomes the COPY text PostgreSQL reads
// back as that value: the short encodings read from their first byte as
// the others.
func TestCopyValueOfEveryEncoding(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    []byte
		want string
	}{
		{"absent", nil, `\N`},
		{"nil", msgp.AppendNil(nil), `\N`},
		{"true", msgp.AppendBool(nil, true), `t`},
		{"false", msgp.AppendBool(nil, false), `f`},
		{"fixint 0", msgp.AppendInt(nil, 0), `0`},
		{"fixint 127", []byte{0x7f}, `127`},
		{"negative fixint -1", []byte{0xff}, `-1`},
		{"negative fixint -32", []byte{0xe0}, `-32`},
		{"int8", []byte{0xd0, 0x80}, `-128`},
		{"int16", msgp.AppendInt16(nil, -30000), `-30000`},
		{"int64", msgp.AppendInt64(nil, math.MinInt64), `-9223372036854775808`},
		{"uint8", []byte{0xcc, 0xff}, `255`},
		{"uint64", msgp.AppendUint64(nil, math.MaxUint64), `18446744073709551615`},
		{"float64", msgp.AppendFloat64(nil, 0.4375), `0.4375`},
		{"float32", msgp.AppendFloat32(nil, 1.5), `1.5`},
		{"NaN", msgp.AppendFloat64(nil, math.NaN()), `NaN`},
		{"-Inf", msgp.AppendFloat64(nil, math.Inf(-1)), `-Infinity`},
		{"empty fixstr", msgp.AppendString(nil, ""), ``},
		{"fixstr", msgp.AppendString(nil, "player-1"), `player-1`},
		{"fixstr of 31 bytes", msgp.AppendString(nil, strings.Repeat("x", 31)), strings.Repeat("x", 31)},
		{"fixstr with escapes", msgp.AppendString(nil, "a\tb\nc\rd\\e"), `a\tb\nc\rd\\e`},
		{"str8", msgp.AppendString(nil, strings.Repeat("y", 40)+"\t"), strings.Repeat("y", 40) + `\t`},
		{"bin", msgp.AppendBytes(nil, []byte("raw\n")), `raw\n`},
		{"array", msgp.AppendString(msgp.AppendInt(msgp.AppendArrayHeader(nil, 2), 1), "a\tb"), `[1,"a\\tb"]`},
		{"map", msgp.AppendBool(msgp.AppendString(msgp.AppendMapHeader(nil, 1), "k"), true), `{"k":true}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(appendCopyValue([]byte(">"), record.Value(tc.v))); got != ">"+tc.want {
				t.Errorf("appendCopyValue(% x) = %q, want %q", tc.v, got, ">"+tc.want)
			}
		})
	}
}

// A fixstr whose header claims more bytes than the value holds is not read
// past its end: it writes nothing, as any string that cannot be read.
func TestCopyValueOfATruncatedFixstr(t *testing.T) {
	if got := appendCopyValue(nil, record.Value{0xa5, 'a', 'b'}); len(got) != 0 {
		t.Errorf("appendCopyValue of a truncated fixstr = %q, want nothing", got)
	}
}

// copyTextReplacer is COPY text's escaping, byte by byte, as PostgreSQL's
// documentation states it.
var copyTextReplacer = strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`, "\t", `\t`)

// appendCopyText escapes every byte COPY text escapes wherever it sits in
// a word of 8, beside bytes that look alike to the word test (other
// control bytes, 0x0d+1, 0x5c±1).
func TestCopyTextEscapesEveryPosition(t *testing.T) {
	for n := 0; n <= 24; n++ {
		for pos := 0; pos < n; pos++ {
			for _, c := range []byte{'\\', '\n', '\r', '\t', 0, 0x0b, 0x0e, '[', ']', 0x80, 0xff} {
				for _, fill := range []byte{'a', 0x0c, 0x01} {
					s := bytes.Repeat([]byte{fill}, n)
					s[pos] = c
					if got, want := string(appendCopyText([]byte(">"), s)), ">"+copyTextReplacer.Replace(string(s)); got != want {
						t.Fatalf("appendCopyText(%q) = %q, want %q", s, got, want)
					}
				}
			}
		}
	}
}

func FuzzCopyText(f *testing.F) {
	f.Add([]byte("plain text, then a tab\there and a backslash \\ and a newline\n"))
	f.Add([]byte("\r\n\t\\\x00\x0b\x0c\x0e"))
	f.Fuzz(func(t *testing.T, s []byte) {
		if got, want := string(appendCopyText(nil, s)), copyTextReplacer.Replace(string(s)); got != want {
			t.Fatalf("appendCopyText(%q) = %q, want %q", s, got, want)
		}
	})
}
