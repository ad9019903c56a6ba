// Package flbhost loads a built Whirlpool plugin (.so) and drives it the way
// Fluent Bit 5.1's Go proxy does (src/flb_plugin_proxy.c and
// src/proxy/go/go.c of Fluent Bit; the README's "How the plugins meet
// Fluent Bit" lists what users rely on):
// dlopen, optional FLBPluginPreRegister, FLBPluginRegister (with its config
// map, which then refuses unknown keys as the engine does), FLBPluginInit per
// instance with the properties the engine hands on (core keys such as tag,
// port or threaded are consumed by the engine, see plugin.IsCoreKey), the
// pre-run hooks, output flushes with chunk memory the engine owns, the fixed
// 1-second input collect with the malloc'd buffer handed back through the
// cleanup callback, pause/resume without context, pre-exit and exit,
// unregister and dlclose. Any way a plugin could work here and not in Fluent
// Bit is a bug in this package.
//
// Threads, named as the engine names them (prctl, 15 characters at most):
// register runs on the loading thread; outputs initialise and exit on the
// engine thread "flb-pipeline", and flush there with Workers 0 or on
// "flb-out-<instance>-w<i>" with Workers N.
//
// Inputs are threaded by default, as the Go proxy makes them: Init, pre-run,
// every collect, pause, resume and exit run on the instance's own thread,
// "flb-in-<instance>-w0" (so "flb-in-eventing" for eventing.0). The append
// only copies the buffer into the instance's ring buffer and the cleanup
// callback runs right after that copy; an engine timer moves ring-buffer
// entries into chunks every RingInterval (250 ms), and none while the input
// is paused by its buffer limit. So a cleanup can come before the records are
// in a chunk: a crash then loses them (Snapshot, OnCleanup, Lost). With
// `threaded off` the instance runs on the engine thread "flb-pipeline",
// shared by every such input, and the append writes the chunk before the
// cleanup. Drain, Peek and WaitBytes see chunks only.
//
// Also as in the engine: one proxy per shared object remembers only the last
// initialised input instance, so a pause or resume of any instance stops or
// restarts that instance's collector; an append to an input paused by its
// limit is dropped after which the cleanup still runs; at exit the input is
// paused, its ring buffer moved (unless paused by its limit), paused again,
// and what is left in the ring buffer is destroyed.
package flbhost

