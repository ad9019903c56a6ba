// Package flb is the cgo glue shared by Whirlpool's input and output shims:
// registration, reading an instance's properties and logging through Fluent
// Bit's own API table. The exported entry points live in flb/input and
// flb/output; a shim imports exactly one of them.
package flb

/*
#cgo CFLAGS: -I${SRCDIR} -D_GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include "flbproxy.h"

#include <pthread.h>

static void flbgo_register(struct flb_plugin_proxy_def *def, int type, char *name, char *desc,
                           struct flb_config_map *map) {
    def->type = type;
    def->proxy = FLB_PROXY_GOLANG;
    def->flags = 0;
    def->name = name;
    def->description = desc;
    def->event_type = 0;
    def->config_map = map;
}

// flbgo_config_map allocates a {0}-terminated map of n entries.
static struct flb_config_map *flbgo_config_map(int n) {
    return calloc((size_t) n + 1, sizeof(struct flb_config_map));
}

static void flbgo_config_map_set(struct flb_config_map *map, int i, char *name, char *def, char *desc) {
    map[i].type = FLB_CONFIG_MAP_STR;
    map[i].name = name;
    map[i].def_value = def;
    map[i].desc = desc;
}

static void flbgo_thread_name(char *buf, size_t len) {
    buf[0] = 0;
    pthread_getname_np(pthread_self(), buf, len);
}

static char *flbgo_get_property(struct flb_api *api, int input, char *key, void *ins) {
    if (input) return api->input_get_property(key, ins);
    return api->output_get_property(key, ins);
}

static int flbgo_log_check(struct flb_api *api, int input, void *ins, int level) {
    if (input) return api->input_log_check(ins, level);
    return api->output_log_check(ins, level);
}

static void flbgo_set_remote(int input, void *plugin, uintptr_t handle) {
    if (input) ((struct flbgo_input_plugin *) plugin)->context->remote_context = (void *) handle;
    else ((struct flbgo_output_plugin *) plugin)->context->remote_context = (void *) handle;
}

static void flbgo_log_print(struct flb_api *api, int level, char *file, int line, char *msg) {
    api->log_print(level, file, line, "%s", msg);
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"

	"github.com/whirlpool-events/whirlpool/internal/logsafe"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

// Kind tells inputs from outputs where the API table has one function each.
type Kind int

// Plugin kinds, with Fluent Bit's proxy type numbers.
const (
	Input  Kind = C.FLB_PROXY_INPUT_PLUGIN
	Output Kind = C.FLB_PROXY_OUTPUT_PLUGIN
)

func (k Kind) String() string {
	if k == Input {
		return "input"
	}
	return "output"
}

// Register fills the definition Fluent Bit passes to FLBPluginRegister,
// with a config map of the declared properties: the engine then refuses a
// misspelt key at start-up (and under --dry-run) and `-h` lists them. The
// memory is allocated once per process and read by Fluent Bit after.
func Register(def unsafe.Pointer, kind Kind, name, description string, properties []plugin.Property) {
	cmap := C.flbgo_config_map(C.int(len(properties)))
	for i, p := range properties {
		var dflt *C.char
		if p.Default != "" {
			dflt = C.CString(p.Default)
		}
		C.flbgo_config_map_set(cmap, C.int(i), C.CString(p.Name), dflt, C.CString(p.Meaning))
	}
	C.flbgo_register((*C.struct_flb_plugin_proxy_def)(def), C.int(kind), C.CString(name), C.CString(description), cmap)
}

// ThreadName returns the name of the calling OS thread. Fluent Bit runs a
// threaded input's Init on "flb-in-<plugin name>" and a non-threaded one's on
// the engine thread, "flb-pipeline".
func ThreadName() string {
	var buf [64]C.char
	C.flbgo_thread_name(&buf[0], C.size_t(len(buf)))
	return C.GoString(&buf[0])
}

// Instance is one configured plugin instance as Fluent Bit sees it: its API
// table and its opaque instance pointer. It implements plugin.Config and
// plugin.Logger.
type Instance struct {
	kind   Kind
	api    *C.struct_flb_api
	ins    unsafe.Pointer
	name   string // e.g. "sqs.0", as Fluent Bit names instances
	prefix string
	// levels caches log_check per level: the level cannot change at run time,
	// and a cgo call per debug line on the hot path is waste.
	levels [6]bool
}

// NewInstance reads the API table and instance pointer from the struct
// Fluent Bit passes to FLBPluginInit, and names the instance, e.g.
// "output:sqs:sqs.0".
func NewInstance(kind Kind, pluginStruct unsafe.Pointer, name string, index int) *Instance {
	var api *C.struct_flb_api
	var ins unsafe.Pointer
	if kind == Input {
		p := (*C.struct_flbgo_input_plugin)(pluginStruct)
		api, ins = p.api, p.i_ins
	} else {
		p := (*C.struct_flbgo_output_plugin)(pluginStruct)
		api, ins = p.api, p.o_ins
	}
	in := &Instance{kind: kind, api: api, ins: ins, name: fmt.Sprintf("%s.%d", name, index)}
	in.prefix = fmt.Sprintf("[%s:%s:%s] ", kind, name, in.name)
	for l := plugin.LevelError; l <= plugin.LevelTrace; l++ {
		in.levels[l] = C.flbgo_log_check(api, in.isInput(), ins, C.int(l)) != 0
	}
	return in
}

// Name returns the instance's display name, e.g. "sqs.0".
func (in *Instance) Name() string { return in.name }

func (in *Instance) isInput() C.int {
	if in.kind == Input {
		return 1
	}
	return 0
}

// SetContext stores the instance's remote context (a cgo.Handle value, an
// opaque integer) where Fluent Bit reads it back: offset 0 of the output
// context, offset 8 of the input context.
func SetContext(kind Kind, pluginStruct unsafe.Pointer, handle uintptr) {
	input := C.int(0)
	if kind == Input {
		input = 1
	}
	C.flbgo_set_remote(input, pluginStruct, C.uintptr_t(handle))
}

// Get returns a property value, "" when unset. Fluent Bit matches keys
// case-insensitively.
func (in *Instance) Get(key string) string {
	k := C.CString(key)
	defer C.free(unsafe.Pointer(k))
	v := C.flbgo_get_property(in.api, in.isInput(), k, in.ins)
	if v == nil {
		return ""
	}
	return C.GoString(v)
}

// Enabled reports whether the instance's log_level includes l.
func (in *Instance) Enabled(l plugin.Level) bool {
	if l < plugin.LevelError || l > plugin.LevelTrace {
		return false
	}
	return in.levels[l]
}

func (in *Instance) logf(l plugin.Level, format string, args []any) {
	if !in.Enabled(l) {
		return
	}
	// Escaped here, once for every plugin: messages carry client and
	// database text, which must not forge or colour log lines.
	msg := C.CString(in.prefix + logsafe.Escape(fmt.Sprintf(format, args...)))
	defer C.free(unsafe.Pointer(msg))
	file, line := "whirlpool", 0
	if _, f, n, ok := runtime.Caller(2); ok {
		file, line = f, n
	}
	cf := C.CString(file)
	defer C.free(unsafe.Pointer(cf))
	C.flbgo_log_print(in.api, C.int(l), cf, C.int(line), msg)
}

// Errorf logs at error level.
func (in *Instance) Errorf(format string, args ...any) { in.logf(plugin.LevelError, format, args) }

// Warnf logs at warn level.
func (in *Instance) Warnf(format string, args ...any) { in.logf(plugin.LevelWarn, format, args) }

// Infof logs at info level.
func (in *Instance) Infof(format string, args ...any) { in.logf(plugin.LevelInfo, format, args) }

// Debugf logs at debug level.
func (in *Instance) Debugf(format string, args ...any) { in.logf(plugin.LevelDebug, format, args) }

// Env bundles the instance for a plugin constructor.
func (in *Instance) Env() plugin.Env {
	return plugin.Env{Config: in, Log: in, Name: in.Name()}
}
