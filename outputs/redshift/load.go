package redshift

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/whirlpool-events/whirlpool/filters/validate"
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
	recs     []*rec         // one per row

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
		dropped: map[*rec]string{}, flushes: len(units)}
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
	for attempt := 0; ; attempt++ {
		if attempt > len(b.recs)+len(b.broken)+4 {
			return errors.New("the batch did not settle after as many attempts as it has records")
		}
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
			o.tableFailed(b, te.t, loadErr{code: validate.LoadRejected, rule: "load", message: "loading the table failed: " + errorMessage(te.err)})
			continue
		}
		n, ierr := o.isolate(ctx, s, b, te)
		if ierr != nil {
			return ierr
		}
		if n == 0 {
			return fmt.Errorf("%w (the rows at fault could not be isolated)", err)
		}
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

// planErr is what planTable does with an error of one table's DDL or
// description: a transient one is returned (the batch is retried), any
// other fails that table only.
func (o *Output) planErr(b *batch, tl *tableLoad, code validate.Code, err error) (bool, error) {
	if isTransient(err) {
		return false, err
	}
	o.tableFailed(b, tl, loadErr{code: code, rule: "ddl", message: errorMessage(err)})
	return false, nil
}

// tableErr is an error while loading one table.
type tableErr struct {
	t   *tableLoad
	err error
}

func (e *tableErr) Error() string { return fmt.Sprintf("loading %s: %v", e.t.name, e.err) }
func (e *tableErr) Unwrap() error { return e.err }

// plan routes the batch's records to tables, checks the tables and columns
// (creating them with auto_create) and builds the failure rows.
func (o *Output) plan(ctx context.Context, s Session, b *batch) error {
	byDest := map[*dest]*tableLoad{}
	var tables []*tableLoad
	for _, r := range b.recs {
		r.errs = r.errs[:r.parseErrs]
		if r.kind != kindValid {
			continue
		}
		for _, d := range r.dests {
			if msg, ok := b.rejected[rejectKey{r, d.key}]; ok {
				r.errs = append(r.errs, loadErr{code: validate.LoadRejected, path: d.key, rule: "load", message: msg})
				continue
			}
			if e, ok := b.broken[d.key]; ok {
				r.errs = append(r.errs, e)
				continue
			}
			tl := byDest[d]
			if tl == nil {
				tl = &tableLoad{name: d.name}
				byDest[d] = tl
				tables = append(tables, tl)
			}
			tl.recs = append(tl.recs, r)
		}
	}
	sort.Slice(tables, func(i, j int) bool { return tables[i].name.String() < tables[j].name.String() })
	b.tables = b.tables[:0]
	for _, tl := range tables {
		ok, err := o.planTable(ctx, s, b, tl)
		if err != nil {
			return err
		}
		if ok {
			b.tables = append(b.tables, tl)
		}
	}
	return o.planFailures(ctx, s, b)
}

