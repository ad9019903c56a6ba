package sqs

import (
	"testing"
	"time"
)

// TestBackoffIsFullJitter: every pause lies in [0, min(cap, base*2^attempt)]
// (full jitter), and the draws use the whole range: some fall in its lower
// half, which equal jitter never reaches.
func TestBackoffIsFullJitter(t *testing.T) {
	for _, tc := range []struct {
		attempt int
		ceiling time.Duration
	}{
		{0, backoffBase},
		{1, 2 * backoffBase},
		{3, 8 * backoffBase},
		{6, backoffMax}, // 6.4 s capped
		{40, backoffMax},
		{1000, backoffMax},
	} {
		if got := backoffCeiling(tc.attempt); got != tc.ceiling {
			t.Errorf("attempt %d: ceiling %v, want %v", tc.attempt, got, tc.ceiling)
		}
		low := 0
		const draws = 1000
		for i := 0; i < draws; i++ {
			d := backoff(tc.attempt)
			if d < 0 || d > tc.ceiling {
				t.Fatalf("attempt %d: pause %v outside [0, %v]", tc.attempt, d, tc.ceiling)
			}
			if d < tc.ceiling/2 {
				low++
			}
		}
		// About half fall below the middle; fewer than a quarter has a
		// chance of about 1e-57.
		if low < draws/4 {
			t.Errorf("attempt %d: only %d of %d pauses below %v: not full jitter", tc.attempt, low, draws, tc.ceiling/2)
		}
	}
}
