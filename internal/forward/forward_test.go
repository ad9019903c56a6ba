package forward

import "testing"

// Fit packs record sets into one Forward message up to FrameMax, and
// always takes at least one, so a set larger than FrameMax is sent (split
// by Send) rather than never.
func TestFit(t *testing.T) {
	const m = FrameMax
	for _, tc := range []struct {
		name  string
		sizes []int
		want  int
	}{
		{"none", nil, 0},
		{"all fit", []int{1, 2, 3}, 3},
		{"exactly FrameMax", []int{m / 2, m / 2, 1}, 2},
		{"one over the rest", []int{m - 1, 2}, 1},
		{"a first set larger than FrameMax goes alone", []int{m + 1, 1}, 1},
	} {
		if got := Fit(len(tc.sizes), func(i int) int { return tc.sizes[i] }); got != tc.want {
			t.Errorf("%s: Fit(%v) = %d, want %d", tc.name, tc.sizes, got, tc.want)
		}
	}
}
