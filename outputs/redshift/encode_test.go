package redshift

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
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

// A fixstr or str 8 whose header claims more bytes than the value holds
// is not read past its end: it writes nothing, as any string that cannot
// be read.
func TestCopyValueOfATruncatedString(t *testing.T) {
	for _, v := range []record.Value{{0xa5, 'a', 'b'}, {0xd9, 40, 'a', 'b'}, {0xd9}} {
		if got := appendCopyValue(nil, v); len(got) != 0 {
			t.Errorf("appendCopyValue of a truncated string % x = %q, want nothing", []byte(v), got)
		}
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

// A float is written as strconv's shortest 'g' form writes it, whether
// appendShortDecimal takes it or leaves it to strconv: decimals of every
// length it takes, either side of each bound (1e-4, 1e6, seven decimals),
// negative values, and values that are no short decimal.
func TestFloatTextMatchesStrconv(t *testing.T) {
	check := func(f float64) {
		t.Helper()
		if got, want := string(appendFloatText(nil, f)), strconv.FormatFloat(f, 'g', -1, 64); got != want && !math.IsNaN(f) && !math.IsInf(f, 0) {
			t.Fatalf("appendFloatText(%v) = %q, want %q", f, got, want)
		}
	}
	for _, f := range []float64{0, math.Copysign(0, -1), 1e-4, math.Nextafter(1e-4, 0), math.Nextafter(1e-4, 1), 1e6, math.Nextafter(1e6, 0),
		0.4375, 1834.25, 0.1, 0.2, 0.1 + 0.2, 0.00005, 0.000099, 0.00001, 0.0001234, 1.0000001, 0.0000123, 999999.999999, 999999.9999999, 123456.5, 5e-324, math.MaxFloat64, 1.5e300} {
		check(f)
		check(-f)
	}
	r := rand.New(rand.NewPCG(9, 10))
	for range 300000 {
		k := r.IntN(9)
		n := r.Int64N(2_000_000_000_000)
		if r.IntN(2) == 0 {
			n = r.Int64N(1_000_000)
		}
		f := float64(n) / math.Pow(10, float64(k))
		check(f)
		check(-f)
		check(math.Float64frombits(r.Uint64()))
		check(math.Nextafter(f, math.Inf(1)))
	}
}

func FuzzFloatText(f *testing.F) {
	f.Add(0.4375)
	f.Add(1834.25)
	f.Fuzz(func(t *testing.T, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		if got, want := string(appendFloatText(nil, v)), strconv.FormatFloat(v, 'g', -1, 64); got != want {
			t.Fatalf("appendFloatText(%v) = %q, want %q", v, got, want)
		}
	})
}
