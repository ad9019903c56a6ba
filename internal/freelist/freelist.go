// Package freelist keeps a bounded number of reusable values (buffers,
// per-call working sets) alive between uses.
//
// sync.Pool drops what it holds at garbage collections. For the large
// buffers of the hot paths (request bodies, record batches, a flush's
// arena) that means a fresh allocation after most collections, whose pages
// the kernel must fault in again: in the real engine page faults on fresh
// buffers were a quarter of the edge's CPU. A List keeps at most its
// capacity of values, whatever the collector does, so what it retains is
// bounded by capacity times the largest value a caller puts back.
package freelist

// List is a bounded free list, safe for concurrent use.
type List[T any] struct{ c chan T }

// New returns a list that keeps up to n values.
func New[T any](n int) *List[T] { return &List[T]{c: make(chan T, n)} }

// Get returns a kept value, or ok false when none is kept.
func (l *List[T]) Get() (v T, ok bool) {
	select {
	case v = <-l.c:
		return v, true
	default:
		return v, false
	}
}

// Put keeps v unless the list is full, and reports whether it did (when
// not, v is left to the garbage collector).
func (l *List[T]) Put(v T) bool {
	select {
	case l.c <- v:
		return true
	default:
		return false
	}
}
