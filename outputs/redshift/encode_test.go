package redshift

import (
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