// planTable checks one event table; false when no row goes to it.
func (o *Output) planTable(ctx context.Context, s Session, b *batch, tl *tableLoad) (bool, error) {
	m, err := o.describe(ctx, s, tl.name, false)
	if err != nil {
		return o.planErr(b, tl, validate.DestinationNotFound, err)
	}
	if !m.exists && o.cfg.autoCreate {
		cols, types := o.newTableColumns(tl)
		if m, err = o.createTable(ctx, s, tl.name, cols, types, false); err != nil {
			return o.planErr(b, tl, validate.DestinationNotFound, err)
		}
	}
	if !m.exists {
		for _, r := range tl.recs {
			r.errs = append(r.errs, loadErr{code: validate.DestinationNotFound, path: tl.name.String(), rule: "destination",
				expected: "an existing table", actual: tl.name.String(),
				message: fmt.Sprintf("table %s does not exist (auto_create is off)", tl.name)})
		}
		return false, nil
	}
	tl.meta = m

	if o.cfg.autoCreate && m.owned {
		for _, c := range metaCols {
			if !m.has(c) {
				if err := o.addColumn(ctx, s, tl.name, m, c, o.cfg.dialect.ddlType(c)); err != nil {
					return o.planErr(b, tl, validate.DestinationSchemaMismatch, err)
				}
			}
		}
	}
	if o.cfg.dedupe && (!m.has("uuid") || !m.has("expand_index")) {
		for _, r := range tl.recs {
			r.errs = append(r.errs, loadErr{code: validate.DestinationSchemaMismatch, path: tl.name.String(), rule: "dedupe",
				expected: "columns uuid and expand_index", actual: "missing",
				message: fmt.Sprintf("table %s lacks the uuid or expand_index column that dedupe needs", tl.name)})
		}
		return false, nil
	}

	all := tl.recs
	var keep []*rec
	for try := 0; ; try++ {
		// The column list: the metadata columns the table has, then the
		// data columns of the rows, in the order first seen.
		tl.cols, tl.src, tl.idx = tl.cols[:0], tl.src[:0], map[string]int{}
		for i, c := range metaCols {
			if cm, ok := m.cols[c]; ok {
				tl.cols = append(tl.cols, cm)
				tl.src = append(tl.src, i)
			}
		}
		seen := map[string]struct{}{}
		keep = all[:0:0]
		var keyBuf []byte
		lacking := false
		type rowErr struct {
			r   *rec
			err loadErr
		}
		var errs []rowErr
		for _, r := range all {
			if bad := o.checkColumns(tl, r); bad != nil {
				lacking = lacking || bad.lacking
				errs = append(errs, rowErr{r, *bad})
				continue
			}
			if o.cfg.dedupe {
				keyBuf = appendKey(keyBuf[:0], r)
				if _, dup := seen[string(keyBuf)]; dup {
					continue
				}
				seen[string(keyBuf)] = struct{}{}
			}
			keep = append(keep, r)
		}
		if !lacking || try > 0 {
			for _, e := range errs {
				e.r.errs = append(e.r.errs, e.err)
			}
			break
		}
		// Columns rows bring that the table lacks: describe the table
		// again (another loader may have added them), then add them with
		// auto_create, and check every row again.
		if m, err = o.describe(ctx, s, tl.name, true); err != nil {
			return o.planErr(b, tl, validate.DestinationNotFound, err)
		}
		tl.meta = m
		if o.cfg.autoCreate && m.owned {
			tl.recs = all
			for _, mc := range o.missingColumns(tl) {
				if err := o.addColumn(ctx, s, tl.name, m, mc.name, mc.typ); err != nil {
					return o.planErr(b, tl, validate.DestinationSchemaMismatch, err)
				}
			}
		}
	}
	tl.recs = keep
	return len(tl.recs) > 0, nil
}

type missingCol struct{ name, typ string }

// missingColumns lists the data columns rows bring that the table lacks
// (nil values excepted, unless the data model types the column: a NULL
// needs no column), with the type auto_create would give them.
func (o *Output) missingColumns(tl *tableLoad) []missingCol {
	var out []missingCol
	seen := map[string]bool{}
	for _, r := range tl.recs {
		r.columns.Range(func(k []byte, v record.Value) bool {
			if !validIdent(k) || tl.meta.hasKey(k) || isMetaKey(k) || v.Kind() == record.KindNil && !o.modelColumn(tl.name, foldIdent(k)) {
				return true
			}
			name := foldIdent(k)
			if seen[name] {
				return true
			}
			seen[name] = true
			out = append(out, missingCol{name: name, typ: o.columnType(tl.name, name, v)})
			return true
		})
	}
	return out
}

// modelColumn reports whether the data model types col of t, so that a
// column is made for it even from NULL values.
func (o *Output) modelColumn(t tableName, col string) bool {
	if o.schemas == nil {
		return false
	}
	typ, ok := o.schemas.ColumnType(t.String(), col, o.cfg.dialect)
	return ok && sqlTypeRe.MatchString(typ)
}

func (o *Output) columnType(t tableName, col string, v record.Value) string {
	if o.schemas != nil {
		if typ, ok := o.schemas.ColumnType(t.String(), col, o.cfg.dialect); ok && sqlTypeRe.MatchString(typ) {
			return typ
		}
	}
	if typ := o.cfg.dialect.inferType(v.Kind()); typ != "" {
		return typ
	}
	return o.cfg.dialect.inferType(record.KindStr)
}

