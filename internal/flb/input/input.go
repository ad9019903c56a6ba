// Package input exports the symbols Fluent Bit's Go proxy looks up in an
// input plugin's shared object. Fluent Bit calls the collect callback every
// second from the instance's own thread, appends the returned malloc'd buffer
// to the instance's tag, then calls the cleanup callback: only then are the
// records in Fluent Bit's buffer, so only then is the plugin told (its done
// func) that it may acknowledge its source.
package input

/*
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/whirlpool-events/whirlpool/internal/flb"
	"github.com/whirlpool-events/whirlpool/internal/memguard"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

// maxKeep bounds the size of a buffer an instance keeps for reuse. An input
// that says how much it buffers (Buffered) keeps less: see keepLimit.
const maxKeep = 64 << 20

// minBuffer is the smallest buffer allocated for a collect.
const minBuffer = 64 << 10

// maxSpares is how many buffers an instance keeps for reuse.
const maxSpares = 2

var (
	def plugin.InputPlugin

	mu        sync.Mutex
	nextID    int
	instances = map[cgo.Handle]*inputInstance{}
	// pending maps each buffer handed to Fluent Bit to its acknowledgement.
	// Keyed by address, so the cleanup callback without context works too.
	pending = map[uintptr]handed{}
)

// cbuf is a malloc'd buffer that a collect appends into and Fluent Bit
// reads until its cleanup callback. Collects write straight into one and
// the cleanup keeps it for the instance's next collect: a fresh buffer of
// tens of megabytes each second costs a page fault per 4 KiB, which
// profiles of the processor showed as a quarter of its CPU.
type cbuf struct {
	p unsafe.Pointer
	n int
}

func (b cbuf) view() []byte {
	if b.p == nil {
		return nil
	}
	return unsafe.Slice((*byte)(b.p), b.n)[:0]
}

func (b cbuf) free() {
	if b.p != nil {
		C.free(b.p)
	}
}

// handed is a buffer Fluent Bit holds: its records' acknowledgement, and
// the instance that may reuse it once the cleanup callback returns it.
type handed struct {
	done func()
	inst *inputInstance
	buf  cbuf
}

// Buffered is implemented by an input whose records waiting for a collect
// are bounded (its max_buffered_bytes): one collect returns at most that
// much, plus one request or message that went in alone.
type Buffered interface {
	MaxBuffered() int64
}

// keepLimit is the largest buffer an instance keeps for reuse, and whether
// the input is Buffered: for one that is, 1.5 times what it buffers (at
// least minBuffer, at most maxKeep), which any of its collects fits and
// which its first collect buffer is; for others, maxKeep. A collect that
// outgrows its buffer allocates 1.5 times what it returns; larger buffers
// than this, from a collect that returned an outsized request, are freed
// after use: two spares of maxKeep each would be 128 MiB of C memory
// outside every Go limit.
func keepLimit(in plugin.Input) (n int, buffered bool) {
	b, ok := in.(Buffered)
	if !ok {
		return maxKeep, false
	}
	m := b.MaxBuffered()
	return int(min(max(m+m/2, minBuffer), maxKeep)), true
}

type inputInstance struct {
	flb *flb.Instance
	// keepMax is the largest buffer kept for reuse (keepLimit); buffered
	// says the input bounds what a collect returns (Buffered), so that a
	// buffer of keepMax holds any collect but an outsized one.
	keepMax  int
	buffered bool
	// mu serialises Collect and Close, which Fluent Bit may call from
	// different threads at shutdown.
	mu sync.Mutex
	in plugin.Input
	// closed is written under mu and the package's mu, read under either.
	closed bool
	// spares are buffers back from Fluent Bit, kept for the next collects
	// (guarded by the package's mu: the cleanup callback runs on the
	// engine's thread). Two, so that a collect finds one while Fluent Bit
	// still reads the last.
	spares []cbuf

	// pauseMu guards the pause state: the input is paused while the engine
	// asks it to (back-pressure, shutdown) or its memory guard does.
	pauseMu  sync.Mutex
	byEngine bool
	byMemory bool
	paused   bool

	// memory is the pause_above_rss guard (nil when off), checked at each
	// collect, and every memoryCheckEvery between them while the process
	// holds half the limit or more (watchMemory; watching says it runs);
	// memoryFailed says a read of /proc failed and was reported (all
	// guarded by mu, as collect is).
	memory       *memguard.Guard
	memoryFailed bool
	watching     bool
}

// memoryCheckEvery is how often the memory guard samples between collects
// once the process holds half its limit. At the collect alone, once a
// second (fixed by Fluent Bit for Go inputs), an input whose records go to
// a forward input took in up to a second of full load once resumed, ~100
// MiB on the edge, before it paused again: the edge peaked at 300 MiB in a
// 10-minute overload with pause_above_rss 200M. Below half the limit (a
// tier at rest) nothing samples between collects, so an idle sidecar's Go
// runtime is not woken ten times a second (memguard says what that cost).
const memoryCheckEvery = 100 * time.Millisecond

// watchMemory checks the memory guard every memoryCheckEvery until the
// process holds less than half the limit, unpaused, or the instance has
// stopped.
func (inst *inputInstance) watchMemory() {
	t := time.NewTicker(memoryCheckEvery)
	defer t.Stop()
	for range t.C {
		inst.mu.Lock()
		if inst.closed || !inst.checkMemory() {
			inst.watching = false
			inst.mu.Unlock()
			return
		}
		inst.mu.Unlock()
	}
}

// Register names the input this shared object provides. Call it from the
// shim's init().
func Register(p plugin.InputPlugin) { def = p }

//export FLBPluginRegister
func FLBPluginRegister(d unsafe.Pointer) C.int {
	if def.New == nil {
		return -1
	}
	flb.Register(d, flb.Input, def.Name, def.Description, def.Properties)
	return 0
}

//export FLBPluginInit
func FLBPluginInit(p unsafe.Pointer) C.int {
	mu.Lock()
	id := nextID
	nextID++
	mu.Unlock()

	ins := flb.NewInstance(flb.Input, p, def.Name, id)
	r := memguard.Properties.Read(ins)
	limit := memguard.Read(r)
	if err := r.Err(); err != nil {
		ins.Errorf("cannot start: %v", err)
		return C.int(plugin.Error)
	}
	in, err := newInput(ins)
	if err != nil {
		ins.Errorf("cannot start: %v", err)
		return C.int(plugin.Error)
	}
	inst := &inputInstance{flb: ins, in: in}
	inst.keepMax, inst.buffered = keepLimit(in)
	if limit > 0 {
		inst.memory = memguard.New(limit)
	}
	h := cgo.NewHandle(inst)
	mu.Lock()
	instances[h] = inst
	others := len(instances) - 1
	mu.Unlock()
	if others > 0 {
		ins.Warnf("%s", fmt.Sprintf(severalInstancesWarning, others+1, def.Name))
	}
	flb.SetContext(flb.Input, p, uintptr(h))
	ins.Debugf("started")
	return C.int(plugin.OK)
}

// severalInstancesWarning: Fluent Bit 5.1's Go proxy keeps one proxy per
// plugin, and each Init overwrites its instance, so pausing any instance
// pauses the collector of the last one initialised (src/flb_input.c,
// flb_plugin_proxy.c). The others keep being collected under back-pressure
// and during the shutdown grace period, and a hot reload then waits forever.
const severalInstancesWarning = "%d instances of the %s input in one Fluent Bit: Fluent Bit 5.1 pauses only the last one started, " +
	"so back-pressure and shutdown do not stop the others (records they hand over late in the grace period are lost, and a hot reload hangs). " +
	"Run one instance of this input per Fluent Bit"

func newInput(ins *flb.Instance) (in plugin.Input, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	env := ins.Env()
	env.Threaded = threaded(flb.ThreadName())
	return def.New(env)
}

// threaded tells the input's mode from the name of the thread its Init runs
// on: "flb-in-<name>" when Fluent Bit runs it threaded (the default for Go
// inputs), the engine's "flb-pipeline" with `threaded off`.
func threaded(thread string) bool { return strings.HasPrefix(thread, "flb-in-") }

func lookup(ctx unsafe.Pointer) *inputInstance {
	mu.Lock()
	defer mu.Unlock()
	return instances[cgo.Handle(uintptr(ctx))]
}

// collect runs one collect for inst into a malloc'd buffer (the spare one
// when there is one) and hands that buffer to Fluent Bit.
func collect(inst *inputInstance, data *unsafe.Pointer, size *C.size_t) C.int {
	*data, *size = nil, 0
	if inst == nil {
		return -1
	}
	inst.mu.Lock()
	defer inst.mu.Unlock()
	if inst.closed {
		return -1
	}
	if inst.memory != nil && inst.checkMemory() && !inst.watching {
		inst.watching = true
		go inst.watchMemory()
	}
	var buf cbuf
	mu.Lock()
	if n := len(inst.spares); n > 0 {
		buf = inst.spares[n-1]
		inst.spares = inst.spares[:n-1]
	}
	mu.Unlock()
	if buf.p == nil && inst.buffered {
		// No spare yet: take one of keepMax, which any collect of this
		// input but an outsized one fits, so that Collect appends straight
		// into it. Left to grow, the records went first into Go memory,
		// zeroed, and were then copied into a C buffer half as large again:
		// each collect larger than the last faulted both in, page by page,
		// a sixth of the processor's page faults in a drain. malloc only
		// reserves the pages; those no collect reaches are never touched.
		buf = cbuf{p: C.malloc(C.size_t(inst.keepMax)), n: inst.keepMax}
	}
	records, done := safeCollect(inst, buf.view())
	if len(records) == 0 {
		inst.keep(buf)
		if done != nil {
			done()
		}
		return 0
	}
	if buf.p == nil || unsafe.Pointer(unsafe.SliceData(records)) != buf.p {
		// The records outgrew the buffer (or there was none): copy them into
		// one with room to grow, which later collects reuse.
		buf.free()
		n := max(len(records)+len(records)/2, minBuffer)
		buf = cbuf{p: C.malloc(C.size_t(n)), n: n}
		copy(unsafe.Slice((*byte)(buf.p), n), records)
	}
	if done == nil {
		done = func() {}
	}
	mu.Lock()
	pending[uintptr(buf.p)] = handed{done: done, inst: inst, buf: buf}
	mu.Unlock()
	*data, *size = buf.p, C.size_t(len(records))
	return 0
}

// keep makes buf a spare buffer of inst, or frees it: two spares per
// instance, of at most keepMax bytes each, none once it is closed.
func (inst *inputInstance) keep(buf cbuf) {
	if buf.p == nil {
		return
	}
	mu.Lock()
	if inst.closed || buf.n > inst.keepMax || len(inst.spares) == maxSpares {
		mu.Unlock()
		buf.free()
		return
	}
	inst.spares = append(inst.spares, buf)
	mu.Unlock()
}

func safeCollect(inst *inputInstance, buf []byte) (records []byte, done func()) {
	defer func() {
		if r := recover(); r != nil {
			inst.flb.Errorf("collect panicked: %v\n%s", r, debug.Stack())
			records, done = nil, nil
		}
	}()
	return inst.in.Collect(buf)
}

//export FLBPluginInputCallbackCtx
func FLBPluginInputCallbackCtx(ctx unsafe.Pointer, data *unsafe.Pointer, size *C.size_t) C.int {
	return collect(lookup(ctx), data, size)
}

// FLBPluginInputCallback serves Fluent Bit builds without the context
// variant; it can only tell instances apart when there is one.
//
//export FLBPluginInputCallback
func FLBPluginInputCallback(data *unsafe.Pointer, size *C.size_t) C.int {
	mu.Lock()
	var only *inputInstance
	n := 0
	for _, inst := range instances {
		only = inst
		n++
	}
	mu.Unlock()
	if n != 1 {
		if only != nil {
			only.flb.Errorf("this Fluent Bit calls the input callback without context; with %d instances it cannot tell them apart: collecting nothing", n)
		}
		*data, *size = nil, 0
		return -1
	}
	return collect(only, data, size)
}

// cleanup takes back a buffer Fluent Bit has consumed (kept for its
// instance's next collect, or freed) and acknowledges its records to the
// plugin.
func cleanup(data unsafe.Pointer) C.int {
	if data == nil {
		return 0
	}
	mu.Lock()
	h, ok := pending[uintptr(data)]
	delete(pending, uintptr(data))
	mu.Unlock()
	if !ok {
		C.free(data)
		return 0
	}
	h.inst.keep(h.buf)
	h.done()
	return 0
}

//export FLBPluginInputCleanupCallbackCtx
func FLBPluginInputCleanupCallbackCtx(ctx, data unsafe.Pointer) C.int { return cleanup(data) }

//export FLBPluginInputCleanupCallback
func FLBPluginInputCleanupCallback(data unsafe.Pointer) C.int { return cleanup(data) }

// live returns the instances not yet closed.
func live() []*inputInstance {
	mu.Lock()
	defer mu.Unlock()
	out := make([]*inputInstance, 0, len(instances))
	for _, inst := range instances {
		out = append(out, inst)
	}
	return out
}

// checkMemory lets the memory guard pause or resume inst (package
// memguard), under inst.mu: collect calls it before taking the records,
// watchMemory between collects. It reports whether to sample again before
// the next collect (memguard's Often).
func (inst *inputInstance) checkMemory() (busy bool) {
	paused, changed, s, err := inst.memory.Check()
	if err != nil {
		if !inst.memoryFailed {
			inst.memoryFailed = true
			inst.flb.Errorf("pause_above_rss cannot read the process's memory, so it is not applied: %v", err)
		}
		return false
	}
	busy = inst.memory.Often(s)
	if !changed {
		return busy
	}
	if paused {
		inst.flb.Infof("pausing: %s, at or above pause_above_rss (%d MiB); resuming below 90%% of it or once no chunk is in memory", s, inst.memory.Limit()>>20)
	} else {
		inst.flb.Infof("resuming: %s", s)
	}
	inst.setPaused(func() { inst.byMemory = paused }, false)
	return busy
}

// setPaused changes the pause state with change (under pauseMu) and pauses
// or resumes the input when its overall state changes: it resumes only once
// neither the engine nor the memory guard holds it. engine says Fluent Bit
// itself asked for the pause: that reaches the input even when it is
// already paused, on the thread Fluent Bit called from, as every engine
// pause did before the memory guard (the inputs' Pause is idempotent); the
// test host's check against the real engine compares those calls.
func (inst *inputInstance) setPaused(change func(), engine bool) {
	inst.pauseMu.Lock()
	defer inst.pauseMu.Unlock()
	change()
	want := inst.byEngine || inst.byMemory
	if want == inst.paused && !(want && engine) {
		return
	}
	inst.paused = want
	if want {
		inst.in.Pause()
	} else {
		inst.in.Resume()
	}
}

// FLBPluginInputPause carries no context, so it pauses every instance.
//
//export FLBPluginInputPause
func FLBPluginInputPause() {
	for _, inst := range live() {
		inst.setPaused(func() { inst.byEngine = true }, true)
		inst.flb.Debugf("paused by Fluent Bit (back-pressure)")
	}
}

// FLBPluginInputResume carries no context, so it resumes every instance
// (each stays paused while its memory guard holds it).
//
//export FLBPluginInputResume
func FLBPluginInputResume() {
	for _, inst := range live() {
		inst.setPaused(func() { inst.byEngine = false }, false)
		inst.flb.Debugf("resumed by Fluent Bit")
	}
}

// FLBPluginExit is called once per instance with no context. The engine is
// shutting inputs down, so the first call stops every instance; later calls
// find nothing left to stop.
//
//export FLBPluginExit
func FLBPluginExit() C.int {
	mu.Lock()
	all := make([]*inputInstance, 0, len(instances))
	for h, inst := range instances {
		all = append(all, inst)
		delete(instances, h)
		h.Delete()
	}
	// Instances are numbered as Fluent Bit numbers them; after a hot reload
	// the new instances start at .0 again.
	nextID = 0
	mu.Unlock()
	ret := C.int(plugin.OK)
	for _, inst := range all {
		inst.mu.Lock()
		mu.Lock()
		inst.closed = true // written under both locks: keep reads it under mu
		spares := inst.spares
		inst.spares = nil
		mu.Unlock()
		for _, b := range spares {
			b.free()
		}
		err := inst.in.Close()
		inst.mu.Unlock()
		if err != nil {
			inst.flb.Errorf("stopping: %v", err)
			ret = C.int(plugin.Error)
			continue
		}
		inst.flb.Debugf("stopped")
	}
	return ret
}
