package redshift

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/dsn"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// Plugin registers the output with the glue.
var Plugin = plugin.OutputPlugin{
	Name:        "redshift",
	Description: "Loads events and failures into Amazon Redshift or PostgreSQL",
	Properties:  PluginProperties.Declared(),
	New:         newPlugin,
}

// Validator is the data model the output works with (*validate.Validator).
// It validates records that did not go through filters/validate upstream
// (AppendValidated appends whole records in the valid or failure form;
// several for an expanded event), and says what a valid record may carry
// (Allowed, AllowedCached), re-reading the model when a record names what it lacks
// (Refresh), and which tables the model names (HasTable, for metrics).
type Validator interface {
	AppendValidated(dst []byte, rec record.Record) []byte
	Allowed(game, event, label []byte) (validate.Allowed, bool)
	AllowedCached(c *validate.ColumnCache, game, event, label []byte) (validate.Allowed, bool)
	Refresh(minAge time.Duration) bool
	HasTable(table string) bool
}

// Option configures New beyond the properties.
type Option func(*Output) error

// WithValidator validates records that are not validated yet and checks
// valid records against the model. Without it no record is trusted: valid
// records become NOT_VERIFIED failure rows, others INTERNAL_ERROR rows.
func WithValidator(v Validator) Option {
	return func(o *Output) error { o.validator = v; return nil }
}

// WithModel is WithValidator and WithTableSchemas of one data model, as
// the plugin runs with validate on: records are checked against v and
// auto_create gives columns the model's types.
func WithModel(v *validate.Validator) Option {
	return func(o *Output) error { o.validator, o.schemas = v, modelSchemas{v}; return nil }
}

// WithTableSchemas gives auto_create the column types of the data model.
func WithTableSchemas(s TableSchemas) Option {
	return func(o *Output) error { o.schemas = s; return nil }
}

// WithMaxEventSize sets the most bytes of raw text a failure row keeps
// (the plugin's max_event_size; default validate.DefaultMaxEventSize).
func WithMaxEventSize(n int) Option {
	return func(o *Output) error {
		if n <= 0 {
			return fmt.Errorf("max_event_size must be positive, not %d", n)
		}
		o.maxRaw = n
		return nil
	}
}

// WithExecutor sends the SQL of load_method copy to e instead of the
// database (the copy path needs Amazon Redshift; tests record it). It is
// refused for the other load methods.
func WithExecutor(e Executor) Option {
	return func(o *Output) error {
		if o.cfg.method != methodCopy {
			return fmt.Errorf("an injected executor is only for load_method copy")
		}
		o.exec = e
		return nil
	}
}

// Output is one redshift output instance.
type Output struct {
	cfg       *config
	env       plugin.Env
	exec      Executor
	stager    *s3Stager
	validator Validator
	schemas   TableSchemas
	maxRaw    int // most bytes of raw text in a failure row

	destMu sync.RWMutex
	dests  map[string]*dest

	meta metaCache // loader goroutine only
	rows rowSet    // loader goroutine only: dedupe within a batch

	spare spareBlocks // routeScratch blocks of flushes done

	// group commit
	in      chan *unit
	active  atomic.Int64 // flushes whose records are not answered yet
	hwm     atomic.Int64 // most flushes seen at once
	closing chan struct{}
	stopped chan struct{}
	closeMu sync.Once

	// outage logging (loader goroutine only)
	down      bool
	downSince time.Time
	downCount int

	stageSeq int
	Stats    Stats
}

// unit is the work of one Flush.
type unit struct {
	recs  []*rec
	rows  int
	bytes int
	done  chan error
	slab  routeScratch // holds recs; released when the flush returns
}

// New reads the properties and starts the loader. It does not connect: a
// database that is down at start-up only delays the first batch.
func New(env plugin.Env, opts ...Option) (*Output, error) {
	c, err := parseConfig(env.Config)
	if err != nil {
		return nil, err
	}
	return startOutput(env, c, opts...)
}

// startOutput starts the loader with a configuration already read.
func startOutput(env plugin.Env, c *config, opts ...Option) (*Output, error) {
	o := &Output{
		cfg: c, env: env,
		dests:  map[string]*dest{},
		meta:   metaCache{},
		maxRaw: validate.DefaultMaxEventSize,
		in:     make(chan *unit, 64),

		spare:   newSpareBlocks(),
		closing: make(chan struct{}),
		stopped: make(chan struct{}),
	}
	o.Stats.init()
	for _, opt := range opts {
		if err := opt(o); err != nil {
			return nil, err
		}
	}
	if o.exec == nil {
		e, err := openDB(c)
		if err != nil {
			return nil, err
		}
		o.exec = e
	}
	if c.method == methodCopy {
		st, err := newS3Stager(context.Background(), c)
		if err != nil {
			o.exec.Close()
			return nil, err
		}
		o.stager = st
	}
	env.Log.Infof("loading with %s (dialect %s) into %s; failures to %s; dedupe %v, auto_create %v",
		c.method, c.dialect, c.redacted, c.failures, c.dedupe, c.autoCreate)
	go o.run()
	return o, nil
}

