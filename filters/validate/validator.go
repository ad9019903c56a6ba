package validate

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fastjson"

	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/jsonscan"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/props"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// Properties are the validator's properties, the same in every plugin that
// runs it (the sqs input and the redshift output).
var Properties = props.Set{
	{Name: "model_file", Type: props.String, Meaning: "data model file (YAML or JSON) to validate against, re-read every model_reload_interval; without model_file and model_dsn the embedded sample model is used"},
	{Name: "model_dsn", Type: props.String, Secret: true, Meaning: "PostgreSQL DSN of the model store (schema whirlpool_model, created if missing); set model_file or model_dsn, not both"},
	{Name: "model_reload_interval", Type: props.Duration, MinDur: 100 * time.Millisecond, MaxDur: 60 * time.Second, Default: "30s", Meaning: "how often the model is re-read (100ms to 60s); an unreachable store or a model that fails its checks keeps the current model"},
	{Name: "expand_limit", Type: props.Int, Min: 1, Max: 100000, Default: "1000", Meaning: "most records one event may expand into (1 to 100000); more is an EXPAND_LIMIT_EXCEEDED failure"},
	{Name: "max_event_size", Type: props.Size, Min: 1 << 10, Max: 16 << 20, Default: "1M", Meaning: "largest event body in bytes (1K to 16M); a larger one is a PAYLOAD_TOO_LARGE failure; a failure keeps at most this much of the raw text, with the whole text's length and SHA-256 when cut"},
	{Name: "timestamp_min", Type: props.Time, Default: "2000-01-01T00:00:00Z", Meaning: "earliest accepted value of a timestamp field without its own min (RFC 3339); earlier is TIMESTAMP_OUT_OF_RANGE"},
	{Name: "timestamp_max_ahead", Type: props.Duration, MinDur: 0, MaxDur: 8760 * time.Hour, Default: "24h", Meaning: "how far after the event's fired_ts a timestamp field without its own max may be (0s to 8760h); later is TIMESTAMP_OUT_OF_RANGE"},
}

// Options tune a Validator. Zero values take the properties' defaults.
type Options struct {
	ExpandLimit       int
	MaxEventSize      int
	TimestampMin      time.Time
	TimestampMaxAhead time.Duration // 0 means the default; use a negative value for "no time after fired_ts"
	ReloadInterval    time.Duration
	Log               plugin.Logger
}