/*
#cgo CFLAGS: -I${SRCDIR}/../flb
#cgo LDFLAGS: -ldl
#include <stdlib.h>
#include "host.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

// Kind is a plugin type as FLBPluginRegister declares it.
type Kind int

// Plugin types of struct flb_plugin_proxy_def.
const (
	Input  Kind = C.FLB_PROXY_INPUT_PLUGIN
	Output Kind = C.FLB_PROXY_OUTPUT_PLUGIN
	Custom Kind = C.FLB_PROXY_CUSTOM_PLUGIN
)

func (k Kind) String() string {
	switch k {
	case Input:
		return "input"
	case Output:
		return "output"
	case Custom:
		return "custom"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Flush return codes as Fluent Bit reads them.
const (
	FlbError = C.FLB_ERROR
	FlbOK    = C.FLB_OK
	FlbRetry = C.FLB_RETRY
)

// thread is one OS thread of the "engine", named as Fluent Bit names its
// threads: calls into the plugin run on it, in the order they were posted.
type thread struct {
	mu     sync.Mutex
	cond   *sync.Cond
	jobs   []func()
	closed bool
}

func newThread(name string) *thread {
	t := &thread{}
	t.cond = sync.NewCond(&t.mu)
	go func() {
		// The goroutine never unlocks: when it returns, its OS thread (and the
		// name given to it) exits with it.
		runtime.LockOSThread()
		if name != "" {
			cname := C.CString(name)
			C.host_thread_rename(cname)
			C.free(unsafe.Pointer(cname))
		}
		for {
			t.mu.Lock()
			for len(t.jobs) == 0 && !t.closed {
				t.cond.Wait()
			}
			if len(t.jobs) == 0 {
				t.mu.Unlock()
				return
			}
			f := t.jobs[0]
			t.jobs = t.jobs[1:]
			t.mu.Unlock()
			f()
		}
	}()
	return t
}

// post queues f without waiting, as the engine writes a message to a
// thread's event loop; it reports false once the thread is stopped.
func (t *thread) post(f func()) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.jobs = append(t.jobs, f)
	t.cond.Signal()
	return true
}

// run runs f on the thread after what is queued, and waits for it.
func (t *thread) run(f func()) bool {
	done := make(chan struct{})
	if !t.post(func() { f(); close(done) }) {
		return false
	}
	<-done
	return true
}

// stop lets the queued jobs finish, then ends the thread.
func (t *thread) stop() {
	t.mu.Lock()
	t.closed = true
	t.cond.Signal()
	t.mu.Unlock()
}

// pipeline is the engine thread, "flb-pipeline": one per process, as in
// Fluent Bit. Outputs initialise and exit on it, and a `threaded off` input
// initialises, collects, pauses and exits on it.
var pipeline = sync.OnceValue(func() *thread { return newThread("flb-pipeline") })

// Plugin is one loaded shared object, registered once.
type Plugin struct {
	Path        string
	Kind        Kind
	Name        string
	Description string
	EventType   int
	// ConfigMap is what FLBPluginRegister put in def->config_map, in order;
	// nil when the plugin registered none.
	ConfigMap []Property

	handle unsafe.Pointer
	def    *C.struct_flb_plugin_proxy_def
	api    *C.struct_flb_api
	main   *thread // Fluent Bit's main thread: register, init, exit
	// proxyData is Fluent Bit's per-proxy flbgo_*_plugin struct: one per
	// shared object, reused by every instance's init.
	proxyData unsafe.Pointer
	syms      map[string]unsafe.Pointer

	mu     sync.Mutex
	live   int
	closed bool
	// lastInput is the proxy's one instance pointer (proxy->instance), set
	// at each input init: the Go proxy pauses and resumes the collector of
	// this instance, whichever instance is asked to pause.
	lastInput *InputInstance
}

// Property is one entry of a registered config map.
type Property struct {
	Name        string
	Default     string // "" when the plugin gave none (NULL)
	Description string
}

var symbolNames = []string{
	"FLBPluginPreRegister", "FLBPluginRegister", "FLBPluginInit", "FLBPluginUnregister",
	"FLBPluginFlush", "FLBPluginFlushCtx", "FLBPluginExit", "FLBPluginExitCtx",
	"FLBPluginOutputPreRun", "FLBPluginOutputPreExit",
	"FLBPluginInputCallback", "FLBPluginInputCallbackCtx",
	"FLBPluginInputCleanupCallback", "FLBPluginInputCleanupCallbackCtx",
	"FLBPluginInputPause", "FLBPluginInputResume",
	"FLBPluginInputPreRun", "FLBPluginInputPreExit",
}

// Load opens and registers a plugin, as Fluent Bit does for `-e path` or a
// plugins file entry.
func Load(path string) (*Plugin, error) {
	p := &Plugin{Path: path, main: newThread(""), syms: map[string]unsafe.Pointer{}}
	var err error
	p.main.run(func() { err = p.load() })
	if err == nil {
		p.ConfigMap = p.readConfigMap()
	}
	if err != nil {
		p.main.stop()
		return nil, err
	}
	return p, nil
}

func (p *Plugin) load() error {
	cpath := C.CString(p.Path)
	defer C.free(unsafe.Pointer(cpath))
	var cerr *C.char
	p.handle = C.host_dlopen(cpath, &cerr)
	if p.handle == nil {
		defer C.free(unsafe.Pointer(cerr))
		return fmt.Errorf("error opening plugin %s: %s", p.Path, C.GoString(cerr))
	}
	for _, name := range symbolNames {
		cn := C.CString(name)
		if s := C.host_dlsym(p.handle, cn); s != nil {
			p.syms[name] = s
		}
		C.free(unsafe.Pointer(cn))
	}
	if pre := p.syms["FLBPluginPreRegister"]; pre != nil {
		if C.host_call_pre_register(pre, 0) == -1 {
			return fmt.Errorf("%s: FLBPluginPreRegister refused to load", p.Path)
		}
	}
	reg := p.syms["FLBPluginRegister"]
	if reg == nil {
		return fmt.Errorf("%s: no FLBPluginRegister symbol", p.Path)
	}
	p.def = (*C.struct_flb_plugin_proxy_def)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_flb_plugin_proxy_def{}))))
	if C.host_call_register(reg, p.def) == -1 {
		return fmt.Errorf("%s: FLBPluginRegister failed", p.Path)
	}
	if p.def.proxy != C.FLB_PROXY_GOLANG {
		return fmt.Errorf("%s: registered proxy type %d, want %d (Go)", p.Path, p.def.proxy, C.FLB_PROXY_GOLANG)
	}
	p.Kind = Kind(p.def._type)
	p.Name = C.GoString(p.def.name)
	p.Description = C.GoString(p.def.description)
	p.EventType = int(p.def.event_type)
	if p.Name == "" {
		return fmt.Errorf("%s: registered without a name", p.Path)
	}
	if p.syms["FLBPluginInit"] == nil {
		return fmt.Errorf("[go proxy]: could not load FLBPluginInit symbol from %s", p.Path)
	}
	p.api = C.host_api_create()
	switch p.Kind {
	case Output:
		if p.syms["FLBPluginFlushCtx"] == nil && p.syms["FLBPluginFlush"] == nil {
			return fmt.Errorf("%s: output exports neither FLBPluginFlushCtx nor FLBPluginFlush", p.Path)
		}
		o := (*C.struct_flbgo_output_plugin)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_flbgo_output_plugin{}))))
		o.name = C.CString(p.Name)
		p.proxyData = unsafe.Pointer(o)
	case Input:
		if p.syms["FLBPluginInputCallbackCtx"] == nil && p.syms["FLBPluginInputCallback"] == nil {
			return fmt.Errorf("%s: input exports no collect callback", p.Path)
		}
		in := (*C.struct_flbgo_input_plugin)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_flbgo_input_plugin{}))))
		in.name = C.CString(p.Name)
		p.proxyData = unsafe.Pointer(in)
	default:
		return fmt.Errorf("%s: plugin type %s is not supported by the test host", p.Path, p.Kind)
	}
	return nil
}

// Has reports whether the plugin exports symbol.
func (p *Plugin) Has(symbol string) bool { return p.syms[symbol] != nil }

// readConfigMap copies the {0}-terminated def->config_map.
func (p *Plugin) readConfigMap() []Property {
	m := p.def.config_map
	if m == nil {
		return nil
	}
	out := []Property{}
	for ; m.name != nil; m = (*C.struct_flb_config_map)(unsafe.Add(unsafe.Pointer(m), unsafe.Sizeof(*m))) {
		out = append(out, Property{Name: C.GoString(m.name), Default: C.GoString(m.def_value), Description: C.GoString(m.desc)})
	}
	return out
}

// Config holds an instance's properties as a Fluent Bit config section
// would. The engine consumes core properties (plugin.IsCoreKey: tag,
// mem_buf_limit, threaded, workers, log_level, port, ...): the host reads
// those it models and never shows them to the plugin.
type Config map[string]string

// get returns the value of key and whether it is set to a non-empty value:
// the engine treats an empty value as unset.
func (c Config) get(key string) (string, bool) {
	for k, v := range c {
		if strings.EqualFold(k, key) && v != "" {
			return v, true
		}
	}
	return "", false
}

// alwaysConsumed are the core keys flb_input_set_property and
// flb_output_set_property take even with an empty value; every other core
// key is taken only when its value is not empty (`&& tmp`), and an empty one
// reaches the plugin's properties (as NULL) and its config map check.
var alwaysConsumed = map[bool][]string{
	true: {"listen", "host", "port", "tls.vhost", "tls.ca_path", "tls.ca_file", "tls.crt_file",
		"tls.key_file", "tls.key_passwd", "tls.min_version", "tls.max_version", "tls.ciphers"},
	false: {"match", "host", "port", "retry_limit", "tls.vhost", "tls.ca_path", "tls.ca_file",
		"tls.crt_file", "tls.key_file", "tls.key_passwd", "tls.min_version", "tls.max_version",
		"tls.ciphers", "tls.proxy.ca_path", "tls.proxy.ca_file"},
}

// consumed reports whether the engine keeps key=value for itself.
func consumed(input bool, key, value string) bool {
	if !plugin.IsCoreKey(input, key) {
		return false
	}
	return value != "" || slices.ContainsFunc(alwaysConsumed[input], func(k string) bool { return strings.EqualFold(k, key) })
}

// pluginProperties returns what the engine hands on to the plugin, sorted
// by key (a Go map has no order; Fluent Bit keeps the file's). "name" (and
// "routes") select the plugin and are never properties.
func (c Config) pluginProperties(input bool) [][2]string {
	var out [][2]string
	for k, v := range c {
		if strings.EqualFold(k, "name") || strings.EqualFold(k, "routes") || consumed(input, k, v) {
			continue
		}
		out = append(out, [2]string{k, v})
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return out
}

var logLevels = map[string]int{"off": 0, "error": 1, "warn": 2, "warning": 2, "info": 3, "debug": 4, "trace": 5}

func (c Config) logLevel() (int, error) {
	v, ok := c.get("log_level")
	if !ok {
		return 3, nil
	}
	l, ok := logLevels[strings.ToLower(v)]
	if !ok {
		return 0, propertyError("log_level", v)
	}
	return l, nil
}

func (c Config) intValue(key string) (int, error) {
	v, ok := c.get(key)
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, propertyError(key, v)
	}
	return n, nil
}

// propertyError names a core property whose value the engine refuses;
// configError words it as the engine does.
func propertyError(key, value string) error { return fmt.Errorf("'%s' (value %q)", key, value) }

func (p *Plugin) configError(err error) error {
	return fmt.Errorf("[config] could not configure property %v on %s plugin with section name '%s'", err, p.Kind, p.Name)
}

// checkConfigMap is flb_config_map_properties_check: with a registered map,
// every property the plugin would see must be in it (case-insensitive; the
// engine also accepts "active" and "condition"), and only once.
func (p *Plugin) checkConfigMap(props [][2]string) error {
	if p.ConfigMap == nil {
		return nil
	}
	for _, kv := range props {
		key := kv[0]
		if strings.EqualFold(key, "active") || strings.EqualFold(key, "condition") {
			continue
		}
		if !slices.ContainsFunc(p.ConfigMap, func(m Property) bool { return strings.EqualFold(m.Name, key) }) {
			return fmt.Errorf("[config] %s: unknown configuration property '%s'. %s", p.Name, key, p.allowedProperties())
		}
		n := 0
		for _, other := range props {
			if strings.EqualFold(other[0], key) {
				n++
			}
		}
		if n > 1 {
			return fmt.Errorf("[config] %s: configuration property '%s' is set %d times", p.Name, key, n)
		}
	}
	return nil
}

// allowedProperties is helper_map_options: "a, b, and c.".
func (p *Plugin) allowedProperties() string {
	var b strings.Builder
	b.WriteString("The following properties are allowed: ")
	for i, m := range p.ConfigMap {
		switch {
		case i < len(p.ConfigMap)-1:
			b.WriteString(m.Name + ", ")
		case len(p.ConfigMap) == 1:
			b.WriteString(m.Name + ".")
		default:
			b.WriteString("and " + m.Name + ".")
		}
	}
	return b.String()
}

func (p *Plugin) newInstance(kind Kind, cfg Config) (*C.struct_host_instance, error) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, errors.New("plugin already unregistered")
	}
	if p.Kind != kind {
		return nil, fmt.Errorf("%s is an %s plugin, not an %s", p.Name, p.Kind, kind)
	}
	level, err := cfg.logLevel()
	if err != nil {
		return nil, p.configError(err)
	}
	props := cfg.pluginProperties(kind == Input)
	if err := p.checkConfigMap(props); err != nil {
		return nil, err
	}
	ins := C.host_instance_create(C.int(kind), C.int(level), C.int(len(props)))
	for i, kv := range props {
		var v *C.char // an empty value reaches the plugin as NULL
		if kv[1] != "" {
			v = C.CString(kv[1])
		}
		C.host_instance_set(ins, C.int(i), C.CString(kv[0]), v)
	}
	return ins, nil
}

// init runs FLBPluginInit on thread t with the shared proxy struct pointed
// at this instance, as proxy_go_*_init does.
func (p *Plugin) init(t *thread, ins *C.struct_host_instance, ctx unsafe.Pointer) error {
	var ret C.int
	t.run(func() {
		if p.Kind == Output {
			o := (*C.struct_flbgo_output_plugin)(p.proxyData)
			o.api = p.api
			o.o_ins = unsafe.Pointer(ins)
			o.context = (*C.struct_flb_plugin_proxy_context)(ctx)
		} else {
			in := (*C.struct_flbgo_input_plugin)(p.proxyData)
			in.api = p.api
			in.i_ins = unsafe.Pointer(ins)
			in.context = (*C.struct_flb_plugin_input_proxy_context)(ctx)
		}
		ret = C.host_call_init(p.syms["FLBPluginInit"], p.proxyData)
	})
	if ret <= 0 {
		return fmt.Errorf("[go proxy]: plugin '%s' failed to initialize (FLBPluginInit returned %d)", p.Name, ret)
	}
	p.mu.Lock()
	p.live++
	p.mu.Unlock()
	return nil
}

func (p *Plugin) preRun(t *thread, symbol string) {
	if s := p.syms[symbol]; s != nil {
		t.run(func() { C.host_call_pre_run(s, 0) })
	}
}

func (p *Plugin) exited() {
	p.mu.Lock()
	p.live--
	p.mu.Unlock()
}

// Close calls FLBPluginUnregister (when exported) after the last instance
// has exited, then dlcloses the object, as Fluent Bit's destroy does.
func (p *Plugin) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	if p.live > 0 {
		p.mu.Unlock()
		return fmt.Errorf("%s: %d instances still running", p.Name, p.live)
	}
	p.closed = true
	p.mu.Unlock()
	p.main.run(func() {
		if s := p.syms["FLBPluginUnregister"]; s != nil {
			C.host_call_unregister(s, p.def)
		}
		C.host_dlclose(p.handle)
	})
	p.main.stop()
	return nil
}

// Logs returns every line plugins printed through api->log_print since the
// process started, as "[level] message".
func Logs() []string {
	logMu.Lock()
	defer logMu.Unlock()
	var n C.size_t
	b := C.host_logs_drain(&n)
	if b != nil {
		s := C.GoStringN(b, C.int(n))
		C.free(unsafe.Pointer(b))
		logLines = append(logLines, strings.Split(strings.TrimSuffix(s, "\n"), "\n")...)
	}
	return append([]string(nil), logLines...)
}

// ResetLogs forgets every line logged so far, so that a test counts only
// its own lines even when run again in the same process (-count N). Call it
// when no instance of the test's plugins runs.
func ResetLogs() {
	logMu.Lock()
	defer logMu.Unlock()
	var n C.size_t
	if b := C.host_logs_drain(&n); b != nil {
		C.free(unsafe.Pointer(b))
	}
	logLines = nil
}

// LogsContaining returns the log lines that contain every one of parts.
func LogsContaining(parts ...string) []string {
	var out []string
next:
	for _, l := range Logs() {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

var (
	logMu    sync.Mutex
	logLines []string
)

// logf records a line the engine itself prints, after what plugins printed
// so far, so that tests see both in order.
func logf(level, format string, args ...any) {
	line := "[" + level + "] " + fmt.Sprintf(format, args...)
	Logs()
	logMu.Lock()
	defer logMu.Unlock()
	logLines = append(logLines, line)
	if os.Getenv("FLBHOST_VERBOSE") != "" {
		fmt.Fprintln(os.Stderr, line)
	}
}
