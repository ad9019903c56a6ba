package record

import (
	"errors"
	"testing"

	"github.com/tinylib/msgp/msgp"
)

// skip reads every scalar as msgp.Skip does: the same rest, or a
// truncation for the same cut.
func TestSkipScalarsMatchesMsgp(t *testing.T) {
	for c := 0xc0; c <= 0xdf; c++ {
		if c == 0xdc || c == 0xdd || c == 0xde || c == 0xdf {
			continue // containers: skip checks their depth itself
		}
		for n := 0; n <= 20; n++ {
			b := make([]byte, n+1)
			b[0] = byte(c)
			for i := 1; i < len(b); i++ {
				b[i] = byte(i % 4) // small lengths, so cut and whole values both occur
			}
			rest, err := skip(b, 0)
			want, werr := msgp.Skip(b)
			werr = describe(werr)
			if (err == nil) != (werr == nil) || err == nil && len(rest) != len(want) || errors.Is(werr, ErrTruncated) != errors.Is(err, ErrTruncated) {
				t.Errorf("skip(% x) = %d bytes left, %v; msgp.Skip: %d, %v", b, len(rest), err, len(want), werr)
			}
		}
	}
}

// Kind, Str and Int read every first byte, and every cut of short
// strings, as msgp does (Kind as msgp.NextType, Str as msgp.ReadStringZC
// or ReadBytesZC, Int as msgp.ReadInt64Bytes).
func TestKindStrAndIntMatchMsgp(t *testing.T) {
	for c := 0; c <= 0xff; c++ {
		for n, second := 0, 0; n <= 40; second++ {
			if second > n+1 {
				n, second = n+1, 0
				continue
			}
			b := make([]byte, n+1)
			b[0] = byte(c)
			for i := 1; i < len(b); i++ {
				b[i] = byte(i % 5) // small lengths and extension types 0-4
			}
			if n > 0 {
				b[1] = byte(second) // a str 8 length that fits, is cut by one, ...
			}
			if n > 1 {
				b[len(b)-1] = 0xff // -1: the time extension, where it is the type byte
			}
			v := Value(b)
			if got, want := v.Kind(), kindOfType(msgp.NextType(b)); got != want {
				t.Errorf("Kind(% x) = %v, msgp.NextType says %v", b, got, want)
			}
			s, rest, err := readStr(b)
			ws, wrest, werr := msgpStr(b)
			if (err == nil) != (werr == nil) || string(s) != string(ws) || len(rest) != len(wrest) && err == nil {
				t.Errorf("readStr(% x) = %q, %d left, %v; msgp: %q, %d, %v", b, s, len(rest), err, ws, len(wrest), werr)
			}
			if err == nil && cap(s) != len(s) {
				t.Errorf("readStr(% x): capacity %d beyond its %d bytes", b, cap(s), len(s))
			}
			if got, ok := v.Str(); string(got) != string(ws) || ok != (werr == nil) {
				t.Errorf("Str(% x) = %q, %v; msgp: %q, %v", b, got, ok, ws, werr)
			}
			wi, _, ierr := msgp.ReadInt64Bytes(b)
			if got, ok := v.Int(); got != wi || ok != (ierr == nil) {
				t.Errorf("Int(% x) = %d, %v; msgp.ReadInt64Bytes: %d, %v", b, got, ok, wi, ierr)
			}
		}
	}
	if got := Value(nil).Kind(); got != KindInvalid {
		t.Errorf("Kind(empty) = %v", got)
	}
}

// skip finds the end of any value where msgp.Skip does, and fails where it
// fails (within MaxDepth: skip refuses deeper nesting, msgp does not).
func FuzzSkipMatchesMsgp(f *testing.F) {
	f.Add([]byte{0x82, 0xa1, 'k', 0x92, 0x01, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0, 0xa1, 'm', 0xc0})
	f.Add([]byte{0x93, 0xa3, 'a', 'b', 'c', 0xd9, 2, 'x', 'y', 0x81, 0xa1, 'z', 0xc3})
	f.Add([]byte{0x92, 0xa5, 'a'})
	f.Add([]byte{0xdf, 0, 0, 0, 1, 0xa0, 0xdc, 0, 1, 0xcd, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		rest, err := skip(b, 0)
		if errors.Is(err, ErrTooDeep) {
			return
		}
		want, werr := msgp.Skip(b)
		if (err == nil) != (werr == nil) || err == nil && len(rest) != len(want) {
			t.Fatalf("skip(% x) = %d bytes left, %v; msgp.Skip: %d, %v", b, len(rest), err, len(want), werr)
		}
	})
}

