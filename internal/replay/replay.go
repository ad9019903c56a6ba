// Package replay turns failures into rows after a fix of the data model (a
// new event, a widened type, a new mapping), after Snowplow's event
// recovery: each failure row not replayed yet is rebuilt into the record
// the edge made (same uuid, fired_ts, game, version, event and body),
// validated again through the sqs input's own path (internal/trial), and
// when the current model accepts it, loaded by outputs/redshift's own load
// with dedupe, so an event loaded already, or replayed twice, is loaded
// once. The failure row is then marked (replayed_at), never deleted.
//
// A row is marked only once every row of its event is found in its
// tables, after the load committed: a replay interrupted, or run twice, or
// beside the running pipeline, marks nothing it did not load, and running
// it again loads nothing twice.
package replay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/failures"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/trial"
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
)

// Options say what to replay and where.
type Options struct {
	// Model is the current data model, which the failures are validated
	// against again.
	Model *validate.Validator
	// Target is the database holding the event tables and the failures
	// table; TargetDSN is its connection string, for the load.
	Target    *sql.DB
	TargetDSN string
	// Dialect is "postgres" or "redshift" (load_method insert).
	Dialect string
	// FailuresTable is the failures table ("schema.table").
	FailuresTable string
	// Filter selects the failure rows (game, event, code, since).
	Filter failures.Filter
	// AutoCreate lets the load create missing tables and columns, as the
	// output's auto_create does.
	AutoCreate bool
	// Log receives the load's log lines (nil: none).
	Log plugin.Logger
	// Now is the replay's time (zero: time.Now), written to replayed_at.
	Now time.Time
}

// Count is how many failure rows of one game and event with one
// error_codes value (as recorded, "A,B") fall in a class.
type Count struct {
	Game, Event, Codes string
	Failures           int64
}

// Unreplayable is failures that cannot be replayed, and why.
type Unreplayable struct {
	Count
	Reason string
}

// Summary is what a replay would do (Plan) or did (Run).
type Summary struct {
	// Accepted are the failures the current model accepts: the ones that
	// become rows.
	Accepted []Count
	// Rows is how many rows they become (one per destination table and
	// expanded element).
	Rows int64
	// StillFailing are failures the current model still refuses; Codes
	// are the codes they would get now.
	StillFailing []Count
	// NotReplayable are failures whose event cannot be rebuilt, or
	// whose table is missing while auto_create is off.
	NotReplayable []Unreplayable
	// Marked (Run) is how many failure rows were marked replayed: those
	// whose every row is in its tables. Less than the accepted ones when
	// a load refused rows (they stay, unmarked, for the next replay).
	Marked int64
}

// page is how many failure rows are read, loaded and marked at a time.
const page = 500

// Plan counts what Run would do, changing nothing.
func Plan(ctx context.Context, o Options) (Summary, error) {
	return replay(ctx, o, false)
}

// Run replays: it adds replayed_at to the failures table if it lacks it,
// loads the accepted failures' events as rows and marks their failure
// rows.
func Run(ctx context.Context, o Options) (Summary, error) {
	return replay(ctx, o, true)
}

