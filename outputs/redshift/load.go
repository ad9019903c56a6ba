package redshift

// This file holds the batch load: the state of one batch, the loop that plans,
// runs and retries its transaction until it commits or must be retried by
// Fluent Bit, the failing of a whole table, and the counters after a commit.
// Planning is in plan.go, failure rows in failures.go, the transaction in
// txn.go, the isolation of refused rows in isolate.go.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/metrics"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// MaxStatement is the largest SQL statement sent (Redshift's limit is 16 MB).
const MaxStatement = 16 << 20

// statementMargin leaves room for the statement head in MaxStatement.
const statementMargin = 64 << 10

// tableLoad is what one batch loads into one table.
type tableLoad struct {
	name     tableName
	failures bool
	meta     *tableMeta
	cols     []*colMeta
	src      []int          // per col: index into metaCols / failureCols, or -1 for a data column
	idx      map[string]int // data column -> position in cols
	// known holds, by position in a record's columns, keys already checked
	// (columns of the table, added to cols): rows of one definition bring
	// the same keys in the same order, so most keys need no map look-up.
	known   [][]byte
	knownAt []int // per known key: its position in cols (colIndex)
	// byDef holds, per definition met in its own form (rec.def), where
	// each of its columns goes in cols, or nil when some column of it is
	// not one of the table's (its rows are then checked one by one).
	byDef []defColumns
	recs  []*rec // one per row

	// copy: the staged files
	files        []stagedFile
	manifestURL  string
	jsonpathsURL string

	loaded int64
}

// batch is the state of one batch load.
type batch struct {
	id        string
	recs      []*rec
	loadedAt  record.Value
	arena     arena
	tables    []*tableLoad // event tables, sorted by name
	failures  *tableLoad
	rejected  map[rejectKey]string // rows the database refused, with its message
	broken    map[string]loadErr   // event tables (key) whose DDL or load failed for good: their rows become failures
	dropped   map[*rec]string      // failure rows refused even in their minimal form
	flushes   int
	failCodes map[string]int
	attempt   int               // of the transaction: names the S3 folder of its staged files
	day       string            // copy: the date folder of its staged files
	staged    map[string][]*rec // copy: every staged file's rows, by URL, across attempts
}

type rejectKey struct {
	r *rec
	t string // table key
}

const tsLayout = "2006-01-02 15:04:05.999999"

// loadBatch loads the records of units in one transaction. nil means
// committed; an error means nothing of the batch was committed and every
// flush must be retried.
func (o *Output) loadBatch(ctx context.Context, units []*unit) error {
	b := &batch{id: uuid.Must(uuid.NewV7()).String(), rejected: map[rejectKey]string{}, broken: map[string]loadErr{},
		dropped: map[*rec]string{}, staged: map[string][]*rec{}, flushes: len(units)}
	for _, u := range units {
		b.recs = append(b.recs, u.recs...)
	}
	b.loadedAt = b.arena.str([]byte(time.Now().UTC().Format(tsLayout)))

	s, err := o.exec.Session(ctx)
	if err != nil {
		return fmt.Errorf("connecting to the database: %w", err)
	}
	defer s.Close()

	refreshed := map[string]bool{}
	refusals := map[string]int{}   // per table: loads refused without naming a row
	refusedRuns, conflicts := 0, 0 // attempts that isolated nothing
	for attempt := 0; ; attempt++ {
		if attempt > len(b.recs)+len(b.broken)+4+refusedRuns+conflicts {
			return errors.New("the batch did not settle after as many attempts as it has records")
		}
		b.attempt = attempt
		if err := o.plan(ctx, s, b); err != nil {
			return err
		}
		if o.cfg.method == methodCopy {
			if err := o.stage(ctx, b); err != nil {
				return err
			}
		}
		err := o.runTx(ctx, s, b)
		if err == nil {
			o.committed(b)
			return nil
		}
		if isConflict(err) {
			// Another transaction got in the way (with the locks, only a
			// writer that takes none): nothing was committed, run it again,
			// then leave it to Fluent Bit's retry.
			o.Stats.Conflicts.Add(1)
			o.env.Log.Warnf("the batch conflicted with another transaction and was rolled back (conflict %d of this batch): %s", conflicts+1, errorMessage(err))
			if conflicts++; conflicts >= maxConflictRuns {
				return err
			}
			continue
		}
		var te *tableErr
		if !errors.As(err, &te) {
			return err
		}
		if st := sqlState(te.err); (st == "42P01" || st == "42703") && !refreshed[te.t.name.String()] {
			// the table changed under the cache: describe it again
			refreshed[te.t.name.String()] = true
			delete(o.meta, te.t.name.String())
			continue
		}
		if !(isDataError(te.err) || (o.cfg.method == methodCopy && isCopyLoadError(te.err))) {
			if te.t.failures || isTransient(te.err) {
				return err
			}
			// One table's load failed for good (no privilege, a table that
			// is not one, ...): its rows become failures, the rest loads.
			o.tableFailed(b, te.t, loadErr{code: failcode.LoadRejected, rule: "load", message: "loading the table failed: " + errorMessage(te.err)})
			continue
		}
		n, ierr := o.isolate(ctx, s, b, te)
		if ierr != nil {
			return ierr
		}
		if n == 0 {
			// The database refuses the table's rows but names none of
			// them: run it again (a load error table may lag) up to
			// max_load_attempts times, then give up on those rows.
			refusedRuns++
			key := te.t.name.String()
			if refusals[key]++; refusals[key] < o.cfg.maxLoadAttempts {
				o.env.Log.Warnf("%s refused the batch without naming a row (attempt %d of %d): %s", te.t.name, refusals[key], o.cfg.maxLoadAttempts, errorMessage(te.err))
				continue
			}
			refusals[key] = 0
			o.Stats.LoadsRefused.Add(1)
			o.refused(b, te.t, fmt.Sprintf("the database refused the load %d times without naming a row: %s", o.cfg.maxLoadAttempts, errorMessage(te.err)))
		}
	}
}

