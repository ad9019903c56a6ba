package flbhost

/*
#include <stdlib.h>
#include "host.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"
)

// CollectInterval is fixed in Fluent Bit's Go proxy (PROXY_CALLBACK_TIME).
const CollectInterval = time.Second

// Append is one buffer the input handed to the engine, as appended to the
// instance's tag.
type Append struct {
	Tag  string
	Data []byte
}

// InputInstance is one configured input, like an [INPUT] section. Go inputs
// are always threaded: each instance has its own collector thread.
type InputInstance struct {
	p   *Plugin
	ins *C.struct_host_instance
	ctx *C.struct_flb_plugin_input_proxy_context
	Tag string
	// MemBufLimit pauses the input (as Fluent Bit does) while the engine
	// holds at least this many bytes that nobody drained; 0 means no limit.
	MemBufLimit int

	thread *thread
	stop   chan struct{}
	wg     sync.WaitGroup

	mu       sync.Mutex
	cond     *sync.Cond
	buffered []Append
	bytes    int
	paused   bool
	byLimit  bool
	started  bool
	exited   bool
	collects int
}

var nextCollFD = 100

// NewInput initialises an instance with cfg (FLBPluginInit, then
// FLBPluginInputPreRun when exported). Call Start to begin the 1-second
// collector, as the engine does when it starts.
func (p *Plugin) NewInput(cfg Config) (*InputInstance, error) {
	ins, err := p.newInstance(Input, cfg)
	if err != nil {
		return nil, err
	}
	tag, ok := cfg.get("tag")
	if !ok {
		tag = p.Name + ".0"
	}
	limit := 0
	if v, ok := cfg.get("mem_buf_limit"); ok {
		if _, err := fmt.Sscanf(v, "%d", &limit); err != nil {
			C.host_instance_destroy(ins)
			return nil, fmt.Errorf("invalid mem_buf_limit %q", v)
		}
	}
	ctx := (*C.struct_flb_plugin_input_proxy_context)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_flb_plugin_input_proxy_context{}))))
	ctx.proxy = unsafe.Pointer(p.def)
	if err := p.init(ins, unsafe.Pointer(ctx)); err != nil {
		C.free(unsafe.Pointer(ctx))
		C.host_instance_destroy(ins)
		return nil, err
	}
	// The collector's fd is set after init, as flb_input_set_collector_time does.
	p.mu.Lock()
	ctx.coll_fd = C.int(nextCollFD)
	nextCollFD++
	p.mu.Unlock()
	in := &InputInstance{p: p, ins: ins, ctx: ctx, Tag: tag, MemBufLimit: limit, thread: newThread(), stop: make(chan struct{})}
	in.cond = sync.NewCond(&in.mu)
	p.preRun("FLBPluginInputPreRun")
	return in, nil
}

// RemoteContext is the pointer the plugin stored at init.
func (in *InputInstance) RemoteContext() unsafe.Pointer { return in.ctx.remote_context }

// Start runs the collector: one collect every CollectInterval, on the
// instance's own thread, skipped while paused.
func (in *InputInstance) Start() {
	in.mu.Lock()
	if in.started {
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
				paused := in.paused
				in.mu.Unlock()
				if !paused {
					in.collect()
				}
			}
		}
	}()
}

// collect is flb_proxy_input_cb_collect: collect; nothing when the size is
// 0; otherwise append a copy to the engine's buffer, then the cleanup
// callback (or free() when the plugin exports none).
func (in *InputInstance) collect() {
	in.thread.run(func() {
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
		// flb_input_log_append: over mem_buf_limit the engine pauses the
		// input right there, on this thread, before the cleanup.
		if in.appendBuffer(C.GoBytes(data, C.int(size))) {
			in.pause(true, true)
		}
		if s := in.p.syms["FLBPluginInputCleanupCallbackCtx"]; s != nil {
			C.host_call_cleanup_ctx(s, in.ctx.remote_context, data)
		} else if s := in.p.syms["FLBPluginInputCleanupCallback"]; s != nil {
			C.host_call_cleanup(s, data)
		} else {
			C.host_free(data)
		}
	})
}

// appendBuffer stores b and reports whether the input is now over its
// mem_buf_limit.
func (in *InputInstance) appendBuffer(b []byte) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.buffered = append(in.buffered, Append{Tag: in.Tag, Data: b})
	in.bytes += len(b)
	in.cond.Broadcast()
	return in.MemBufLimit > 0 && in.bytes >= in.MemBufLimit && !in.paused
}

// CollectNow runs one collect immediately on the instance's thread, the same
// call sequence as a timer tick (for tests that must not wait a second).
func (in *InputInstance) CollectNow() { in.collect() }

// Collects returns how many collect callbacks have run.
func (in *InputInstance) Collects() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.collects
}

// Drain takes everything the engine holds for this input, resuming it if
// it was paused by MemBufLimit.
func (in *InputInstance) Drain() []Append {
	in.mu.Lock()
	out := in.buffered
	in.buffered = nil
	in.bytes = 0
	resume := in.byLimit
	in.mu.Unlock()
	if resume {
		in.Resume()
	}
	return out
}

// Peek returns what the engine holds for this input without taking it.
func (in *InputInstance) Peek() []Append {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Append(nil), in.buffered...)
}

// WaitBytes blocks until the engine holds at least n bytes for this input
// or the timeout passes, and reports whether it does.
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

// Pause is the engine's back-pressure: FLBPluginInputPause (no context),
// then the collector stops.
func (in *InputInstance) Pause() { in.pause(false, false) }

// pause calls FLBPluginInputPause on the instance's thread; onThread says
// the caller already runs there.
func (in *InputInstance) pause(byLimit, onThread bool) {
	in.mu.Lock()
	if in.paused || in.exited {
		in.mu.Unlock()
		return
	}
	in.paused, in.byLimit = true, byLimit
	in.mu.Unlock()
	if s := in.p.syms["FLBPluginInputPause"]; s != nil {
		if onThread {
			C.host_call_void(s)
		} else {
			in.thread.run(func() { C.host_call_void(s) })
		}
	}
}

// Resume calls FLBPluginInputResume (no context) and restarts the collector.
func (in *InputInstance) Resume() {
	in.mu.Lock()
	if !in.paused || in.exited {
		in.mu.Unlock()
		return
	}
	in.paused, in.byLimit = false, false
	in.mu.Unlock()
	if s := in.p.syms["FLBPluginInputResume"]; s != nil {
		in.thread.run(func() { C.host_call_void(s) })
	}
}

// Paused reports whether the engine has paused the input.
func (in *InputInstance) Paused() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.paused
}

// Exit stops the collector thread, then calls FLBPluginInputPreExit when
// exported and FLBPluginExit, which carries no context.
func (in *InputInstance) Exit() (int, error) {
	in.mu.Lock()
	if in.exited {
		in.mu.Unlock()
		return 0, errors.New("already exited")
	}
	in.exited = true
	in.mu.Unlock()
	close(in.stop)
	in.wg.Wait()
	in.thread.stop()
	var ret C.int = FlbOK
	in.p.main.run(func() {
		if s := in.p.syms["FLBPluginInputPreExit"]; s != nil {
			C.host_call_pre_exit(s, 0)
		}
		if s := in.p.syms["FLBPluginExit"]; s != nil {
			ret = C.host_call_exit(s)
		}
	})
	C.free(unsafe.Pointer(in.ctx))
	C.host_instance_destroy(in.ins)
	in.p.exited()
	if ret != FlbOK {
		return int(ret), fmt.Errorf("%s: exit returned %d", in.p.Name, ret)
	}
	return int(ret), nil
}