func replay(ctx context.Context, o Options, run bool) (Summary, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Log == nil {
		o.Log = plugin.NopLogger{}
	}
	table, err := redshift.QuoteTable(o.FailuresTable)
	if err != nil {
		return Summary{}, fmt.Errorf("failures table: %w", err)
	}
	dialect, err := redshift.ParseDialect(o.Dialect)
	if err != nil {
		return Summary{}, err
	}
	cols, err := failures.Columns(ctx, o.Target, o.FailuresTable)
	if err != nil {
		return Summary{}, err
	}
	if len(cols) == 0 {
		return Summary{}, fmt.Errorf("the failures table %s does not exist", o.FailuresTable)
	}
	if cols["replayed_at"] == "" && run {
		if _, err := redshift.AddReplayedAt(ctx, o.Target, dialect, o.FailuresTable); err != nil {
			return Summary{}, err
		}
		cols["replayed_at"] = "timestamp without time zone"
	}
	var out *redshift.Output
	if run {
		if out, err = o.output(); err != nil {
			return Summary{}, err
		}
		defer out.Close()
	}
	acc := newTally()
	tables := existing{db: o.Target, known: map[string]bool{}}
	var after string
	for {
		rows, err := o.read(ctx, table, cols, after)
		if err != nil {
			return Summary{}, err
		}
		if len(rows) == 0 {
			break
		}
		full := len(rows) == page
		if full {
			// The next page starts after this one's last uuid: leave the
			// rows of that uuid to it, so that no row of one uuid is cut off.
			k := len(rows)
			for k > 0 && rows[k-1].uuid == rows[len(rows)-1].uuid {
				k--
			}
			if k > 0 {
				rows = rows[:k]
			}
		}
		after = rows[len(rows)-1].uuid
		var batch []*failure
		for _, f := range rows {
			if err := o.retry(f); err != nil {
				return Summary{}, err
			}
			if f.why == "" && !o.AutoCreate {
				if f.why, err = tables.missing(ctx, f.result.Tables); err != nil {
					return Summary{}, err
				}
			}
			switch {
			case f.why != "":
				acc.notReplayable(f)
			case len(f.result.Failures) > 0:
				acc.stillFailing(f)
			default:
				acc.accepted(f)
				batch = append(batch, f)
			}
		}
		if run && len(batch) > 0 {
			n, err := o.load(ctx, out, table, batch)
			if err != nil {
				return Summary{}, err
			}
			acc.s.Marked += n
		}
		if !full {
			break
		}
	}
	return acc.summary(), nil
}

// existing tells which tables exist, asking the database once per table.
type existing struct {
	db    *sql.DB
	known map[string]bool
}

// missing says which of tables does not exist ("" when all do): without
// auto_create its rows would fail to load again, as a new failure row.
func (e existing) missing(ctx context.Context, tables []trial.Table) (string, error) {
	for _, t := range tables {
		ok, seen := e.known[t.Name]
		if !seen {
			schema, name, _ := strings.Cut(t.Name, ".")
			err := e.db.QueryRowContext(ctx, `SELECT COUNT(*) > 0 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`,
				schema, name).Scan(&ok)
			if err != nil {
				return "", fmt.Errorf("looking for table %s: %w", t.Name, err)
			}
			e.known[t.Name] = ok
		}
		if !ok {
			return fmt.Sprintf("its table %s does not exist and auto_create is off", t.Name), nil
		}
	}
	return "", nil
}

// failure is one failure row read for replay, and what it becomes.
type failure struct {
	uuid, game, version, event, codes string
	fired                             time.Time
	raw                               []byte
	truncated                         bool
	s3                                string

	why       string // not replayable
	validated []byte // the records the sqs input emits for it
	result    trial.Result
}

// read returns the next page of failure rows not replayed yet, by uuid
// after after.
func (o Options) read(ctx context.Context, table string, cols map[string]string, after string) ([]*failure, error) {
	where, args, err := o.Filter.SQL(2)
	if err != nil {
		return nil, err
	}
	args = append([]any{after}, args...)
	if cols["replayed_at"] != "" {
		where += " AND replayed_at IS NULL"
	}
	truncated, s3 := "FALSE", "''"
	if cols["raw_event_bytes"] != "" {
		truncated = "raw_event_bytes IS NOT NULL"
	}
	if cols["raw_event_s3_uri"] != "" {
		s3 = "COALESCE(raw_event_s3_uri, '')"
	}
	rows, err := o.Target.QueryContext(ctx, `SELECT uuid, fired_ts, COALESCE(game, ''), COALESCE(version, ''), COALESCE(event, ''),
		COALESCE(error_codes, ''), `+failures.Text(cols, "raw_event")+`, `+truncated+`, `+s3+`
		FROM `+table+` WHERE uuid > $1 AND `+where+` ORDER BY uuid LIMIT `+fmt.Sprint(page), args...)
	if err != nil {
		return nil, fmt.Errorf("reading failures from %s: %w", o.FailuresTable, err)
	}
	defer rows.Close()
	var out []*failure
	for rows.Next() {
		f := &failure{}
		var raw string
		if err := rows.Scan(&f.uuid, &f.fired, &f.game, &f.version, &f.event, &f.codes, &raw, &f.truncated, &f.s3); err != nil {
			return nil, fmt.Errorf("reading failures from %s: %w", o.FailuresTable, err)
		}
		f.raw = []byte(raw)
		out = append(out, f)
	}
	return out, rows.Err()
}

