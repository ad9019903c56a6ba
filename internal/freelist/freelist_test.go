package freelist

import (
	"runtime"
	"testing"
)

func TestListKeepsAtMostItsCapacityAcrossGC(t *testing.T) {
	l := New[*[]byte](2)
	if _, ok := l.Get(); ok {
		t.Fatal("an empty list returned a value")
	}
	a, b, c := new([]byte), new([]byte), new([]byte)
	for _, tc := range []struct {
		v    *[]byte
		kept bool
	}{{a, true}, {b, true}, {c, false}} {
		if got := l.Put(tc.v); got != tc.kept {
			t.Fatalf("Put = %v, want %v", got, tc.kept)
		}
	}
	runtime.GC()
	runtime.GC() // sync.Pool would be empty by now
	got := map[*[]byte]bool{}
	for {
		v, ok := l.Get()
		if !ok {
			break
		}
		got[v] = true
	}
	if len(got) != 2 || !got[a] || !got[b] {
		t.Fatalf("after two collections the list gave back %d values (a %v, b %v), want a and b", len(got), got[a], got[b])
	}
}
