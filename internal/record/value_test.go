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
