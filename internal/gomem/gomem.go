// Package gomem bounds the Go heap of a plugin. Every plugin .so carries its
// own Go runtime, and by default each one's garbage collector lets its heap
// grow to twice what is live before collecting: under a burst, two plugins'
// garbage alone can take a tier past a few hundred megabytes. A soft limit
// (Go's debug.SetMemoryLimit) makes the collector run more often near it,
// trading some CPU for a bounded heap; what is live is bounded by each
// plugin's own buffers (max_buffered_bytes and the like).
package gomem

import (
	"runtime/debug"
	"sync"

	"github.com/whirlpool-events/whirlpool/internal/props"
)

// minLimit is the smallest limit accepted: below it the collector would
// run all the time for a plugin's ordinary working set.
const minLimit = 16 << 20

// Properties are appended to every plugin's own property set.
var Properties = props.Set{
	{Name: "go_memory_limit", Type: props.Size, Min: 0, Max: 1 << 40, Default: "64M", Meaning: "Soft limit on the heap of this plugin's Go runtime (each plugin .so has its own): near it the garbage collector runs more often instead of letting the heap grow to twice what is live. 0, or 16M and more; 0 keeps Go's own setting (the GOMEMLIMIT variable, else none). Instances of one plugin in a process share its runtime: the largest limit applies."},
}

// Limit is a soft limit in bytes; 0 means Go's own setting.
type Limit int64

// Read reads go_memory_limit from a plugin's reader (its set must include
// Properties), recording a bad value on r.
func Read(r *props.Reader) Limit {
	return Limit(r.SizeOffOrAtLeast("go_memory_limit", minLimit, "Go's own setting"))
}

var (
	mu      sync.Mutex
	applied Limit // the largest limit set so far in this runtime
)

// Apply sets this runtime's soft memory limit to l unless an instance
// already asked for more.
func (l Limit) Apply() {
	mu.Lock()
	defer mu.Unlock()
	if l > applied {
		applied = l
		debug.SetMemoryLimit(int64(l))
	}
}
