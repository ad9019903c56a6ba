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
	"unsafe"

	"github.com/whirlpool-events/whirlpool/internal/flb"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

// keepBuffer bounds the per-instance encode buffer kept between collects.
const keepBuffer = 4 << 20

var (
	def plugin.InputPlugin

	mu        sync.Mutex
	nextID    int
	instances = map[cgo.Handle]*inputInstance{}
	// pending maps each buffer handed to Fluent Bit to its acknowledgement.
	// Keyed by address, so the cleanup callback without context works too.
	pending = map[uintptr]func(){}
)

type inputInstance struct {
	flb *flb.Instance
	// mu serialises Collect and Close, which Fluent Bit may call from
	// different threads at shutdown.
	mu     sync.Mutex
	in     plugin.Input
	buf    []byte
	closed bool
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
	in, err := newInput(ins)
	if err != nil {
		ins.Errorf("cannot start: %v", err)
		return C.int(plugin.Error)
	}
	inst := &inputInstance{flb: ins, in: in}
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

// collect runs one collect for inst and hands Fluent Bit a malloc'd copy.
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
	records, done := safeCollect(inst)
	if len(records) == 0 {
		if done != nil {
			done()
		}
		return 0
	}
	p := C.malloc(C.size_t(len(records)))
	copy(unsafe.Slice((*byte)(p), len(records)), records)
	if cap(records) <= keepBuffer {
		inst.buf = records[:0]
	} else {
		inst.buf = nil
	}
	if done == nil {
		done = func() {}
	}
	mu.Lock()
	pending[uintptr(p)] = done
	mu.Unlock()
	*data, *size = p, C.size_t(len(records))
	return 0
}

func safeCollect(inst *inputInstance) (records []byte, done func()) {
	defer func() {
		if r := recover(); r != nil {
			inst.flb.Errorf("collect panicked: %v\n%s", r, debug.Stack())
			records, done = nil, nil
		}
	}()
	return inst.in.Collect(inst.buf[:0])
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

// cleanup frees a buffer Fluent Bit has consumed and acknowledges its
// records to the plugin.
func cleanup(data unsafe.Pointer) C.int {
	if data == nil {
		return 0
	}
	mu.Lock()
	done, ok := pending[uintptr(data)]
	delete(pending, uintptr(data))
	mu.Unlock()
	C.free(data)
	if ok {
		done()
	}
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

// FLBPluginInputPause carries no context, so it pauses every instance.
//
//export FLBPluginInputPause
func FLBPluginInputPause() {
	for _, inst := range live() {
		inst.in.Pause()
		inst.flb.Debugf("paused by Fluent Bit (back-pressure)")
	}
}

// FLBPluginInputResume carries no context, so it resumes every instance.
//
//export FLBPluginInputResume
func FLBPluginInputResume() {
	for _, inst := range live() {
		inst.in.Resume()
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
		inst.closed = true
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
