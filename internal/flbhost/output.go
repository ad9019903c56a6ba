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
	"sync"
	"unsafe"
)

// OutputInstance is one configured output, like an [OUTPUT] section.
type OutputInstance struct {
	p   *Plugin
	ins *C.struct_host_instance
	ctx *C.struct_flb_plugin_proxy_context
	id  int
	// Name is the engine's instance name, "<plugin>.<id>".
	Name    string
	Workers int
	// idle holds the flush threads: the engine thread "flb-pipeline" with
	// Workers 0, else one "flb-out-<name>-w<i>" per worker. A flush blocks
	// the thread that called it.
	idle chan *thread

	mu     sync.Mutex
	exited bool
}

// NewOutput initialises an instance with cfg (FLBPluginInit, then
// FLBPluginOutputPreRun when exported), on the engine thread "flb-pipeline"
// as Fluent Bit does.
func (p *Plugin) NewOutput(cfg Config) (*OutputInstance, error) {
	ins, err := p.newInstance(Output, cfg)
	if err != nil {
		return nil, err
	}
	workers, err := cfg.intValue("workers")
	if err != nil {
		C.host_instance_destroy(ins)
		return nil, p.configError(err)
	}
	ctx := (*C.struct_flb_plugin_proxy_context)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_flb_plugin_proxy_context{}))))
	ctx.proxy = unsafe.Pointer(p.def) // an engine pointer the plugin must not touch
	if err := p.init(pipeline(), ins, unsafe.Pointer(ctx)); err != nil {
		C.free(unsafe.Pointer(ctx))
		C.host_instance_destroy(ins)
		return nil, err
	}
	o := &OutputInstance{p: p, ins: ins, ctx: ctx, Workers: workers}
	o.id, o.Name = registerOutput(o)
	if workers == 0 {
		o.idle = make(chan *thread, 1)
		o.idle <- pipeline()
	} else {
		o.idle = make(chan *thread, workers)
		for i := 0; i < workers; i++ {
			o.idle <- newThread(fmt.Sprintf("flb-out-%s-w%d", o.Name, i))
		}
	}
	p.preRun(pipeline(), "FLBPluginOutputPreRun")
	return o, nil
}

// RemoteContext is the pointer the plugin stored at init.
func (o *OutputInstance) RemoteContext() unsafe.Pointer { return o.ctx.remote_context }

// Flush hands one chunk to the plugin and returns what it returned. The
// chunk is copied into engine memory that is valid only during the call and
// poisoned afterwards. Concurrent calls run on up to max(1, Workers) threads.
func (o *OutputInstance) Flush(chunk []byte, tag string) int {
	o.mu.Lock()
	exited := o.exited
	o.mu.Unlock()
	if exited {
		panic("flbhost: flush after exit")
	}
	t := <-o.idle
	defer func() { o.idle <- t }()

	var data unsafe.Pointer
	if len(chunk) > 0 {
		data = C.host_chunk_alloc(unsafe.Pointer(&chunk[0]), C.size_t(len(chunk)))
	} else {
		data = C.host_chunk_alloc(nil, 0)
	}
	ctag := C.CString(tag)
	var ret C.int
	t.run(func() {
		if s := o.p.syms["FLBPluginFlushCtx"]; s != nil {
			ret = C.host_call_flush_ctx(s, o.ctx.remote_context, data, C.size_t(len(chunk)), ctag, C.size_t(len(tag)))
		} else {
			ret = C.host_call_flush(o.p.syms["FLBPluginFlush"], data, C.size_t(len(chunk)), ctag, C.size_t(len(tag)))
		}
	})
	C.free(unsafe.Pointer(ctag))
	C.host_chunk_free(data, C.size_t(len(chunk)))
	return int(ret)
}

// Result maps a flush return value as Fluent Bit does: anything but OK,
// RETRY or ERROR counts as an error.
func Result(ret int) int {
	if ret != FlbOK && ret != FlbRetry && ret != FlbError {
		return FlbError
	}
	return ret
}

// Deliver flushes like the engine's scheduler: a RETRY is flushed again up
// to retryLimit times (Fluent Bit's default Retry_Limit is 1; negative means
// no limit). It returns the final result and the number of flushes.
func (o *OutputInstance) Deliver(chunk []byte, tag string, retryLimit int) (int, int) {
	for n := 1; ; n++ {
		r := Result(o.Flush(chunk, tag))
		if r != FlbRetry || (retryLimit >= 0 && n > retryLimit) {
			return r, n
		}
	}
}

// Exit stops the instance: FLBPluginOutputPreExit when exported, then
// FLBPluginExitCtx, or FLBPluginExit without context.
func (o *OutputInstance) Exit() (int, error) {
	o.mu.Lock()
	if o.exited {
		o.mu.Unlock()
		return 0, errors.New("already exited")
	}
	o.exited = true
	o.mu.Unlock()
	n := cap(o.idle)
	for i := 0; i < n; i++ { // wait for in-flight flushes
		if t := <-o.idle; o.Workers > 0 {
			t.stop()
		}
	}
	var ret C.int
	pipeline().run(func() {
		if s := o.p.syms["FLBPluginOutputPreExit"]; s != nil {
			C.host_call_pre_exit(s, 0)
		}
		if s := o.p.syms["FLBPluginExitCtx"]; s != nil {
			ret = C.host_call_exit_ctx(s, o.ctx.remote_context)
		} else if s := o.p.syms["FLBPluginExit"]; s != nil {
			ret = C.host_call_exit(s)
		}
	})
	C.free(unsafe.Pointer(o.ctx))
	C.host_instance_destroy(o.ins)
	unregisterOutput(o)
	o.p.exited()
	if ret != FlbOK {
		return int(ret), fmt.Errorf("%s: exit returned %d", o.p.Name, ret)
	}
	return int(ret), nil
}

// The engine's output instances, for instance ids.
var outputs struct {
	sync.Mutex
	list []*OutputInstance
}

// registerOutput names a new instance as flb_output_new does: the last
// instance's id plus one.
func registerOutput(o *OutputInstance) (int, string) {
	outputs.Lock()
	defer outputs.Unlock()
	id := 0
	if n := len(outputs.list); n > 0 {
		id = outputs.list[n-1].id + 1
	}
	outputs.list = append(outputs.list, o)
	return id, o.p.Name + "." + strconv.Itoa(id)
}

func unregisterOutput(o *OutputInstance) {
	outputs.Lock()
	defer outputs.Unlock()
	outputs.list = slices.DeleteFunc(outputs.list, func(e *OutputInstance) bool { return e == o })
}
