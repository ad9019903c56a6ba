package flbhost

/*
#include <stdlib.h>
#include "host.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// CollectInterval is fixed in Fluent Bit's Go proxy (PROXY_CALLBACK_TIME).
const CollectInterval = time.Second

// RingInterval is how often the engine moves threaded inputs' ring-buffer
// entries into chunks (flb_engine_start: FLB_DEV_RB_MS, default 250 ms).
const RingInterval = 250 * time.Millisecond

// Ring buffer defaults (flb_input.c): 1024 slots of one pointer each, and an
// early move once 5% of its bytes are used (thread.ring_buffer.window).
const (
	ringCapacity = 1024
	ringWindow   = 5
	ringSlot     = 8 // sizeof(void *): each entry is a pointer to a copy
)

// Append is one buffer the input handed to the engine, as appended to the
// instance's tag.
type Append struct {
	Tag  string
	Data []byte
}

// Snapshot is what the engine holds for an input at one moment. A kill -9
// then keeps Chunks (on disk with storage.type filesystem) and loses Ring.
type Snapshot struct {
	Chunks []Append // in chunks: what Drain returns
	Ring   []Append // copied by a threaded input's append, not yet in a chunk
}

// InputInstance is one configured input, like an [INPUT] section. Go inputs
// are threaded unless the config says `threaded off`: see the package doc.
type InputInstance struct {
	p   *Plugin
	ins *C.struct_host_instance
	ctx *C.struct_flb_plugin_input_proxy_context
	id  int
	// Name is the engine's instance name, "<plugin>.<id>": the default tag,
	// and part of the thread name.
	Name string
	Tag  string
	// Threaded is the instance's mode: collect on its own thread through a
	// ring buffer (the default), or on the engine thread into a chunk.
	Threaded bool
	// MemBufLimit pauses the input (as Fluent Bit does) while its chunks
	// hold at least this many bytes; 0 means no limit.
	MemBufLimit int

	thread   *thread // "flb-in-<name>-w0" when threaded, else the engine's
	capacity int     // ring-buffer slots
	window   int     // ring-buffer bytes that trigger an early move
	stop     chan struct{}
	wg       sync.WaitGroup
	moving   sync.Mutex // one ring-buffer move at a time keeps appends in order

	mu         sync.Mutex
	cond       *sync.Cond
	chunks     []Append
	bytes      int // mem_chunks_size
	ring       []Append
	signalled  bool // flush_pending: an early move is requested
	lost       []Append
	bufPaused  bool // mem_buf_status == FLB_INPUT_PAUSED
	collecting bool // the collector is running (not paused)
	started    bool
	shutdown   bool // the engine stopped ingestion
	exited     bool
	collects   int
	onCleanup  func(Snapshot)
}

// NewInput initialises an instance with cfg: FLBPluginInit, then
// FLBPluginInputPreRun when exported, on the instance's thread. Call Start
// to begin the 1-second collector, as the engine does when it starts.
func (p *Plugin) NewInput(cfg Config) (*InputInstance, error) {
	in := &InputInstance{p: p, Threaded: true, capacity: ringCapacity, stop: make(chan struct{})}
	in.cond = sync.NewCond(&in.mu)
	if err := in.configure(cfg); err != nil {
		return nil, p.configError(err)
	}
	ins, err := p.newInstance(Input, cfg)
	if err != nil {
		return nil, err
	}
	in.ins = ins
	in.id, in.Name = registerInput(in)
	if in.Tag == "" {
		in.Tag = in.Name
	}
	if in.Threaded {
		in.thread = newThread("flb-in-" + in.Name + "-w0")
	} else {
		in.thread = pipeline()
	}
	in.ctx = (*C.struct_flb_plugin_input_proxy_context)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_flb_plugin_input_proxy_context{}))))
	in.ctx.proxy = unsafe.Pointer(p.def)
	p.mu.Lock()
	p.lastInput = in // proxy->instance, set before init
	p.mu.Unlock()
	if err := p.init(in.thread, ins, unsafe.Pointer(in.ctx)); err != nil {
		in.release()
		return nil, err
	}
	// The collector is created after init; its id (coll_fd) is 0, the
	// instance's only collector.
	in.ctx.coll_fd = 0
	in.collecting = true
	p.preRun(in.thread, "FLBPluginInputPreRun")
	return in, nil
}

// configure reads the core keys the host models, as flb_input_set_property
// does; an error names the property.
func (in *InputInstance) configure(cfg Config) error {
	in.Tag, _ = cfg.get("tag")
	if v, ok := cfg.get("threaded"); ok {
		b, ok := parseBool(v)
		if !ok {
			return propertyError("threaded", v)
		}
		in.Threaded = b
	}
	if v, ok := cfg.get("mem_buf_limit"); ok {
		n, ok := sizeToBytes(v)
		if !ok {
			return propertyError("mem_buf_limit", v)
		}
		in.MemBufLimit = int(n)
	}
	if v, ok := cfg.get("thread.ring_buffer.capacity"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return propertyError("thread.ring_buffer.capacity", v)
		}
		in.capacity = n
	}
	window := ringWindow
	if v, ok := cfg.get("thread.ring_buffer.window"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 100 {
			return propertyError("thread.ring_buffer.window", v)
		}
		window = n
	}
	in.window = in.capacity * ringSlot * window / 100
	return nil
}

// release frees what NewInput allocated when init fails.
func (in *InputInstance) release() {
	if in.Threaded {
		in.thread.stop()
	}
	C.free(unsafe.Pointer(in.ctx))
	C.host_instance_destroy(in.ins)
	unregisterInput(in)
}

// RemoteContext is the pointer the plugin stored at init.
func (in *InputInstance) RemoteContext() unsafe.Pointer { return in.ctx.remote_context }

// Start runs the collector: one collect every CollectInterval on the
// instance's thread, while the collector is not paused.
func (in *InputInstance) Start() {
	in.mu.Lock()
	if in.started || in.exited {
		in.mu.Unlock()
		return
	}
	in.started = true
	in.mu.Unlock()
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		tick := time.NewTicker(CollectInterval)
		defer tick.Stop()
		for {
			select {
			case <-in.stop:
				return
			case <-tick.C:
				in.mu.Lock()
				running := in.collecting
				in.mu.Unlock()
				if running {
					in.thread.run(in.collect)
				}
			}
		}
	}()
}

// CollectNow runs one collect immediately on the instance's thread, the same
// call sequence as a timer tick (for tests that must not wait a second).
func (in *InputInstance) CollectNow() { in.thread.run(in.collect) }

// collect is flb_proxy_input_cb_collect, on the instance's thread: collect;
// nothing when the size is 0; otherwise flb_input_log_append (a copy into
// the ring buffer when threaded, into a chunk otherwise), then the cleanup
// callback (or free() when the plugin exports none).
func (in *InputInstance) collect() {
	var data unsafe.Pointer
	var size C.size_t
	var ret C.int
	if s := in.p.syms["FLBPluginInputCallbackCtx"]; s != nil {
		ret = C.host_call_collect_ctx(s, in.ctx.remote_context, &data, &size)
	} else {
		ret = C.host_call_collect(in.p.syms["FLBPluginInputCallback"], &data, &size)
	}
	in.mu.Lock()
	in.collects++
	in.mu.Unlock()
	if size == 0 || ret == -1 {
		return
	}
	a := Append{Tag: in.Tag, Data: C.GoBytes(data, C.int(size))}
	if in.Threaded {
		in.appendRing(a)
	} else {
		in.appendChunk(a, true)
	}
	if s := in.p.syms["FLBPluginInputCleanupCallbackCtx"]; s != nil {
		C.host_call_cleanup_ctx(s, in.ctx.remote_context, data)
	} else if s := in.p.syms["FLBPluginInputCleanupCallback"]; s != nil {
		C.host_call_cleanup(s, data)
	} else {
		C.host_free(data)
	}
	in.mu.Lock()
	hook := in.onCleanup
	snap := in.snapshot()
	in.mu.Unlock()
	if hook != nil {
		hook(snap)
	}
}

// appendRing is append_to_ring_buffer, on the input's thread: a full ring
// is retried 10 times 100 ms apart, then the copy is dropped (the cleanup
// still runs). Past the window the engine is asked to move entries now.
func (in *InputInstance) appendRing(a Append) {
	for try := 0; ; try++ {
		in.mu.Lock()
		if len(in.ring) < in.capacity {
			break
		}
		in.mu.Unlock()
		if try == 10 {
			in.mu.Lock()
			in.lost = append(in.lost, a)
			in.mu.Unlock()
			logf("error", "[input:%s:%s] could not enqueue records into the ring buffer", in.p.Name, in.Name)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	in.ring = append(in.ring, a)
	signal := !in.signalled && len(in.ring)*ringSlot >= in.window
	in.signalled = in.signalled || signal
	in.mu.Unlock()
	if signal {
		go in.moveRing()
	}
}

// moveRing is flb_input_chunk_ring_buffer_collector for this input: entries
// move into chunks in order, and none while the input is paused by its
// buffer limit.
func (in *InputInstance) moveRing() {
	in.moving.Lock()
	defer in.moving.Unlock()
	for {
		in.mu.Lock()
		if in.bufPaused || len(in.ring) == 0 {
			// flb_ring_buffer_mark_flushed
			if len(in.ring)*ringSlot < in.window {
				in.signalled = false
			}
			in.mu.Unlock()
			return
		}
		a := in.ring[0]
		in.ring = in.ring[1:]
		in.mu.Unlock()
		in.appendChunk(a, false)
	}
}

// appendChunk is input_chunk_append_raw, on the engine: a paused input's
// records are dropped; after the write, a memory limit reached pauses the
// input (flb_input_chunk_protect). onThread says the caller runs on the
// engine thread of a non-threaded input, so the pause runs right here,
// before the cleanup.
func (in *InputInstance) appendChunk(a Append, onThread bool) {
	in.mu.Lock()
	if in.bufPaused {
		in.lost = append(in.lost, a)
		in.mu.Unlock()
		logf("debug", "[input chunk] %s is paused, cannot append records", in.Name)
		return
	}
	in.chunks = append(in.chunks, a)
	in.bytes += len(a.Data)
	in.cond.Broadcast()
	over := in.MemBufLimit > 0 && in.bytes >= in.MemBufLimit
	in.mu.Unlock()
	if over {
		logf("warn", "[input] %s paused (mem buf overlimit - event of size %dB exceeded limit %d to %dB)", in.Name, len(a.Data), in.MemBufLimit, in.bytes)
		in.enginePause(onThread, false)
		in.mu.Lock()
		in.bufPaused = true
		in.mu.Unlock()
	}
}

// enginePause is flb_input_pause: nothing when the buffer status is already
// paused; else the proxy's pause callback on the instance's thread (a
// message, so asynchronous, when threaded): FLBPluginInputPause, which has
// no context, then the collector of the proxy's last initialised instance
// (proxy->instance), not necessarily this one's.
func (in *InputInstance) enginePause(onThread, wait bool) {
	in.mu.Lock()
	skip := in.bufPaused || in.exited
	in.mu.Unlock()
	if skip {
		return
	}
	f := func() {
		if s := in.p.syms["FLBPluginInputPause"]; s != nil {
			C.host_call_void(s)
		}
		in.p.proxyInstance().setCollecting(false)
	}
	in.onThread(f, onThread, wait)
}

// engineResume is flb_input_resume: FLBPluginInputResume, then the collector
// of the proxy's last initialised instance resumes (the engine refuses with
// an error when it is already running).
func (in *InputInstance) engineResume(wait bool) {
	f := func() {
		if s := in.p.syms["FLBPluginInputResume"]; s != nil {
			C.host_call_void(s)
		}
		last := in.p.proxyInstance()
		last.mu.Lock()
		running, shutdown := last.collecting, last.shutdown
		last.mu.Unlock()
		if running {
			logf("error", "[input] cannot resume collector %s:0, already running", last.Name)
		} else if !shutdown {
			last.setCollecting(true)
		}
	}
	in.onThread(f, false, wait)
}

// onThread runs f on the instance's thread: directly when the caller is
// already there, else queued, waiting for it when wait is set.
func (in *InputInstance) onThread(f func(), already, wait bool) {
	switch {
	case already:
		f()
	case wait:
		in.thread.run(f)
	default:
		in.thread.post(f)
	}
}

func (in *InputInstance) setCollecting(on bool) {
	in.mu.Lock()
	in.collecting = on
	in.mu.Unlock()
}

func (p *Plugin) proxyInstance() *InputInstance {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastInput
}

// setLimits is flb_input_chunk_set_limits, after chunks are released: an
// input paused by its limit and now under it resumes, unless the engine is
// shutting down.
func (in *InputInstance) setLimits() {
	in.mu.Lock()
	resume := in.bufPaused && !(in.MemBufLimit > 0 && in.bytes >= in.MemBufLimit) && !in.shutdown && !in.exited
	if resume {
		in.bufPaused = false
	}
	in.mu.Unlock()
	if resume {
		in.engineResume(true)
		logf("info", "[input] %s resume (mem buf overlimit - buf size %dB now below limit %dB)", in.Name, in.bytes, in.MemBufLimit)
	}
}

// Collects returns how many collect callbacks have run.
func (in *InputInstance) Collects() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.collects
}

// RingTick moves this input's ring-buffer entries into chunks now, as the
// engine's 250 ms timer does (for tests that must not wait for it).
func (in *InputInstance) RingTick() { in.moveRing() }

// Drain takes every chunk the engine holds for this input, as an output's
// flush releases them, resuming the input if it was paused by its limit.
func (in *InputInstance) Drain() []Append {
	in.mu.Lock()
	out := in.chunks
	in.chunks = nil
	in.bytes = 0
	in.mu.Unlock()
	in.setLimits()
	return out
}

// Peek returns the chunks the engine holds for this input without taking
// them.
func (in *InputInstance) Peek() []Append {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.chunks)
}

// Snapshot returns what the engine holds for this input now.
func (in *InputInstance) Snapshot() Snapshot {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.snapshot()
}

func (in *InputInstance) snapshot() Snapshot {
	return Snapshot{Chunks: slices.Clone(in.chunks), Ring: slices.Clone(in.ring)}
}

// OnCleanup calls f on the collecting thread right after each cleanup
// callback returns, with what the engine holds at that moment: the plugin
// takes the cleanup as "handed over", and a crash there loses Ring.
func (in *InputInstance) OnCleanup(f func(Snapshot)) {
	in.mu.Lock()
	in.onCleanup = f
	in.mu.Unlock()
}

// Lost returns what the engine dropped after the plugin's cleanup had run:
// appends to a paused input, copies into a full ring buffer, and ring-buffer
// entries left at exit.
func (in *InputInstance) Lost() []Append {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.lost)
}

// WaitBytes blocks until the engine's chunks hold at least n bytes for this
// input or the timeout passes, and reports whether they do.
func (in *InputInstance) WaitBytes(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() { in.mu.Lock(); in.cond.Broadcast(); in.mu.Unlock() })
	defer timer.Stop()
	in.mu.Lock()
	defer in.mu.Unlock()
	for in.bytes < n && time.Now().Before(deadline) {
		in.cond.Wait()
	}
	return in.bytes >= n
}

// Pause is the engine's back-pressure, as when the input reaches its
// mem_buf_limit: the pause callback (FLBPluginInputPause, no context), and
// its ring-buffer entries stay out of chunks until Resume.
func (in *InputInstance) Pause() {
	in.enginePause(false, true)
	in.mu.Lock()
	in.bufPaused = !in.exited
	in.mu.Unlock()
}

// Resume ends a Pause: FLBPluginInputResume (no context) and the collector
// restarts.
func (in *InputInstance) Resume() {
	in.mu.Lock()
	paused := in.bufPaused && !in.exited
	in.bufPaused = false
	in.mu.Unlock()
	if paused {
		in.engineResume(true)
	}
}

// Paused reports whether the engine has paused the input for its buffer.
func (in *InputInstance) Paused() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.bufPaused
}

// Exit stops the instance as Fluent Bit's shutdown does (see Shutdown for
// several instances): the input is paused (flb_engine_stop_ingestion), its
// ring buffer keeps moving into chunks during the grace period unless paused
// by its limit, it is paused again (flb_engine_shutdown), then
// FLBPluginInputPreExit when exported and FLBPluginExit (no context) run on
// its thread. Ring-buffer entries still there are destroyed: see Lost.
func (in *InputInstance) Exit() (int, error) {
	if err := in.stopIngestion(); err != nil {
		return 0, err
	}
	in.moveRing()
	in.enginePause(false, true)
	return in.exit()
}

// Shutdown stops instances as Fluent Bit's shutdown does: every input is
// paused, their ring buffers move during the grace period, every input is
// paused again, then the outputs exit, then the inputs in reverse order.
func Shutdown(ins []*InputInstance, outs []*OutputInstance) error {
	var errs []error
	for _, in := range ins {
		errs = append(errs, in.stopIngestion())
	}
	for _, in := range ins {
		in.moveRing()
	}
	for _, in := range ins {
		in.enginePause(false, true)
	}
	for _, o := range outs {
		_, err := o.Exit()
		errs = append(errs, err)
	}
	for _, in := range slices.Backward(ins) {
		_, err := in.exit()
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// stopIngestion is flb_engine_stop_ingestion for this input: no resume
// from now on, and a pause.
func (in *InputInstance) stopIngestion() error {
	in.mu.Lock()
	if in.shutdown {
		in.mu.Unlock()
		return errors.New("already exited")
	}
	in.shutdown = true
	in.mu.Unlock()
	in.enginePause(false, true)
	return nil
}

// exit stops the collector, runs the exit callbacks on the instance's
// thread and destroys what is left in the ring buffer.
func (in *InputInstance) exit() (int, error) {
	in.mu.Lock()
	in.exited = true
	in.mu.Unlock()
	close(in.stop)
	in.wg.Wait()
	var ret C.int = FlbOK
	in.thread.run(func() {
		if s := in.p.syms["FLBPluginInputPreExit"]; s != nil {
			C.host_call_pre_exit(s, 0)
		}
		if s := in.p.syms["FLBPluginExit"]; s != nil {
			ret = C.host_call_exit(s)
		}
	})
	in.mu.Lock()
	in.lost = append(in.lost, in.ring...)
	in.ring = nil
	in.mu.Unlock()
	in.release()
	in.p.exited()
	if ret != FlbOK {
		return int(ret), fmt.Errorf("%s: exit returned %d", in.p.Name, ret)
	}
	return int(ret), nil
}

// The engine's input instances, for instance ids and the ring-buffer timer.
var inputs struct {
	sync.Mutex
	list  []*InputInstance
	timer sync.Once
}

// registerInput names a new instance as flb_input_new does (instance_id
// walks the instances in order) and starts the engine's ring-buffer timer.
func registerInput(in *InputInstance) (int, string) {
	inputs.Lock()
	defer inputs.Unlock()
	id := 0
	for _, e := range inputs.list {
		if e.id == id {
			id++
		}
	}
	in.id = id
	inputs.list = append(inputs.list, in)
	inputs.timer.Do(func() { go ringTimer() })
	return id, in.p.Name + "." + strconv.Itoa(id)
}

func unregisterInput(in *InputInstance) {
	inputs.Lock()
	defer inputs.Unlock()
	inputs.list = slices.DeleteFunc(inputs.list, func(e *InputInstance) bool { return e == in })
}

// ringTimer moves every threaded input's ring buffer into chunks each
// RingInterval, for the life of the process.
func ringTimer() {
	for range time.Tick(RingInterval) {
		inputs.Lock()
		list := slices.Clone(inputs.list)
		inputs.Unlock()
		for _, in := range list {
			if in.Threaded {
				in.moveRing()
			}
		}
	}
}

// parseBool is flb_utils_bool.
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true", "on", "yes":
		return true, true
	case "false", "off", "no":
		return false, true
	}
	return false, false
}

// sizeToBytes is flb_utils_size_to_bytes: a number with an optional K, M or
// G (powers of 1000), optionally followed by B; "false" is 0.
func sizeToBytes(v string) (int64, bool) {
	if strings.EqualFold(v, "false") {
		return 0, true
	}
	num := strings.TrimRightFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToUpper(v[len(num):])
	val, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, false
	}
	mult := map[string]float64{"": 1, "K": 1e3, "KB": 1e3, "M": 1e6, "MB": 1e6, "G": 1e9, "GB": 1e9}[unit]
	if mult == 0 {
		return 0, false
	}
	return int64(val * mult), true
}