// SplitScalar takes exactly the nil, bool, int, uint, float, str and bin
// values msgp reads (no map, array or extension, whatever type msgp gives
// an extension), as many bytes as msgp.Skip, and nothing cut.
func TestSplitScalarMatchesMsgp(t *testing.T) {
	for c := 0; c <= 0xff; c++ {
		for n := 0; n <= 40; n++ {
			b := make([]byte, n+1)
			b[0] = byte(c)
			for i := 1; i < len(b); i++ {
				b[i] = byte(i % 4)
			}
			checkSplitScalar(t, b)
		}
	}
}

func FuzzSplitScalarMatchesMsgp(f *testing.F) {
	for _, b := range [][]byte{msgp.AppendString(nil, "abc"), msgp.AppendFloat64(nil, 1.5), msgp.AppendMapHeader(nil, 1), {0xd9, 3, 'a'}, {0xc4, 1, 0}, {0xda, 0, 1, 'x', 'y'}} {
		f.Add(b)
	}
	f.Fuzz(checkSplitScalar)
}

func checkSplitScalar(t *testing.T, b []byte) {
	v, rest, ok := SplitScalar(b)
	after, err := msgp.Skip(b)
	var scalar bool
	if len(b) > 0 {
		switch msgp.NextType(b) {
		case msgp.NilType, msgp.BoolType, msgp.IntType, msgp.UintType, msgp.Float32Type, msgp.Float64Type, msgp.StrType, msgp.BinType:
			scalar = err == nil
		}
	}
	if ok != scalar || ok && (len(rest) != len(after) || len(v)+len(rest) != len(b) || cap(v) != len(v)) {
		t.Fatalf("SplitScalar(% x) = % x, %d bytes left, %v; msgp: scalar %v, %d bytes left, %v", b, []byte(v), len(rest), ok, scalar, len(after), err)
	}
}

// Range passes the entries msgp's readers find, byte for byte, and fails
// where they fail (within MaxDepth; a key must be a str or bin).
func FuzzRangeMatchesMsgp(f *testing.F) {
	f.Add([]byte{0x83, 0xa1, 'k', 0x92, 0x01, 0xcb, 0, 0, 0, 0, 0, 0, 0, 0, 0xa1, 'm', 0xc0, 0xc4, 1, 'b', 0x81, 0xa0, 0x90})
	f.Add([]byte{0xde, 0, 2, 0xd9, 1, 'a', 0xd9, 2, 'x', 'y', 0xa1, 'b', 0xdc, 0, 1, 0xcd, 1})
	f.Add([]byte{0x82, 0xa5, 'a'})
	f.Add([]byte{0x81, 0x01, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		type entry struct{ k, v string }
		var got, want []entry
		err := Map(b).Range(func(k []byte, v Value) bool {
			got = append(got, entry{string(k), string(v)})
			return true
		})
		if errors.Is(err, ErrTooDeep) || len(b) == 0 {
			return
		}
		n, p, werr := msgp.ReadMapHeaderBytes(b)
		for ; werr == nil && n > 0; n-- {
			var k []byte
			if k, p, werr = msgpStr(p); werr != nil {
				break
			}
			var rest []byte
			if rest, werr = msgp.Skip(p); werr == nil {
				want = append(want, entry{string(k), string(p[:len(p)-len(rest)])})
				p = rest
			}
		}
		if (err == nil) != (werr == nil) || len(got) != len(want) {
			t.Fatalf("Range(% x): %d entries, %v; msgp: %d entries, %v", b, len(got), err, len(want), werr)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("Range(% x) entry %d = %q; msgp: %q", b, i, got[i], want[i])
			}
		}
	})
}

// msgpStr reads a str or bin as msgp does, the reference readStr and the
// map keys of Range are held to.
func msgpStr(b []byte) (s, rest []byte, err error) {
	switch msgp.NextType(b) {
	case msgp.StrType:
		return msgp.ReadStringZC(b)
	case msgp.BinType:
		return msgp.ReadBytesZC(b)
	}
	return nil, b, errNotStr
}