// maxConflictRuns is how many times a batch runs again at once after a
// conflict with another transaction before Fluent Bit's retry takes over.
const maxConflictRuns = 3

// refused gives up on the rows of tl after max_load_attempts refusals the
// output could not narrow: an event table's rows become LOAD_REJECTED
// failure rows; failure rows are stored without their raw event, and when
// even that is refused max_load_attempts times, dropped with an error log.
func (o *Output) refused(b *batch, tl *tableLoad, msg string) {
	if !tl.failures {
		o.tableFailed(b, tl, loadErr{code: failcode.LoadRejected, rule: "load", message: msg})
		return
	}
	for _, r := range tl.recs {
		key := rejectKey{r, tl.name.String()}
		if _, again := b.rejected[key]; !again {
			b.rejected[key] = msg
			continue
		}
		b.dropped[r] = msg
		uuid, _ := r.fvals[fUUID].Str()
		o.env.Log.Errorf("the failures table %s refused the failure row of event %q even without its raw event; it is dropped: %s", tl.name, cleanText(uuid), msg)
		o.Stats.FailuresDropped.Add(1)
	}
}

// tableFailed makes e, an error that keeps one event table from loading
// whatever its rows hold (its DDL or its load failed, and not for a
// transient reason), a failure of every row bound to it in this batch, so
// the other tables' rows commit instead of the batch being retried forever.
func (o *Output) tableFailed(b *batch, tl *tableLoad, e loadErr) {
	key := tl.name.String()
	e.path, e.actual = key, key
	if e.expected == "" {
		e.expected = "a table the output can load"
	}
	b.broken[key] = e
	delete(o.meta, key) // describe it again next time
	for _, r := range tl.recs {
		r.errs = append(r.errs, e)
	}
	o.env.Log.Warnf("%d row(s) for %s went to %s as %s: %s", len(tl.recs), tl.name, o.cfg.failures, e.code, e.message)
}

// tableErr is an error while loading one table.
type tableErr struct {
	t   *tableLoad
	err error
}

func (e *tableErr) Error() string { return fmt.Sprintf("loading %s: %v", e.t.name, e.err) }
func (e *tableErr) Unwrap() error { return e.err }

// committed updates the counters after a commit. Their keys become metric
// labels: a table only when the model names it (or it is the failures
// table), a code only when validate declares it; anything else counts as
// metrics.Other, so no record can add a series.
func (o *Output) committed(b *batch) {
	for _, tl := range b.tables {
		o.Stats.addRows(o.tableLabel(tl.name), tl.loaded)
	}
	if b.failures != nil {
		o.Stats.addRows(b.failures.name.String(), b.failures.loaded)
		for c, n := range b.failCodes {
			o.Stats.addFailures(metrics.Bounded(c, failcode.Known(failcode.Code(c))), int64(n))
		}
	}
}

// tableLabel is t as a metric label: itself when the data model names it
// or it is the failures table, else metrics.Other (no model: validate off,
// or a table the model dropped between the check and the commit).
func (o *Output) tableLabel(t tableName) string {
	s := t.String()
	return metrics.Bounded(s, t == o.cfg.failures || o.validator != nil && o.validator.HasTable(s))
}
