package redshift

import (
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/freelist"
)

// A slab hands out zeroed slices that cannot grow into each other, reuses
// its blocks after release, and gives a request larger than a block a
// block of its own that it does not keep.
func TestSlabTakeAndRelease(t *testing.T) {
	spare := freelist.New[[]int](2)
	s := slab[int]{spare: spare, size: 4}
	a := s.take(3)
	b := s.take(2) // does not fit beside a: a new block
	for _, x := range [][]int{a, b} {
		if cap(x) != len(x) {
			t.Fatalf("take: capacity %d beyond length %d", cap(x), len(x))
		}
		for i := range x {
			if x[i] != 0 {
				t.Fatalf("take: not zero: %v", x)
			}
			x[i] = 7
		}
	}
	if a[2] != 7 || b[0] != 7 || &a[0] == &b[0] {
		t.Fatalf("slices overlap: %v %v", a, b)
	}
	big := s.take(9)
	if len(big) != 9 {
		t.Fatalf("take(9) = %d values", len(big))
	}
	if len(s.blocks) != 2 {
		t.Fatalf("%d blocks kept for release, want 2 (the oversized one is not kept)", len(s.blocks))
	}
	s.release()
	s2 := slab[int]{spare: spare, size: 4}
	c := s2.take(4)
	for _, x := range c {
		if x != 0 {
			t.Fatalf("a reused block is not zeroed: %v", c)
		}
	}
	if &c[0] != &a[0] && &c[0] != &b[0] {
		t.Fatalf("a released block was not reused")
	}
}