// retry rebuilds the record the edge made for f and validates it again,
// or says why it cannot.
func (o Options) retry(f *failure) error {
	for _, c := range failures.Codes(f.codes) {
		switch failcode.StageOf(failcode.Code(c)) {
		case failcode.StageResolve, failcode.StageValidate, failcode.StageExpand:
		default:
			f.why = fmt.Sprintf("%s is not a failure of the data model: raw_event is not the client's event as sent, or no model change can accept it", c)
			return nil
		}
	}
	if f.truncated {
		f.why = "the raw event was cut at max_event_size and no S3 copy of it exists"
		if f.s3 != "" {
			f.why = "the raw event was cut at max_event_size; its whole text is at " + f.s3 + ", which replay does not read"
		}
		return nil
	}
	u, err := uuid.Parse(f.uuid)
	if err != nil {
		f.why = "its uuid is not the edge's (not a UUID)"
		return nil
	}
	key := enrich.Key{Game: f.game, Version: f.version, Event: f.event}
	if err := key.Validate(); err != nil {
		f.why = "its event key is not one the edge accepts: " + err.Error()
		return nil
	}
	fired := f.fired.UTC()
	// The record as the edge made it: fired_ts is the receipt time, and
	// the message's SentTimestamp is no later.
	f.validated, err = trial.Validated(o.Model, enrich.AppendRecordUUID(nil, key, f.raw, fired, u), fired)
	if err != nil {
		return fmt.Errorf("failure %s: %w", f.uuid, err)
	}
	f.result, err = trial.Route(o.Model, f.validated, o.Now)
	if err != nil {
		return fmt.Errorf("failure %s: %w", f.uuid, err)
	}
	return nil
}

// output starts the redshift output that loads the replayed events, with
// dedupe on.
func (o Options) output() (*redshift.Output, error) {
	method := "pg_copy"
	if o.Dialect == "redshift" {
		method = "insert" // copy needs an S3 bucket
	}
	auto := "off"
	if o.AutoCreate {
		auto = "on"
	}
	cfg := config{"dsn": o.TargetDSN, "dialect": o.Dialect, "load_method": method, "failures_table": o.FailuresTable,
		"dedupe": "on", "auto_create": auto, "batch_max_wait": "0s"}
	return redshift.New(plugin.Env{Config: cfg, Log: o.Log, Name: "replay"}, redshift.WithModel(o.Model))
}

type config map[string]string

func (c config) Get(k string) string { return c[k] }

