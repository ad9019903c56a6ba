// Package output exports the symbols Fluent Bit's Go proxy looks up in an
// output plugin's shared object. A shim registers one plugin.OutputPlugin
// from init(); every configured instance then gets its own plugin.Output
// behind the remote context pointer, so instances never share state.
package output

/*
#include <stdlib.h>
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"runtime/debug"
	"sync"
	"unsafe"

	"github.com/whirlpool-events/whirlpool/internal/flb"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

var (
	def plugin.OutputPlugin

	mu       sync.Mutex
	nextID   int
	instance = map[cgo.Handle]*outputInstance{}
)

type outputInstance struct {
	flb *flb.Instance
	out plugin.Output
}

// Register names the output this shared object provides. Call it from the
// shim's init().
func Register(p plugin.OutputPlugin) { def = p }

//export FLBPluginRegister
func FLBPluginRegister(d unsafe.Pointer) C.int {
	if def.New == nil {
		return -1
	}
	flb.Register(d, flb.Output, def.Name, def.Description, def.Properties)
	return 0
}

//export FLBPluginInit
func FLBPluginInit(p unsafe.Pointer) C.int {
	mu.Lock()
	id := nextID
	nextID++
	mu.Unlock()

	ins := flb.NewInstance(flb.Output, p, def.Name, id)
	out, err := newOutput(ins)
	if err != nil {
		ins.Errorf("cannot start: %v", err)
		return C.int(plugin.Error)
	}
	h := cgo.NewHandle(&outputInstance{flb: ins, out: out})
	mu.Lock()
	instance[h] = h.Value().(*outputInstance)
	mu.Unlock()
	flb.SetContext(flb.Output, p, uintptr(h))
	ins.Debugf("started")
	return C.int(plugin.OK)
}

func newOutput(ins *flb.Instance) (out plugin.Output, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return def.New(ins.Env())
}

func lookup(ctx unsafe.Pointer) *outputInstance {
	h := cgo.Handle(uintptr(ctx))
	mu.Lock()
	o := instance[h]
	mu.Unlock()
	return o
}

//export FLBPluginFlushCtx
func FLBPluginFlushCtx(ctx, data unsafe.Pointer, length C.int, tag *C.char) (ret C.int) {
	o := lookup(ctx)
	if o == nil {
		return C.int(plugin.Retry)
	}
	defer func() {
		if r := recover(); r != nil {
			o.flb.Errorf("flush panicked, chunk kept for retry: %v\n%s", r, debug.Stack())
			ret = C.int(plugin.Retry)
		}
	}()
	var chunk []byte
	if length > 0 && data != nil {
		// A view of Fluent Bit's buffer, valid only during this call.
		chunk = unsafe.Slice((*byte)(data), int(length))
	}
	return C.int(o.out.Flush(chunk, C.GoString(tag)))
}

//export FLBPluginExitCtx
func FLBPluginExitCtx(ctx unsafe.Pointer) C.int {
	h := cgo.Handle(uintptr(ctx))
	mu.Lock()
	o := instance[h]
	delete(instance, h)
	if len(instance) == 0 {
		// Instances are numbered as Fluent Bit numbers them; after a hot
		// reload the new instances start at .0 again.
		nextID = 0
	}
	mu.Unlock()
	if o == nil {
		return C.int(plugin.OK)
	}
	h.Delete()
	if err := o.out.Close(); err != nil {
		o.flb.Errorf("stopping: %v", err)
		return C.int(plugin.Error)
	}
	o.flb.Debugf("stopped")
	return C.int(plugin.OK)
}