// newTableColumns is the column list of a table auto_create makes.
func (o *Output) newTableColumns(tl *tableLoad) (cols, types []string) {
	for _, c := range metaCols {
		cols = append(cols, c)
		types = append(types, o.cfg.dialect.ddlType(c))
	}
	seen := map[string]bool{}
	for _, r := range tl.recs {
		r.columns.Range(func(k []byte, v record.Value) bool {
			name := foldIdent(k)
			if !validIdent(k) || seen[name] || isMetaCol(name) || v.Kind() == record.KindNil && !o.modelColumn(tl.name, name) {
				return true
			}
			seen[name] = true
			cols = append(cols, name)
			types = append(types, o.columnType(tl.name, name, v))
			return true
		})
	}
	return cols, types
}

// checkColumns returns the error that keeps r out of tl, or nil.
// Columns of rows that pass are added to tl's column list (a row failing
// on a later column may add some: they are NULL for the other rows).
func (o *Output) checkColumns(tl *tableLoad, r *rec) *loadErr {
	var bad *loadErr
	r.columns.Range(func(k []byte, v record.Value) bool {
		if validIdent(k) && !isMetaKey(k) && (tl.meta.hasKey(k) || v.Kind() == record.KindNil) {
			tl.addColumn(k)
			return true
		}
		t := tl.name.String()
		name := foldIdent(k)
		switch {
		case !validIdent(k):
			bad = &loadErr{code: validate.DestinationSchemaMismatch, path: t + "." + string(k), rule: "column",
				expected: "an identifier [A-Za-z_][A-Za-z0-9_$]*", actual: string(k),
				message: fmt.Sprintf("column name %q is not a valid identifier", string(k))}
		case isMetaCol(name):
			bad = &loadErr{code: validate.DestinationSchemaMismatch, path: t + "." + name, rule: "column",
				expected: "a column other than the metadata columns", actual: name,
				message: fmt.Sprintf("column %q collides with a metadata column of %s", name, t)}
		default:
			bad = &loadErr{code: validate.DestinationSchemaMismatch, path: t + "." + name, rule: "column",
				expected: "a column of " + t, actual: name,
				message: fmt.Sprintf("table %s has no column %q", t, name), lacking: true}
		}
		return false
	})
	return bad
}

// addColumn adds a record key's column to the column list, once; a nil
// value for a column the table lacks is not added.
func (tl *tableLoad) addColumn(k []byte) {
	if !hasUpper(k) {
		if _, ok := tl.idx[string(k)]; ok {
			return
		}
	}
	name := foldIdent(k)
	if _, ok := tl.idx[name]; ok {
		return
	}
	if cm, ok := tl.meta.cols[name]; ok {
		tl.idx[name] = len(tl.cols)
		tl.cols = append(tl.cols, cm)
		tl.src = append(tl.src, -1)
	}
}

func appendKey(dst []byte, r *rec) []byte {
	s, _ := r.uuid.Str()
	dst = append(dst, s...)
	dst = append(dst, 0)
	n, _ := r.expandIndex.Int()
	return strconv.AppendInt(dst, n, 10)
}

// planFailures builds the failures table's rows: failure records and valid
// records that picked up load errors (one row per event, all its errors).
func (o *Output) planFailures(ctx context.Context, s Session, b *batch) error {
	tl := &tableLoad{name: o.cfg.failures, failures: true}
	b.failures = nil
	b.failCodes = map[string]int{}
	var cands []*rec
	for _, r := range b.recs {
		if r.kind == kindValid && len(r.errs) == 0 {
			continue
		}
		if msg, ok := b.dropped[r]; ok {
			_ = msg // logged when it was dropped
			continue
		}
		cands = append(cands, r)
	}
	if len(cands) == 0 {
		return nil
	}
	m, err := o.describe(ctx, s, tl.name, false)
	if err != nil {
		return err
	}
	if !m.exists && o.cfg.autoCreate {
		types := make([]string, len(failureCols))
		for i, c := range failureCols {
			types[i] = o.cfg.dialect.ddlType(c)
		}
		if m, err = o.createTable(ctx, s, tl.name, failureCols, types, true); err != nil {
			return err
		}
	}
	if !m.exists {
		return fmt.Errorf("the failures table %s does not exist: create it (see the package documentation) or set auto_create on", tl.name)
	}
	if o.cfg.autoCreate && m.owned {
		for _, c := range failureCols {
			if !m.has(c) {
				if err := o.addColumn(ctx, s, tl.name, m, c, o.cfg.dialect.ddlType(c)); err != nil {
					return err
				}
			}
		}
	}
	if !m.has("uuid") {
		return fmt.Errorf("the failures table %s has no uuid column", tl.name)
	}
	tl.meta = m
	for i, c := range failureCols {
		if cm, ok := m.cols[c]; ok {
			tl.cols = append(tl.cols, cm)
			tl.src = append(tl.src, i)
		}
	}
	seen := map[string]struct{}{}
	var keyBuf []byte
	for _, r := range cands {
		o.failureValues(b, r, m, b.rejected[rejectKey{r, tl.name.String()}])
		if o.cfg.dedupe {
			keyBuf = append(append(append(keyBuf[:0], r.fvals[0]...), 0), r.fvals[1]...)
			if _, dup := seen[string(keyBuf)]; dup {
				continue
			}
			seen[string(keyBuf)] = struct{}{}
		}
		tl.recs = append(tl.recs, r)
		codes, _ := r.fvals[9].Str()
		for _, c := range strings.Split(string(codes), ",") {
			b.failCodes[c]++
		}
	}
	b.failures = tl
	return nil
}

