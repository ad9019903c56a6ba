// Package memguard pauses an input while its Fluent Bit process holds more
// memory than a limit, like the OpenTelemetry Collector's memory_limiter
// refuses data above a soft limit of the process's memory.
//
// Why: when an output is slower than its input, the chunks waiting for it
// stay in memory. In Fluent Bit 5.1 a filesystem chunk is mapped from disk
// while it is up; a chunk being dispatched is brought up and locked
// (flb_input_chunk_flush) until its task ends, and is put down only between
// retries (flb_task.c) or above Mem_Buf_Limit, which filesystem storage
// does not use (flb_input_chunk.c). storage.max_chunks_up did not stop the
// input in our measurements (README "Memory, and its knobs"): the process's
// resident memory grew with the backlog of undelivered chunks. Only the
// input can stop that, by taking no more records.
//
// The signal is the process's resident set (what an orchestrator evicts
// on), read from /proc/self/statm at every collect of the input (Fluent Bit
// collects a Go input once a second), where its records enter the engine,
// and, once the process holds half the limit, ten times a second between
// collects (the input glue, internal/flb/input): an input whose records go
// to a forward input takes them in between collects, up to a second of full
// load after a resume. Only then: a timer running at rest would wake the Go
// runtime ten times a second, which cost an idle edge 6 ms of CPU a second,
// more than everything else it did at rest. Pausing on it alone could
// deadlock: memory that is not released at rest (a Go runtime's retained
// heap, malloc arenas) would keep the input paused for ever while nothing
// is left to deliver. So the guard pauses only while Fluent Bit also holds
// chunks mapped in memory (files named *.flb in /proc/self/smaps, the
// chunks of storage.path), and resumes once the resident set is below
// 90% of the limit or no chunk is mapped any more. Those chunks are released
// by the outputs delivering them (or by the engine putting a chunk down
// between retries), neither of which needs the paused input, so a pause
// always ends.
package memguard

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/whirlpool-events/whirlpool/internal/props"
)

// minLimit is the smallest limit accepted: below it a Fluent Bit with a
// few Go plugins loaded is over the limit at rest.
const minLimit = 64 << 20

// Properties are appended to each input plugin's own property set.
var Properties = props.Set{
	{Name: "pause_above_rss", Type: props.Size, Min: 0, Max: 1 << 40, Default: "0", Meaning: "Resident memory of the whole Fluent Bit process at which this input pauses (eventing answers 503 + Retry-After, the sqs input stops receiving) while Fluent Bit holds chunks in memory; it resumes below 90% of it, or once no chunk is left in memory, so memory that is not released at rest never keeps it paused. 0 (off), or 64M and more; set it below the memory the process may use."},
}

// Limit is a resident-set limit in bytes; 0 means off.
type Limit int64

// Read reads pause_above_rss from an input's reader (its set must include
// Properties), recording a bad value on r.
func Read(r *props.Reader) Limit {
	return Limit(r.SizeOffOrAtLeast("pause_above_rss", minLimit, "off"))
}

// Sample is what the guard decided on.
type Sample struct {
	RSS    int64 // resident set of the process
	Chunks int64 // resident bytes of chunk files mapped (read only when RSS is over the limit, or while paused)
}

func (s Sample) String() string {
	return fmt.Sprintf("resident memory %d MiB, %d MiB of it chunks mapped", s.RSS>>20, s.Chunks>>20)
}

// Guard decides, one sample at a time, whether the input should be paused.
// It is not safe for concurrent use: the input glue checks it from the
// input's collect and between collects, under one lock.
type Guard struct {
	limit  int64
	resume int64
	rss    func() (int64, error)
	chunks func() (int64, error)
	paused bool
}

// New returns a guard for limit l, reading the process's own memory.
func New(l Limit) *Guard {
	return newGuard(int64(l), selfRSS, selfChunks)
}

func newGuard(limit int64, rss, chunks func() (int64, error)) *Guard {
	return &Guard{limit: limit, resume: limit / 10 * 9, rss: rss, chunks: chunks}
}

// Limit is the resident set at which the guard pauses, in bytes.
func (g *Guard) Limit() int64 { return g.limit }

// Check takes one sample and returns whether the input should now be paused
// and whether that changed. On an error reading /proc it keeps its state.
func (g *Guard) Check() (paused, changed bool, s Sample, err error) {
	s.RSS, err = g.rss()
	if err != nil {
		return g.paused, false, s, err
	}
	want := g.paused
	switch {
	case g.paused && s.RSS < g.resume:
		want = false
	case g.paused || s.RSS >= g.limit:
		// Over the limit, or paused and not yet below 90% of it: paused
		// exactly while chunks are mapped.
		if s.Chunks, err = g.chunks(); err != nil {
			return g.paused, false, s, err
		}
		want = s.Chunks > 0
	}
	changed = want != g.paused
	g.paused = want
	return want, changed, s, nil
}

// Often reports whether to sample again before the next collect, after a
// Check that returned s: while the guard holds the input paused, or the
// process holds half the limit or more. Below that a tier is at rest or
// far from the limit, and a second between samples is soon enough.
func (g *Guard) Often(s Sample) bool { return g.paused || s.RSS >= g.limit/2 }

var pageSize = int64(os.Getpagesize())

// selfRSS reads the resident set from /proc/self/statm (its second field,
// in pages): one small read, cheap enough for every collect.
func selfRSS() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, fmt.Errorf("reading the resident set: %w", err)
	}
	return parseStatm(b)
}

func parseStatm(b []byte) (int64, error) {
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0, fmt.Errorf("reading the resident set: /proc/self/statm is %q", b)
	}
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading the resident set: /proc/self/statm is %q: %w", b, err)
	}
	return pages * pageSize, nil
}

// selfChunks sums the resident bytes of the chunk files Fluent Bit has
// mapped (chunkio names them <pid>-<time>.flb).
func selfChunks() (int64, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, fmt.Errorf("reading the chunks in memory: %w", err)
	}
	defer f.Close()
	n, err := chunkRSS(f)
	if err != nil {
		return 0, fmt.Errorf("reading the chunks in memory: %w", err)
	}
	return n, nil
}

// chunkRSS sums the Rss lines of the mappings of *.flb files in an smaps
// listing.
func chunkRSS(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var total int64
	inChunk := false
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		if isMappingHeader(line) {
			inChunk = bytes.HasSuffix(bytes.TrimRight(line, " "), []byte(".flb"))
			continue
		}
		if !inChunk {
			continue
		}
		if rest, ok := bytes.CutPrefix(line, []byte("Rss:")); ok {
			f := bytes.Fields(rest)
			if len(f) == 0 {
				continue
			}
			kb, err := strconv.ParseInt(string(f[0]), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("smaps line %q: %w", line, err)
			}
			total += kb << 10
		}
	}
	return total, sc.Err()
}

// isMappingHeader tells a mapping's header line ("7f..-7f.. rw-s ...") from
// its field lines ("Rss:   12 kB"): the header starts with a hex address
// range.
func isMappingHeader(line []byte) bool {
	dash := bytes.IndexByte(line, '-')
	if dash <= 0 {
		return false
	}
	for _, c := range line[:dash] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
