// Package plugin is the pure-Go contract between Whirlpool's plugin logic and
// the cgo glue that talks to Fluent Bit's Go proxy. Plugin packages depend on
// this package only, so they build and test without cgo.
package plugin

// Result is what an output flush returns to Fluent Bit.
type Result int

// Flush results, with the values Fluent Bit's Go proxy expects.
const (
	Error Result = 0 // FLB_ERROR: the chunk is dropped.
	OK    Result = 1 // FLB_OK: the chunk is done.
	Retry Result = 2 // FLB_RETRY: the whole chunk is scheduled again with back-off.
)

func (r Result) String() string {
	switch r {
	case OK:
		return "OK"
	case Retry:
		return "RETRY"
	case Error:
		return "ERROR"
	}
	return "INVALID"
}

// Config reads one instance's properties. Get returns "" for a key that is
// not set; keys are case-insensitive, as in Fluent Bit.
type Config interface {
	Get(key string) string
}

// Level is a Fluent Bit log level.
type Level int

// Fluent Bit's log levels, as its log_print and log_check use them.
const (
	LevelError Level = 1
	LevelWarn  Level = 2
	LevelInfo  Level = 3
	LevelDebug Level = 4
	LevelTrace Level = 5
)

// Logger writes through Fluent Bit's own logger, honouring the instance's
// log_level. Messages must never contain secrets.
type Logger interface {
	Enabled(l Level) bool
	Errorf(format string, args ...any)
	Warnf(format string, args ...any)
	Infof(format string, args ...any)
	Debugf(format string, args ...any)
}

// Env is what an instance gets at Init.
type Env struct {
	Config Config
	Log    Logger
	// Name is the instance's display name, e.g. "sqs.0".
	Name string
	// Threaded is true for an input whose collect runs on its own thread
	// (Fluent Bit's default for Go inputs). Its records then reach a ring
	// buffer, not a chunk, when the done func of Collect runs: an input that
	// acknowledges its source there must say so (see `threaded off`).
	Threaded bool
}

// Output is one configured output instance.
type Output interface {
	// Flush handles one chunk of msgpack records. chunk is owned by Fluent
	// Bit and valid only during the call: copy anything kept. Flush may be
	// called concurrently when the output runs with Workers > 1.
	Flush(chunk []byte, tag string) Result
	// Close releases the instance; no Flush is running or will run.
	Close() error
}

// Input is one configured input instance. Fluent Bit calls Collect every
// second from the instance's own thread.
type Input interface {
	// Collect appends the records that are ready (msgpack, Fluent Bit's
	// current record form) to buf and returns it, with done, which the glue
	// calls once Fluent Bit holds the records in its buffer (its cleanup
	// callback). done may be nil. An empty result means nothing this time.
	Collect(buf []byte) (records []byte, done func())
	// Pause and Resume follow Fluent Bit's back-pressure. Fluent Bit gives no
	// context with them, so the glue applies them to every instance.
	Pause()
	Resume()
	// Close stops the instance; Collect will not be called again.
	Close() error
}

// Property is what Fluent Bit is told about one property at registration:
// the engine refuses keys that are not declared and lists these with -h.
type Property struct {
	Name    string
	Default string // "" means none
	Meaning string
}

// OutputPlugin describes an output for registration.
type OutputPlugin struct {
	Name        string
	Description string
	Properties  []Property
	New         func(env Env) (Output, error)
}

// InputPlugin describes an input for registration.
type InputPlugin struct {
	Name        string
	Description string
	Properties  []Property
	New         func(env Env) (Input, error)
}

// NopLogger discards everything, for code that runs without a plugin
// instance's logger (benchmarks, library use).
type NopLogger struct{}

// Enabled reports no level as enabled.
func (NopLogger) Enabled(Level) bool { return false }

// Errorf discards.
func (NopLogger) Errorf(string, ...any) {}

// Warnf discards.
func (NopLogger) Warnf(string, ...any) {}

// Infof discards.
func (NopLogger) Infof(string, ...any) {}

// Debugf discards.
func (NopLogger) Debugf(string, ...any) {}