// failureValues fills r.fvals, the failures table's columns for r. Text is
// made loadable: invalid UTF-8 and NUL bytes become U+FFFD, and strings are
// cut to the column's declared length (VARCHAR(n) on Redshift). The raw
// event keeps at most max_event_size bytes; when it is cut (here or
// upstream) raw_event_bytes and raw_event_sha256 describe the whole text.
// With refused set (the table refused the full row), the row is minimal:
// the raw event is left out (its digest stays) and a LOAD_REJECTED error
// says why.
func (o *Output) failureValues(b *batch, r *rec, m *tableMeta, refused string) {
	a := &b.arena
	text := func(col string, s []byte) record.Value {
		s = cleanText(s)
		if c := m.cols[col]; c != nil && c.maxLen > 0 && len(s) > c.maxLen {
			s = cutUTF8(s, c.maxLen)
		}
		return a.str(s)
	}
	str := func(col string, v record.Value) record.Value {
		if s, ok := v.Str(); ok {
			return text(col, s)
		}
		return nil
	}
	v := make([]record.Value, len(failureCols))
	v[0] = str("uuid", r.uuid)
	if n, ok := r.expandIndex.Int(); ok {
		v[1] = a.int(n)
	} else {
		v[1] = a.int(-1)
	}
	if s, ok := r.firedTS.Str(); ok {
		if t, err := time.Parse(time.RFC3339Nano, string(s)); err == nil {
			v[2] = a.str([]byte(t.UTC().Format(tsLayout)))
		}
	}
	v[3], v[4], v[5], v[6] = str("game", r.game), str("version", r.version), str("event", r.event), str("definition_version", r.defVersion)
	var raw, errs, codes []byte
	whole := r.whole
	if r.kind == kindFailure {
		raw, errs, codes = r.raw, r.errorsJSON, r.codes
	} else {
		var err error
		if raw, err = r.body.AppendJSON(nil); err != nil {
			raw = []byte("null")
		}
		errs = appendErrorsJSON(nil, r.errs)
		for _, e := range r.errs {
			if !containsCode(codes, []byte(e.code)) {
				if len(codes) > 0 {
					codes = append(codes, ',')
				}
				codes = append(codes, e.code...)
			}
		}
	}
	if refused != "" {
		if whole == nil && raw != nil {
			whole = validate.DigestOf(raw)
		}
		raw = nil
		var list []json.RawMessage
		json.Unmarshal(errs, &list)
		extra := appendErrorsJSON(nil, []loadErr{{code: validate.LoadRejected, path: o.cfg.failures.String(), rule: "load",
			message: "the failures table refused this row, stored without raw_event: " + refused}})
		var e2 []json.RawMessage
		json.Unmarshal(extra, &e2)
		errs, _ = json.Marshal(append(list, e2...))
		if !containsCode(codes, []byte(validate.LoadRejected)) {
			codes = append(append(append([]byte(nil), codes...), ','), validate.LoadRejected...)
		}
	}
	if raw != nil {
		raw, whole = o.cutRaw(raw, whole)
		v[7] = text("raw_event", raw)
	}
	v[8] = text("errors", errs)
	v[9] = text("error_codes", codes)
	v[10] = a.str([]byte(r.at.Format(tsLayout)))
	v[11] = b.loadedAt
	if whole != nil {
		v[12] = a.int(whole.Bytes)
		v[13] = a.str([]byte(whole.Hex()))
	}
	r.fvals = v
}