func (o Options) withDefaults() Options {
	if o.ExpandLimit <= 0 {
		o.ExpandLimit = 1000
	}
	if o.MaxEventSize <= 0 {
		o.MaxEventSize = DefaultMaxEventSize
	}
	if o.TimestampMin.IsZero() {
		o.TimestampMin = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.TimestampMaxAhead == 0 {
		o.TimestampMaxAhead = 24 * time.Hour
	} else if o.TimestampMaxAhead < 0 {
		o.TimestampMaxAhead = 0
	}
	if o.ReloadInterval <= 0 {
		o.ReloadInterval = 30 * time.Second
	}
	if o.Log == nil {
		o.Log = plugin.NopLogger{}
	}
	return o
}

// Validator validates Whirlpool records against a data model. It is safe
// for concurrent use. The model it holds is replaced atomically on reload:
// each record is validated against exactly one model.
type Validator struct {
	opts Options
	// treeOnly sends every event down the tree path (tests compare the
	// two paths).
	treeOnly bool
	// fromMin is "from " and TimestampMin, for messages (made once).
	fromMin string
	snap    atomic.Pointer[snapshot]
	pool    sync.Pool

	src  source
	stop chan struct{}
	done chan struct{}
	once sync.Once

	reloadMu     sync.Mutex // one read of the source at a time
	lastRead     atomic.Int64
	outage       bool   // reloadMu
	lastRejected string // reloadMu
	closed       bool   // reloadMu: the source is closed
}

// Config is what the validator's properties say: where the model comes
// from and the Options.
type Config struct {
	File, DSN string
	Options
}

// ReadConfig reads the validator's properties from a plugin's reader (its
// set must include Properties). It only records problems on r, so that the
// plugin reports them with its own in one error.
func ReadConfig(r *props.Reader) Config {
	c := Config{File: r.String("model_file"), DSN: r.String("model_dsn")}
	c.ReloadInterval = r.Duration("model_reload_interval")
	c.ExpandLimit = r.Int("expand_limit")
	c.MaxEventSize = ReadMaxEventSize(r)
	c.TimestampMin = r.Time("timestamp_min")
	c.TimestampMaxAhead = r.Duration("timestamp_max_ahead")
	if c.TimestampMaxAhead == 0 {
		c.TimestampMaxAhead = -1 // explicitly zero: no time after fired_ts
	}
	if c.File != "" && c.DSN != "" {
		r.Fail("model_dsn", "set model_file or model_dsn, not both")
	}
	if host := RedshiftHost(c.DSN); c.DSN != "" && host != "" {
		r.Fail("model_dsn", "%s", RedshiftRefusal(host))
	}
	return c
}

// New builds a Validator from a plugin instance's properties (Properties)
// and loads the model once; see Open.
func New(env plugin.Env) (*Validator, error) {
	r := Properties.Read(env.Config)
	c := ReadConfig(r)
	if err := r.Err(); err != nil {
		return nil, err
	}
	return Open(c, env.Log)
}

// Open builds a Validator from read properties and loads the model once;
// it fails when that first load fails. With model_file or model_dsn it then
// re-reads the model every model_reload_interval until Close.
func Open(c Config, log plugin.Logger) (*Validator, error) {
	o := c.Options
	o.Log = log
	var src source
	switch {
	case c.File != "":
		src = &fileSource{path: c.File}
	case c.DSN != "":
		src = &storeSource{dsn: c.DSN}
	}
	return newValidator(src, nil, o)
}

// NewWithModel builds a Validator over a fixed model (no reloading); for
// tests and tools.
func NewWithModel(m *Model, o Options) (*Validator, error) {
	return newValidator(nil, m, o)
}

func newValidator(src source, m *Model, o Options) (*Validator, error) {
	v := &Validator{opts: o.withDefaults(), src: src}
	v.fromMin = "from " + v.opts.TimestampMin.Format(time.RFC3339Nano)
	v.pool.New = func() any { return new(worker) }
	if src != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		var err error
		m, err = src.load(ctx)
		cancel()
		if err != nil {
			src.close()
			return nil, fmt.Errorf("validate: loading the model from %s: %w", src.describe(), err)
		}
	} else if m == nil {
		m = DefaultModel()
	}
	s, err := compile(m, v.opts)
	if err != nil {
		if src != nil {
			src.close()
		}
		return nil, fmt.Errorf("validate: model from %s: %w", describe(src), err)
	}
	for _, w := range s.warnings {
		v.opts.Log.Warnf("validate: %s", w.String())
	}
	v.snap.Store(s)
	v.lastRead.Store(time.Now().UnixNano())
	v.opts.Log.Infof("validate: model loaded from %s: %s", describe(src), s.summary)
	if src != nil {
		v.stop, v.done = make(chan struct{}), make(chan struct{})
		go v.reloadLoop()
	}
	return v, nil
}

func describe(src source) string {
	if src == nil {
		return "memory"
	}
	return src.describe()
}

// Close stops reloading and releases the model store connection.
func (v *Validator) Close() error {
	var err error
	v.once.Do(func() {
		if v.stop != nil {
			close(v.stop)
			<-v.done
		}
		if v.src != nil {
			v.reloadMu.Lock()
			v.closed = true
			err = v.src.close()
			v.reloadMu.Unlock()
		}
	})
	return err
}

// reloadLoop re-reads the model every ReloadInterval.
func (v *Validator) reloadLoop() {
	defer close(v.done)
	t := time.NewTicker(v.opts.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-v.stop:
			return
		case <-t.C:
		}
		v.reload()
	}
}

// Refresh re-reads the model now, unless it was read less than minAge ago,
// and reports whether the model changed. A loader calls it when a valid
// record names a definition its model does not allow: the record may have
// been validated elsewhere against a newer model. minAge bounds how often
// records (forged ones included) can make it read the source.
func (v *Validator) Refresh(minAge time.Duration) bool {
	if v.src == nil || time.Since(time.Unix(0, v.lastRead.Load())) < minAge {
		return false
	}
	before := v.snap.Load()
	v.reload()
	return v.snap.Load() != before
}