// load loads the batch's events, then marks the failure rows whose every
// row is in its tables; it returns how many it marked.
func (o Options) load(ctx context.Context, out *redshift.Output, table string, batch []*failure) (int64, error) {
	var chunk []byte
	for _, f := range batch {
		chunk = append(chunk, f.validated...)
	}
	if r := out.Flush(chunk, "replay"); r != plugin.OK {
		return 0, fmt.Errorf("loading %d replayed events failed (the database may be down); nothing of them is marked", len(batch))
	}
	loaded, err := o.present(ctx, batch)
	if err != nil {
		return 0, err
	}
	var ids []string
	for _, f := range batch {
		if loaded(f) {
			ids = append(ids, f.uuid)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	args := []any{failures.Timestamp(o.Now)}
	ph := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, id)
		ph[i] = fmt.Sprintf("$%d", i+2)
	}
	res, err := o.Target.ExecContext(ctx, `UPDATE `+table+` SET replayed_at = CAST($1 AS TIMESTAMP) WHERE replayed_at IS NULL AND uuid IN (`+
		strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return 0, fmt.Errorf("marking %d failures replayed: %w", len(ids), err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("marking %d failures replayed: %w", len(ids), err)
	}
	return n, nil
}

// present finds which of the batch's events have every row in its tables.
func (o Options) present(ctx context.Context, batch []*failure) (func(*failure) bool, error) {
	uuids := map[string][]string{} // table -> uuids
	for _, f := range batch {
		for _, t := range f.result.Tables {
			if !slices.Contains(uuids[t.Name], f.uuid) {
				uuids[t.Name] = append(uuids[t.Name], f.uuid)
			}
		}
	}
	found := map[string]bool{} // table \x00 uuid \x00 expand_index
	for name, ids := range uuids {
		q, err := redshift.QuoteTable(name)
		if err != nil {
			return nil, err
		}
		args := make([]any, len(ids))
		ph := make([]string, len(ids))
		for i, id := range ids {
			args[i], ph[i] = id, fmt.Sprintf("$%d", i+1)
		}
		rows, err := o.Target.QueryContext(ctx, `SELECT uuid, expand_index FROM `+q+` WHERE uuid IN (`+strings.Join(ph, ", ")+`)`, args...)
		var pe *pq.Error
		if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table: nothing was loaded into it
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("checking the replayed rows in %s: %w", name, err)
		}
		for rows.Next() {
			var id string
			var idx int64
			if err := rows.Scan(&id, &idx); err != nil {
				rows.Close()
				return nil, fmt.Errorf("checking the replayed rows in %s: %w", name, err)
			}
			found[fmt.Sprintf("%s\x00%s\x00%d", name, id, idx)] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("checking the replayed rows in %s: %w", name, err)
		}
	}
	return func(f *failure) bool {
		for _, t := range f.result.Tables {
			ui, ei := slices.Index(t.Columns, "uuid"), slices.Index(t.Columns, "expand_index")
			for _, r := range t.Rows {
				if !found[t.Name+"\x00"+r[ui]+"\x00"+r[ei]] {
					return false
				}
			}
		}
		return len(f.result.Tables) > 0
	}, nil
}

// tally adds failures up into a Summary.
type tally struct {
	s             Summary
	accept, still map[[3]string]int64
	notReplays    map[Unreplayable]int64 // Failures zero in the key
}

func newTally() *tally {
	return &tally{accept: map[[3]string]int64{}, still: map[[3]string]int64{}, notReplays: map[Unreplayable]int64{}}
}

func (t *tally) accepted(f *failure) {
	t.accept[[3]string{f.game, f.event, f.codes}]++
	for _, tb := range f.result.Tables {
		t.s.Rows += int64(len(tb.Rows))
	}
}

func (t *tally) stillFailing(f *failure) {
	var codes []string
	for _, x := range f.result.Failures {
		for _, c := range x.Codes {
			if !slices.Contains(codes, c) {
				codes = append(codes, c)
			}
		}
	}
	t.still[[3]string{f.game, f.event, strings.Join(codes, ",")}]++
}

func (t *tally) notReplayable(f *failure) {
	t.notReplays[Unreplayable{Count: Count{Game: f.game, Event: f.event, Codes: f.codes}, Reason: f.why}]++
}

func (t *tally) summary() Summary {
	s := t.s
	s.Accepted, s.StillFailing = counts(t.accept), counts(t.still)
	for u, n := range t.notReplays {
		u.Failures = n
		s.NotReplayable = append(s.NotReplayable, u)
	}
	sort.Slice(s.NotReplayable, func(i, j int) bool {
		a, b := s.NotReplayable[i], s.NotReplayable[j]
		return a.Game+"\x00"+a.Event+"\x00"+a.Codes+"\x00"+a.Reason < b.Game+"\x00"+b.Event+"\x00"+b.Codes+"\x00"+b.Reason
	})
	return s
}

func counts(m map[[3]string]int64) []Count {
	var out []Count
	for k, n := range m {
		out = append(out, Count{Game: k[0], Event: k[1], Codes: k[2], Failures: n})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return a.Game+"\x00"+a.Event+"\x00"+a.Codes < b.Game+"\x00"+b.Event+"\x00"+b.Codes
	})
	return out
}