// cutRaw keeps at most max_event_size bytes of a failure's raw text once it
// is made loadable (invalid UTF-8 grows as U+FFFD), with the digest of the
// text as received; whole, the digest of a body cut upstream, stays.
func (o *Output) cutRaw(raw []byte, whole *validate.TextDigest) ([]byte, *validate.TextDigest) {
	clean := cleanText(raw)
	if len(clean) <= o.maxRaw {
		return clean, whole
	}
	if whole == nil {
		whole = validate.DigestOf(raw)
	}
	return validate.PrefixUTF8(clean, o.maxRaw), whole
}

// cleanText returns s as valid UTF-8 without NUL bytes (which PostgreSQL
// and Redshift text cannot hold), replacing each bad byte with U+FFFD.
func cleanText(s []byte) []byte {
	if utf8.Valid(s) && bytes.IndexByte(s, 0) < 0 {
		return s
	}
	out := make([]byte, 0, len(s)+8)
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		if r == 0 || (r == utf8.RuneError && n == 1) {
			out = append(out, "\uFFFD"...)
		} else {
			out = append(out, s[:n]...)
		}
		s = s[n:]
	}
	return out
}

// cutUTF8 cuts s to at most n bytes on a character boundary.
func cutUTF8(s []byte, n int) []byte {
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// values fills vals (len(tl.cols)) with r's values for tl.
func (tl *tableLoad) values(vals []record.Value, r *rec, b *batch) []record.Value {
	vals = vals[:len(tl.cols)]
	clear(vals)
	if tl.failures {
		for i, src := range tl.src {
			vals[i] = r.fvals[src]
		}
		return vals
	}
	for i, src := range tl.src {
		switch src {
		case -1:
		case 0:
			vals[i] = r.uuid
		case 1:
			vals[i] = r.firedTS
		case 2:
			vals[i] = r.game
		case 3:
			vals[i] = r.version
		case 4:
			vals[i] = r.event
		case 5:
			vals[i] = r.defVersion
		case 6:
			vals[i] = r.expandIndex
		case 7:
			vals[i] = b.loadedAt
		}
	}
	r.columns.Range(func(k []byte, v record.Value) bool {
		if i, ok := tl.idx[string(k)]; ok {
			vals[i] = v
		} else if hasUpper(k) {
			if i, ok := tl.idx[foldIdent(k)]; ok {
				vals[i] = v
			}
		}
		return true
	})
	return vals
}

// runTx runs the batch's transaction: every table, then the failures.
func (o *Output) runTx(ctx context.Context, s Session, b *batch) error {
	if _, err := s.Exec(ctx, "BEGIN"); err != nil {
		return err
	}
	all := b.tables
	if b.failures != nil {
		all = append(all[:len(all):len(all)], b.failures)
	}
	for _, tl := range all {
		n, err := o.loadTable(ctx, s, b, tl, tl.recs)
		if err != nil {
			o.rollback(ctx, s)
			return &tableErr{t: tl, err: err}
		}
		tl.loaded = n
	}
	if _, err := s.Exec(ctx, "COMMIT"); err != nil {
		o.rollback(ctx, s)
		return err
	}
	return nil
}

func (o *Output) rollback(ctx context.Context, s Session) {
	s.Exec(ctx, "ROLLBACK")
}

// loadTable loads recs into tl inside the open transaction and returns how
// many rows reached the table.
func (o *Output) loadTable(ctx context.Context, s Session, b *batch, tl *tableLoad, recs []*rec) (int64, error) {
	cols := columnList(tl.cols)
	target := tl.name.quoted()
	if !o.cfg.dedupe {
		return o.loadRows(ctx, s, b, tl, recs, target, cols)
	}
	keys := []string{"uuid", "expand_index"}
	if tl.failures && !tl.meta.has("expand_index") {
		keys = keys[:1]
	}
	if o.cfg.dialect == Postgres {
		return o.loadNewRows(ctx, s, b, tl, recs, target, cols, len(keys) == 2)
	}
	// Redshift: stage, drop the rows the table already has, append the rest.
	o.stageSeq++
	stage := quoteIdent("whirlpool_stage_" + strconv.Itoa(o.stageSeq))
	if _, err := s.Exec(ctx, "CREATE TEMP TABLE "+stage+" AS SELECT "+cols+" FROM "+target+" LIMIT 0"); err != nil {
		return 0, err
	}
	if _, err := o.loadRows(ctx, s, b, tl, recs, stage, cols); err != nil {
		return 0, err
	}
	var where []string
	for _, k := range keys {
		where = append(where, stage+"."+quoteIdent(k)+" = "+target+"."+quoteIdent(k))
	}
	if _, err := s.Exec(ctx, "DELETE FROM "+stage+" USING "+target+" WHERE "+strings.Join(where, " AND ")); err != nil {
		return 0, err
	}
	n, err := s.Exec(ctx, "INSERT INTO "+target+" ("+cols+") SELECT "+cols+" FROM "+stage)
	if err != nil {
		return 0, err
	}
	if _, err := s.Exec(ctx, "DROP TABLE "+stage); err != nil {
		return 0, err
	}
	return n, nil
}

// loadNewRows is dedupe on PostgreSQL: lock the table against other
// loaders (readers are not blocked), read which of the batch's keys it
// already has (through its (uuid, expand_index) index), and load only the
// others, straight into the table. Same result as the staging pattern,
// without writing every row twice.
func (o *Output) loadNewRows(ctx context.Context, s Session, b *batch, tl *tableLoad, recs []*rec, target, cols string, withIndex bool) (int64, error) {
	if _, err := s.Exec(ctx, "LOCK TABLE "+target+" IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return 0, err
	}
	typ := "text"
	if c := tl.meta.cols["uuid"]; c != nil && pgTypeRe.MatchString(c.typ) {
		typ = c.typ
	}
	fold := typ == "uuid" // PostgreSQL prints uuids in lower case
	var arr []byte
	arr = append(arr, '{')
	for i, r := range recs {
		if i > 0 {
			arr = append(arr, ',')
		}
		arr = appendArrayElem(arr, r.keyUUID(tl.failures))
	}
	arr = append(arr, '}')
	q := "SELECT " + quoteIdent("uuid")
	if withIndex {
		q += ", " + quoteIdent("expand_index")
	}
	q += " FROM " + target + " WHERE " + quoteIdent("uuid") + " = ANY(CAST(" + string(appendLiteral(nil, arr, Postgres)) + " AS " + typ + "[]))"
	have, err := s.Query(ctx, q)
	if err != nil {
		return 0, err
	}
	if len(have) > 0 {
		loaded := make(map[string]struct{}, len(have))
		for _, h := range have {
			k := h[0]
			if fold {
				k = strings.ToLower(k)
			}
			if withIndex && len(h) > 1 {
				k += "\x00" + h[1]
			}
			loaded[k] = struct{}{}
		}
		keep := make([]*rec, 0, len(recs))
		for _, r := range recs {
			k := string(r.keyUUID(tl.failures))
			if fold {
				k = strings.ToLower(k)
			}
			if withIndex {
				k += "\x00" + strconv.FormatInt(r.keyIndex(tl.failures), 10)
			}
			if _, dup := loaded[k]; !dup {
				keep = append(keep, r)
			}
		}
		recs = keep
	}
	if len(recs) == 0 {
		return 0, nil
	}
	return o.loadRows(ctx, s, b, tl, recs, target, cols)
}

var pgTypeRe = regexp.MustCompile(`^[a-z][a-z ]*$`)

// keyUUID and keyIndex are r's dedupe key in an event table or, with
// failures, in the failures table.
func (r *rec) keyUUID(failures bool) []byte {
	v := r.uuid
	if failures {
		v = r.fvals[0]
	}
	s, _ := v.Str()
	return s
}

func (r *rec) keyIndex(failures bool) int64 {
	v := r.expandIndex
	if failures {
		v = r.fvals[1]
	}
	n, _ := v.Int()
	return n
}

// appendArrayElem writes s as a double-quoted element of a PostgreSQL
// array literal.
func appendArrayElem(dst, s []byte) []byte {
	dst = append(dst, '"')
	for _, c := range s {
		if c == '"' || c == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}

func columnList(cols []*colMeta) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.name))
	}
	return b.String()
}

