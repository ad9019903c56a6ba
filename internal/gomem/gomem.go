// Package gomem sizes the Go heap of a plugin. Every plugin .so carries its
// own Go runtime, and by default each one's garbage collector lets its heap
// grow to twice what is live before collecting: under a burst, two plugins'
// garbage alone can take a tier past a few hundred megabytes. A soft limit
// (Go's debug.SetMemoryLimit) makes the collector run more often near it,
// trading some CPU for a bounded heap; what is live is bounded by each
// plugin's own buffers (max_buffered_bytes and the like). Below the limit,
// a larger GC percent (Go's GOGC, debug.SetGCPercent) makes the collector
// run less often: a plugin whose live heap is small but which allocates
// fast (the sqs input, whose SDK allocates every message it receives) then
// spends less CPU marking, and the limit still bounds what it may hold.
package gomem

import (
	"runtime/debug"
	"sync"

	"github.com/whirlpool-events/whirlpool/internal/props"
)

// minLimit is the smallest limit accepted: below it the collector would
// run all the time for a plugin's ordinary working set.
const minLimit = 16 << 20

// minPercent is the smallest GC percent accepted: below it the collector
// would run all the time.
const minPercent = 25

// Properties are appended to every plugin's own property set.
var Properties = props.Set{
	{Name: "go_memory_limit", Type: props.Size, Min: 0, Max: 1 << 40, Default: "64M", Meaning: "Soft limit on the heap of this plugin's Go runtime (each plugin .so has its own): near it the garbage collector runs more often instead of letting the heap grow to twice what is live. 0, or 16M and more; 0 keeps Go's own setting (the GOMEMLIMIT variable, else none). Instances of one plugin in a process share its runtime: the largest limit applies."},
	{Name: "go_gc_percent", Type: props.Int, Min: 0, Max: 10000, Default: "0", Meaning: "How far this plugin's Go heap grows past what is live before the garbage collector runs, in percent (Go's GOGC, for this plugin's runtime alone): more collects less often, for less CPU and more memory, up to go_memory_limit, which still applies. 0, or 25 and more; 0 keeps Go's own setting (the GOGC variable, else 100). Instances of one plugin in a process share its runtime: the largest percent applies."},
}

// Settings are what a plugin instance asks of its runtime's collector.
type Settings struct {
	Limit     int64 // soft memory limit in bytes; 0: Go's own
	GCPercent int   // GOGC for this runtime; 0: Go's own
}

// Read reads go_memory_limit and go_gc_percent from a plugin's reader (its
// set must include Properties), recording a bad value on r.
func Read(r *props.Reader) Settings {
	s := Settings{Limit: r.SizeOffOrAtLeast("go_memory_limit", minLimit, "Go's own setting")}
	if n := r.Int("go_gc_percent"); n > 0 && n < minPercent {
		r.Fail("go_gc_percent", "invalid value %d: want 0 (Go's own setting) or at least %d", n, minPercent)
	} else {
		s.GCPercent = n
	}
	return s
}

var (
	mu             sync.Mutex
	appliedLimit   int64 // the largest limit set so far in this runtime
	appliedPercent int   // the largest percent set so far in this runtime
)

// Apply sets this runtime's soft memory limit and GC percent to s's,
// each unless an instance already asked for more.
func (s Settings) Apply() {
	mu.Lock()
	defer mu.Unlock()
	if s.Limit > appliedLimit {
		appliedLimit = s.Limit
		debug.SetMemoryLimit(s.Limit)
	}
	if s.GCPercent > appliedPercent {
		appliedPercent = s.GCPercent
		debug.SetGCPercent(s.GCPercent)
	}
}