// reload reads the source once. A source that cannot be read (store down,
// file missing) keeps the current model and is reported once per outage; a
// model that fails its checks is rejected with its reason (once per
// distinct reason) and the current one stays.
func (v *Validator) reload() {
	v.reloadMu.Lock()
	defer v.reloadMu.Unlock()
	if v.closed {
		return
	}
	defer func() { v.lastRead.Store(time.Now().UnixNano()) }()
	timeout := v.opts.ReloadInterval
	if timeout < 5*time.Second {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	m, err := v.src.load(ctx)
	cancel()
	var unchanged errUnchanged
	switch {
	case errors.As(err, &unchanged):
		return
	case err != nil && isTransient(err):
		if !v.outage {
			v.outage = true
			v.opts.Log.Warnf("validate: cannot read the model from %s; keeping the current model until it is back: %v", v.src.describe(), err)
		}
		return
	}
	if v.outage {
		v.outage = false
		v.opts.Log.Infof("validate: %s is readable again", v.src.describe())
	}
	var s *snapshot
	if err == nil {
		s, err = compile(m, v.opts)
	}
	if err != nil {
		if msg := err.Error(); msg != v.lastRejected {
			v.lastRejected = msg
			v.opts.Log.Errorf("validate: new model from %s rejected, keeping the current one: %v", v.src.describe(), err)
		}
		return
	}
	v.lastRejected = ""
	if s.fingerprint == v.snap.Load().fingerprint {
		return
	}
	for _, w := range s.warnings {
		v.opts.Log.Warnf("validate: %s", w.String())
	}
	v.snap.Store(s)
	v.opts.Log.Infof("validate: model reloaded from %s: %s", v.src.describe(), s.summary)
}

// Column returns the model's field loaded into column of a destination
// table ("schema.table") in the current model, for loaders that create
// tables: its Type and MaxLength give the column's SQL type.
func (v *Validator) Column(table, column string) (Field, bool) {
	f, ok := v.snap.Load().columns[table][column]
	return f, ok
}

// HasTable reports whether table ("schema.table") is a destination of some
// definition of the current model: the tables a loader may load, and so
// the only ones it may name in a metric label.
func (v *Validator) HasTable(table string) bool {
	_, ok := v.snap.Load().columns[table]
	return ok
}

// Status tells what a record is, seen from validation.
type Status int

const (
	// Unvalidated: a record in the input contract (filters/enrich).
	Unvalidated Status = iota
	// Valid: a valid record appended by AppendValidated (it has "columns").
	Valid
	// Failure: a failure record (it has "errors").
	Failure
)

// StatusOf tells, by its keys, whether a record body is in the valid or
// failure form or in the input contract. It is for records this process
// made (tests, tools): keys can be forged, so a reader of untrusted input
// tracks which records it built itself instead, and a loader checks valid
// records against the model (Allowed).
func StatusOf(body record.Map) Status {
	status := Unvalidated
	body.Range(func(k []byte, _ record.Value) bool {
		switch string(k) {
		case keyColumns:
			status = Valid
			return false
		case keyErrors:
			status = Failure
			return false
		}
		return true
	})
	return status
}

// testHookValidate, when set, runs inside the validation of every record
// that passed the envelope checks (tests use it to raise a panic).
var testHookValidate func()

// AppendValidated validates rec (a record in the contract of
// filters/enrich) and appends the outcome to dst: one valid record per
// expanded element (one for an event that does not expand), or exactly
// one failure record. It never drops a record and never fails: anything
// unexpected becomes an INTERNAL_ERROR failure. The appended records keep
// rec's time and metadata.
func (v *Validator) AppendValidated(dst []byte, rec record.Record) []byte {
	var env envelope
	return v.appendValidated(dst, rec, &env, true)
}

// Contract is one record of the record contract taken apart: its time and
// the strings of its six keys. A reader that has just cut these out of its
// input (the sqs input, from a JSON line) validates them with
// AppendContract instead of encoding a record only for AppendValidated to
// decode it again.
type Contract struct {
	Time                                      time.Time
	UUID, FiredTS, Game, Version, Event, Body []byte
}

// AppendContract is AppendValidated of the record that holds c's fields,
// in that order, as msgpack strings, with c.Time and no metadata: it
// appends exactly the same bytes (FuzzAppendContract holds the two equal).
func (v *Validator) AppendContract(dst []byte, c Contract) []byte {
	env := envelope{uuid: c.UUID, firedTS: c.FiredTS, game: c.Game, version: c.Version, event: c.Event, body: c.Body, has: allEnvKeys}
	return v.appendValidated(dst, record.Record{Time: c.Time}, &env, false)
}

// appendValidated is AppendValidated, with env either to be read from
// rec's body (read) or already filled in (an AppendContract).
func (v *Validator) appendValidated(dst []byte, rec record.Record, env *envelope, read bool) (out []byte) {
	snap := v.snap.Load()
	w := v.pool.Get().(*worker)
	w.reset()
	start := len(dst)
	defer func() {
		if r := recover(); r != nil {
			v.opts.Log.Errorf("validate: internal error validating event %q: %v\n%s", env.uuid, r, debug.Stack())
			nw := new(worker)
			nw.add(failcode.InternalError, "", "internal", "", "", fmt.Sprintf("internal error in the validator: %v", r))
			out = appendFailure(dst[:start], rec, env, nw, nil, v.opts.MaxEventSize)
			return
		}
		v.pool.Put(w)
	}()
	if read && !env.read(rec.Body, w) || !read && !env.check(w, 0) {
		return appendFailure(dst, rec, env, w, nil, v.opts.MaxEventSize)
	}
	if testHookValidate != nil {
		testHookValidate()
	}
	// the fast path: a body and a definition the scan handles
	if len(env.body) <= v.opts.MaxEventSize && !v.treeOnly {
		if d := w.definitionOf(snap, env); d != nil && d.scan != nil && w.scan(v, d, env.body) {
			if d.oneRow {
				out := w.appendRowScanned(appendValidHead(dst, rec, env, d, -1), v, d, env.fired)
				if len(w.errs) > 0 {
					return appendFailure(dst, rec, env, w, d, v.opts.MaxEventSize) // over the valid record begun
				}
				return out
			}
			n := w.validateScanned(v, d, env.fired)
			if len(w.errs) > 0 {
				return appendFailure(dst, rec, env, w, d, v.opts.MaxEventSize)
			}
			return appendValid(dst, rec, env, w, d, n)
		}
	}
	// ingest
	var root *fastjson.Value
	switch {
	case len(env.body) > v.opts.MaxEventSize:
		w.add(failcode.PayloadTooLarge, "", "max_event_size", fmt.Sprintf("at most %d bytes", v.opts.MaxEventSize), fmt.Sprintf("%d bytes", len(env.body)),
			fmt.Sprintf("the event is %d bytes, more than max_event_size %d", len(env.body), v.opts.MaxEventSize))
	case isBlank(env.body):
		w.add(failcode.PayloadEmpty, "", "non_empty", "a JSON object", "", "the event body is empty")
	default:
		err := strictJSON(env.body)
		if err == nil {
			root, err = w.p.ParseBytes(env.body)
		}
		switch {
		case err != nil:
			root = nil
			w.add(failcode.PayloadNotJSON, "", "json", "a JSON object", unsafeString(env.body), "the event body is not JSON: "+err.Error())
		case root.Type() != fastjson.TypeObject:
			w.add(failcode.PayloadNotObject, "", "object", "a JSON object", jsonTypeName(root), "the event body is JSON but not an object")
			root = nil
		}
	}
	// resolve
	d := v.resolve(snap, env, w)
	if len(w.errs) > 0 || d == nil || root == nil {
		return appendFailure(dst, rec, env, w, d, v.opts.MaxEventSize)
	}
	// validate and expand
	n := w.validate(v, d, root, env.fired)
	if len(w.errs) > 0 {
		return appendFailure(dst, rec, env, w, d, v.opts.MaxEventSize)
	}
	return appendValid(dst, rec, env, w, d, n)
}

// strictJSON refuses a body that is not JSON by RFC 8259, which fastjson's
// parser alone lets through (nan, 03, 1., control bytes and unknown
// escapes in strings): only JSON is ever loaded, whatever a queue holds.
// Its error is fastjson's validator's, which refuses all of them but a
// control byte before a string's last escape.
func strictJSON(body []byte) error {
	if jsonscan.Valid(body, jsonscan.Options{}) {
		return nil
	}
	if err := fastjson.ValidateBytes(body); err != nil {
		return err
	}
	return errors.New("a string holds a control character")
}

// ResolveError is why Resolve found no definition label: Code is the
// failure code events of that game version fail with (UNKNOWN_GAME,
// VERSION_UNMAPPED, VERSION_AMBIGUOUS or DEFINITION_NOT_FOUND).
type ResolveError struct {
	Code    failcode.Code
	Message string
}

func (e *ResolveError) Error() string { return e.Message }

// Resolve says which definition label version of game resolves to, by the
// resolution the validator applies to every event (docs/data-model.md,
// "Version resolution"), or why none (a *ResolveError): the game is
// unknown, no mapping matches, mappings of equal precedence name
// different labels (the message names them), or no event of the game has
// the label except retired (then label is returned with the error). An event lacking a label that others have is
// not an error here: Model.Problems warns about it.
func (v *Validator) Resolve(game, version string) (label string, err error) {
	g := v.snap.Load().games[game]
	if g == nil {
		return "", &ResolveError{failcode.UnknownGame, fmt.Sprintf("game %q is not in the model", game)}
	}
	r := g.resolve([]byte(version))
	if r.code != "" {
		return "", &ResolveError{r.code, r.msg}
	}
	found, live := false, false
	for _, e := range g.events {
		if d := e.defs[r.label]; d != nil {
			found = true
			live = live || !d.retired
		}
	}
	switch {
	case !found:
		return r.label, &ResolveError{failcode.DefinitionNotFound, fmt.Sprintf("version %q of game %s maps to definition %s, which no event of the game has", version, game, r.label)}
	case !live:
		return r.label, &ResolveError{failcode.DefinitionNotFound, fmt.Sprintf("version %q of game %s maps to definition %s, which is retired in every event that has it", version, game, r.label)}
	}
	return r.label, nil
}

// definitionOf is resolve for an event that resolves without an error:
// its usable definition, or nil (then resolve says why).
func (s *snapshot) definitionOf(env *envelope) *cdef {
	if _, _, r, d := s.lookup(env); r.code == "" && d != nil && !d.retired && d.invalid == "" {
		return d
	}
	return nil
}

// definitionOf is snap.definitionOf, remembered for the last event key the
// worker met: the records of a chunk mostly share one, and the lookup
// costs three map reads and a lock shared by every poller.
func (w *worker) definitionOf(snap *snapshot, env *envelope) *cdef {
	k := &w.lastKey
	if k.snap == snap && k.def != nil && string(env.game) == string(k.key[:k.game]) &&
		string(env.event) == string(k.key[k.game:k.event]) && string(env.version) == string(k.key[k.event:]) {
		return k.def
	}
	d := snap.definitionOf(env)
	k.snap, k.def = snap, d
	k.key = append(append(append(k.key[:0], env.game...), env.event...), env.version...)
	k.game, k.event = len(env.game), len(env.game)+len(env.event)
	return d
}

// lookup finds what env's event key names: its game (nil: unknown), then
// its event (nil: unknown), the resolution of its version and, when the
// event is known and the version resolves, the definition of that label
// (nil: the event has none).
func (s *snapshot) lookup(env *envelope) (g *cgame, e *cevent, r resolution, d *cdef) {
	if g = s.games[string(env.game)]; g == nil {
		return
	}
	e = g.events[string(env.event)]
	if r = g.resolve(env.version); r.code == "" && e != nil {
		d = e.defs[r.label]
	}
	return
}

// resolve finds the definition for the event key, adding resolve-stage
// errors. It returns the definition found, also when it is invalid (for
// its label in the failure).
func (v *Validator) resolve(s *snapshot, env *envelope, w *worker) *cdef {
	g, e, r, d := s.lookup(env)
	if g == nil {
		w.add(failcode.UnknownGame, "game", "known_game", "a game of the model", unsafeString(env.game), fmt.Sprintf("game %q is not in the model", env.game))
		return nil
	}
	if e == nil {
		w.add(failcode.UnknownEvent, "event", "known_event", "an event of game "+g.name, unsafeString(env.event), fmt.Sprintf("game %s has no event %q", g.name, env.event))
	}
	if r.code != "" {
		rule := "version_mapping"
		w.add(r.code, "version", rule, "exactly one mapping of highest precedence", unsafeString(env.version), r.msg)
		return nil
	}
	if e == nil {
		return nil
	}
	if d == nil || d.retired {
		msg := fmt.Sprintf("version %q of game %s maps to definition %s, which event %s does not have", env.version, g.name, r.label, e.name)
		if d != nil {
			msg = fmt.Sprintf("version %q of game %s maps to definition %s of event %s, which is retired", env.version, g.name, r.label, e.name)
		}
		w.add(failcode.DefinitionNotFound, "version", "definition_exists", "definition "+r.label+" of event "+e.name, unsafeString(env.version), msg)
		return nil
	}
	if d.invalid != "" {
		w.add(failcode.DefinitionInvalid, "", "definition_valid", "a usable definition", "", fmt.Sprintf("definition %s of %s/%s cannot be used: %s", d.label, g.name, e.name, d.invalid))
	}
	return d
}