// loadRows sends the rows with the load method into table into.
func (o *Output) loadRows(ctx context.Context, s Session, b *batch, tl *tableLoad, recs []*rec, into, cols string) (int64, error) {
	vals := make([]record.Value, len(tl.cols))
	switch o.cfg.method {
	case methodPgCopy:
		cp, ok := s.(copier)
		if !ok {
			return 0, errors.New("this session cannot run COPY FROM STDIN")
		}
		var data []byte
		for _, r := range recs {
			data = appendCopyRow(data, tl.values(vals, r, b))
		}
		if err := cp.CopyIn(ctx, "COPY "+into+" ("+cols+") FROM STDIN", data); err != nil {
			return 0, err
		}
		return int64(len(recs)), nil
	case methodInsert:
		head := "INSERT INTO " + into + " (" + cols + ") VALUES "
		var total int64
		stmt := []byte(head)
		n := 0
		var tuple []byte
		for _, r := range recs {
			tuple = appendInsertTuple(tuple[:0], tl.values(vals, r, b), tl.cols, o.cfg.dialect)
			if len(head)+len(tuple) > MaxStatement {
				return 0, &rowTooBig{r: r, size: len(head) + len(tuple)}
			}
			if n > 0 && len(stmt)+2+len(tuple) > MaxStatement-statementMargin {
				k, err := s.Exec(ctx, string(stmt))
				if err != nil {
					return 0, err
				}
				total += k
				stmt, n = append(stmt[:0], head...), 0
			}
			if n > 0 {
				stmt = append(stmt, ',', ' ')
			}
			stmt = append(stmt, tuple...)
			n++
		}
		if n > 0 {
			k, err := s.Exec(ctx, string(stmt))
			if err != nil {
				return 0, err
			}
			total += k
		}
		return total, nil
	case methodCopy:
		_, err := s.Exec(ctx, o.copySQL(tl, into, cols))
		return int64(len(recs)), err
	}
	return 0, fmt.Errorf("unknown load method %q", o.cfg.method)
}

