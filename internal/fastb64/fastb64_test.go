package fastb64

import (
	"bytes"
	stdb64 "encoding/base64"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/benchcpu"
)

// checkSame compares both functions with encoding/base64 on src (as bytes
// to encode and as text to decode).
func checkSame(t *testing.T, src []byte) {
	t.Helper()
	if got, want := EncodeToString(src), stdb64.StdEncoding.EncodeToString(src); got != want {
		t.Fatalf("EncodeToString(% x) = %q, encoding/base64: %q", src, got, want)
	}
	prefix := []byte("kept")
	got, err := AppendDecodeString(bytes.Clone(prefix), string(src))
	want, werr := stdb64.StdEncoding.AppendDecode(bytes.Clone(prefix), src)
	if fmt.Sprint(err) != fmt.Sprint(werr) || !bytes.Equal(got, want) {
		t.Fatalf("AppendDecodeString(%q) = %q, %v; encoding/base64: %q, %v", src, got, err, want, werr)
	}
}

// Every length around the vectorised blocks, as data and as text: whole,
// with one byte spoilt at each place, and with a line break.
func TestSameAsStdlibAroundBlocks(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 200; n++ {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		checkSame(t, data)
		text := []byte(stdb64.StdEncoding.EncodeToString(data))
		checkSame(t, text)
		for i := range text {
			for _, bad := range []byte{'!', '\n', '=', 0xff, '-'} {
				spoilt := bytes.Clone(text)
				spoilt[i] = bad
				checkSame(t, spoilt)
			}
		}
	}
}

func FuzzSameAsStdlib(f *testing.F) {
	f.Add([]byte("aGVsbG8gd29ybGQ="))
	f.Add([]byte("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODkrLw=="))
	f.Add([]byte("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk\r\nZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODkrLw=="))
	f.Add([]byte("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3OD!rLw=="))
	f.Fuzz(checkSame)
}

// A compressed body near SQS's size limit, in bytes per CPU-second, beside
// encoding/base64 in the same run.
func benchBody() []byte {
	r := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 190<<10)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func BenchmarkEncode(b *testing.B) {
	src := benchBody()
	for _, c := range []struct {
		name string
		enc  func([]byte) string
	}{
		{"fastb64", EncodeToString},
		{"encoding-base64", stdb64.StdEncoding.EncodeToString},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			cpu := benchcpu.Start(b)
			for b.Loop() {
				c.enc(src)
			}
			cpu.Report(b, b.N*len(src), "bytes/cpu-s")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	src := stdb64.StdEncoding.EncodeToString(benchBody())
	for _, c := range []struct {
		name string
		dec  func(dst []byte, src string) ([]byte, error)
	}{
		{"fastb64", AppendDecodeString},
		{"encoding-base64", func(dst []byte, src string) ([]byte, error) { return stdb64.StdEncoding.AppendDecode(dst, []byte(src)) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var dst []byte
			b.SetBytes(int64(len(src)))
			cpu := benchcpu.Start(b)
			for b.Loop() {
				var err error
				if dst, err = c.dec(dst[:0], src); err != nil {
					b.Fatal(err)
				}
			}
			cpu.Report(b, b.N*len(src), "bytes/cpu-s")
		})
	}
}