// Flush decodes the chunk, routes every record and waits until the batch
// holding them is committed (OK) or failed for a transient reason (Retry).
func (o *Output) Flush(chunk []byte, tag string) plugin.Result {
	n := o.active.Add(1)
	for {
		h := o.hwm.Load()
		if n <= h || o.hwm.CompareAndSwap(h, n) {
			break
		}
	}
	u := o.route(chunk, time.Now().UTC())
	defer u.slab.release()
	if len(u.recs) == 0 {
		o.active.Add(-1)
		return plugin.OK
	}
	select {
	case o.in <- u:
	case <-o.closing:
		o.active.Add(-1)
		return plugin.Retry
	}
	// The loader is done with the unit's recs once it answers.
	if err := <-u.done; err != nil {
		o.Stats.Retries.Add(1)
		return plugin.Retry
	}
	return plugin.OK
}

// route parses every record of the chunk. It cannot fail: a record that
// cannot be routed, and the undecodable rest of a malformed chunk, become
// failure rows. The recs point into chunk without copying it: Fluent Bit
// owns the chunk only until Flush returns, and Flush returns only once the
// unit's batch is done with its recs (a copy of every chunk was a tenth of
// the processor's CPU, most of it page faults).
func (o *Output) route(chunk []byte, now time.Time) *unit {
	u := &unit{bytes: len(chunk), done: make(chan error, 1), slab: o.spare.scratch()}
	var vbuf []byte
	d := record.NewDecoder(chunk)
	var r record.Record
	for d.Next(&r) {
		n := len(u.recs)
		u.recs = o.parse(u.recs, &u.slab, r.Body, r.Time, &vbuf, false)
		for _, x := range u.recs[n:] {
			x.chunkTime = r.Time
		}
	}
	if err := d.Err(); err != nil {
		// msgpack cannot resync: a chunk Fluent Bit gave us is malformed.
		// Load what came before; the rest becomes one INTERNAL_ERROR row
		// holding the undecodable bytes as text, so nothing is dropped.
		rest := chunk[d.Offset():]
		u.recs = append(u.recs, o.undecodable(rest, err))
	}
	for _, r := range u.recs {
		r.at = now
		if r.kind == kindValid && len(r.dests) > 0 {
			u.rows += len(r.dests)
		} else {
			u.rows++
		}
	}
	return u
}

// Close loads what is pending and stops the loader.
func (o *Output) Close() error {
	o.closeMu.Do(func() { close(o.closing) })
	<-o.stopped
	var err error
	if o.exec != nil {
		err = o.exec.Close()
	}
	return err
}

// run is the loader: it groups units into batches (group commit) and loads
// one batch at a time.
func (o *Output) run() {
	defer close(o.stopped)
	for {
		var first *unit
		select {
		case first = <-o.in:
		case <-o.closing:
			o.drain()
			return
		}
		pending := []*unit{first}
		rows, bytes := first.rows, first.bytes
		timer := time.NewTimer(o.cfg.maxWait)
	collect:
		for rows < o.cfg.maxRows && bytes < int(o.cfg.maxBytes) && !o.allWaiting(len(pending)) {
			select {
			case u := <-o.in:
				if rows+u.rows > o.cfg.maxRows || bytes+u.bytes > int(o.cfg.maxBytes) {
					o.load(pending)
					pending, rows, bytes = nil, 0, 0
					timer.Reset(o.cfg.maxWait)
				}
				pending = append(pending, u)
				rows += u.rows
				bytes += u.bytes
			case <-timer.C:
				break collect
			case <-o.closing:
				break collect
			}
		}
		timer.Stop()
		o.load(pending)
	}
}

// allWaiting reports whether every flush in progress has handed its records
// over and as many flushes are waiting as ever ran at once: no more records
// can come until this batch is answered, so waiting longer only adds delay.
func (o *Output) allWaiting(pending int) bool {
	a := int64(pending)
	return a >= o.active.Load() && a >= o.hwm.Load()
}

func (o *Output) drain() {
	for {
		select {
		case u := <-o.in:
			o.load([]*unit{u})
		default:
			return
		}
	}
}

// load loads one batch and answers its flushes.
func (o *Output) load(units []*unit) {
	if len(units) == 0 {
		return
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), o.cfg.loadTimeout)
	err := o.loadBatch(ctx, units)
	cancel()
	o.Stats.observe(units, err, time.Since(start))
	if err != nil {
		o.noteDown(err)
	} else {
		o.noteUp()
	}
	for _, u := range units {
		u.done <- err
		o.active.Add(-1)
	}
}

// noteDown logs a failed batch: the first of an outage as an error, the
// rest at debug level.
func (o *Output) noteDown(err error) {
	msg := dsn.RedactError(err, o.cfg.dsn).Error()
	if !o.down {
		o.down, o.downSince, o.downCount = true, time.Now(), 1
		o.env.Log.Errorf("batch not loaded, its chunks are kept for retry: %s", msg)
		return
	}
	o.downCount++
	if o.env.Log.Enabled(plugin.LevelDebug) {
		o.env.Log.Debugf("batch not loaded (failure %d since %s): %s", o.downCount, o.downSince.Format(time.RFC3339), msg)
	}
}

func (o *Output) noteUp() {
	if o.down {
		o.env.Log.Infof("loading again after %d failed batches over %s", o.downCount, time.Since(o.downSince).Round(time.Millisecond))
		o.down = false
	}
}

func (o *Output) logf(format string, args ...any) { o.env.Log.Infof(format, args...) }