// rowTooBig is a row whose INSERT alone would pass the statement limit: a
// data error of that row.
type rowTooBig struct {
	r    *rec
	size int
}

func (e *rowTooBig) Error() string {
	return fmt.Sprintf("the row needs a %d-byte INSERT statement, over the %d-byte statement limit", e.size, MaxStatement)
}

// isolate finds the rows of the failing table the database refuses and
// marks them rejected; it returns how many.
func (o *Output) isolate(ctx context.Context, s Session, b *batch, te *tableErr) (int, error) {
	if o.cfg.method == methodCopy {
		return o.isolateCopy(ctx, s, b, te)
	}
	tl := te.t
	found := 0
	var probe func(recs []*rec, known error) error
	probe = func(recs []*rec, known error) error {
		err := known
		if err == nil {
			if _, err := s.Exec(ctx, "BEGIN"); err != nil {
				return err
			}
			_, err = o.loadTable(ctx, s, b, tl, recs)
			o.rollback(ctx, s)
			if err == nil {
				return nil
			}
			if !isDataError(err) {
				return err
			}
		}
		if len(recs) == 1 {
			key := rejectKey{recs[0], tl.name.String()}
			if _, again := b.rejected[key]; again && tl.failures {
				// even the minimal row is refused: nothing more can be done
				b.dropped[recs[0]] = errorMessage(err)
				uuid, _ := recs[0].fvals[0].Str()
				o.env.Log.Errorf("the failures table %s refused the failure row of event %q even without its raw event; it is dropped: %s",
					tl.name, cleanText(uuid), errorMessage(err))
				o.Stats.FailuresDropped.Add(1)
			} else {
				b.rejected[key] = errorMessage(err)
			}
			found++
			return nil
		}
		h := len(recs) / 2
		if err := probe(recs[:h], nil); err != nil {
			return err
		}
		return probe(recs[h:], nil)
	}
	var big *rowTooBig
	if errors.As(te.err, &big) {
		b.rejected[rejectKey{big.r, tl.name.String()}] = big.Error()
		return 1, nil
	}
	if err := probe(tl.recs, te.err); err != nil {
		return found, err
	}
	o.env.Log.Warnf("%d row(s) rejected by %s went to %s as %s: %s", found, tl.name, o.cfg.failures, validate.LoadRejected, errorMessage(te.err))
	return found, nil
}

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
			o.Stats.addFailures(metrics.Bounded(c, validate.Known(validate.Code(c))), int64(n))
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
