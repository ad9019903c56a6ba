package forward

import (
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

// Fit packs record sets into one Forward message up to the client's
// frame, and always takes at least one, so a set larger than the frame is
// sent (split by Send) rather than never. A Config without a frame gets
// FrameMax.
func TestFit(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		m   int
	}{
		{Config{}, FrameMax},
		{Config{FrameMax: 1 << 20}, 1 << 20},
	} {
		client := New(c.cfg, quiet{})
		m := c.m
		for _, tc := range []struct {
			name  string
			sizes []int
			want  int
		}{
			{"none", nil, 0},
			{"all fit", []int{1, 2, 3}, 3},
			{"exactly the frame", []int{m / 2, m / 2, 1}, 2},
			{"one over the rest", []int{m - 1, 2}, 1},
			{"a first set larger than the frame goes alone", []int{m + 1, 1}, 1},
		} {
			if got := client.Fit(len(tc.sizes), func(i int) int { return tc.sizes[i] }); got != tc.want {
				t.Errorf("frame %d, %s: Fit(%v) = %d, want %d", m, tc.name, tc.sizes, got, tc.want)
			}
		}
	}
}

// quiet is a plugin.Logger that drops every line.
type quiet struct{}

func (quiet) Enabled(plugin.Level) bool { return false }
func (quiet) Errorf(string, ...any)     {}
func (quiet) Warnf(string, ...any)      {}
func (quiet) Infof(string, ...any)      {}
func (quiet) Debugf(string, ...any)     {}
