package redshift

// This file holds the planning of a batch load: routing the records to their
// tables, describing (or creating, with auto_create) the tables and their
// columns, and checking every row's columns against them before any row is
// sent.

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"unsafe"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// planErr is what planTable does with an error of one table's DDL or
// description: a transient one is returned (the batch is retried), any
// other fails that table only.
func (o *Output) planErr(b *batch, tl *tableLoad, code failcode.Code, err error) (bool, error) {
	if isTransient(err) {
		return false, err
	}
	o.tableFailed(b, tl, loadErr{code: code, rule: "ddl", message: errorMessage(err)})
	return false, nil
}

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
				r.errs = append(r.errs, loadErr{code: failcode.LoadRejected, path: d.key, rule: "load", message: msg})
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
		return o.planErr(b, tl, failcode.DestinationNotFound, err)
	}
	if !m.exists && o.cfg.autoCreate {
		cols, types := o.newTableColumns(tl)
		if m, err = o.createTable(ctx, s, tl.name, cols, types, false); err != nil {
			return o.planErr(b, tl, failcode.DestinationNotFound, err)
		}
	}
	if !m.exists {
		for _, r := range tl.recs {
			r.errs = append(r.errs, loadErr{code: failcode.DestinationNotFound, path: tl.name.String(), rule: "destination",
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
					return o.planErr(b, tl, failcode.DestinationSchemaMismatch, err)
				}
			}
		}
	}
	if o.cfg.dedupe && (!m.has("uuid") || !m.has("expand_index")) {
		for _, r := range tl.recs {
			r.errs = append(r.errs, loadErr{code: failcode.DestinationSchemaMismatch, path: tl.name.String(), rule: "dedupe",
				expected: "columns uuid and expand_index", actual: "missing",
				message: fmt.Sprintf("table %s lacks the uuid or expand_index column that dedupe needs", tl.name)})
		}
		return false, nil
	}

	all := tl.recs
	var keep []*rec
	for try := 0; ; try++ {
		// The column list: the metadata columns the table has (but one
		// with a DEFAULT, loaded_at: the database fills it), then the data
		// columns of the rows, in the order first seen.
		tl.cols, tl.src, tl.idx = tl.cols[:0], tl.src[:0], map[string]int{}
		tl.known, tl.knownAt, tl.byDef = tl.known[:0], tl.knownAt[:0], tl.byDef[:0]
		for i, c := range metaCols {
			if cm, ok := m.cols[c]; ok && !cm.filledByDatabase() {
				tl.cols = append(tl.cols, cm)
				tl.src = append(tl.src, i)
			}
		}
		o.rows.reset()
		keep = all[:0:0]
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
			if o.cfg.dedupe && o.rows.repeated(r) {
				continue
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
			return o.planErr(b, tl, failcode.DestinationNotFound, err)
		}
		tl.meta = m
		if o.cfg.autoCreate && m.owned {
			tl.recs = all
			for _, mc := range o.missingColumns(tl) {
				if err := o.addColumn(ctx, s, tl.name, m, mc.name, mc.typ); err != nil {
					return o.planErr(b, tl, failcode.DestinationSchemaMismatch, err)
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

// defColumns is what tableLoad.byDef holds for one definition.
type defColumns struct {
	def validate.Allowed
	at  []int
}

// columnsOf returns where each column of definition d goes in tl's column
// list, adding them to it, or nil when some column of d is not a column
// of the table (or is not one a row may set). Worked out once per
// definition and table load: a row in d's own form then needs no check of
// its column names.
func (tl *tableLoad) columnsOf(d validate.Allowed) []int {
	if at, ok := tl.placed(d); ok {
		return at
	}
	at := make([]int, d.NumColumns())
	for j := range at {
		var ok bool
		if at[j], ok = tl.tableColumn([]byte(d.ColumnName(j))); !ok {
			at = nil
			break
		}
	}
	tl.byDef = append(tl.byDef, defColumns{def: d, at: at})
	return at
}

// placed is what columnsOf returned for d, if it was asked in this plan.
func (tl *tableLoad) placed(d validate.Allowed) ([]int, bool) {
	for _, x := range tl.byDef {
		if x.def == d {
			return x.at, true
		}
	}
	return nil, false
}

// checkColumns returns the error that keeps r out of tl, or nil.
// Columns of rows that pass are added to tl's column list (a row failing
// on a later column may add some: they are NULL for the other rows).
func (o *Output) checkColumns(tl *tableLoad, r *rec) *loadErr {
	if r.def != (validate.Allowed{}) && tl.columnsOf(r.def) != nil {
		return nil // every column of its definition is one of the table's
	}
	var bad *loadErr
	i := 0
	r.columns.RangeDecoded(func(k []byte, v record.Value) bool {
		if i < len(tl.known) && bytes.Equal(tl.known[i], k) {
			i++
			return true
		}
		if at, ok := tl.tableColumn(k); ok {
			switch {
			case i < len(tl.known):
				tl.known[i], tl.knownAt[i] = k, at
			case i == len(tl.known):
				tl.known, tl.knownAt = append(tl.known, k), append(tl.knownAt, at)
			}
			i++
			return true
		}
		if validIdent(k) && !isMetaKey(k) && v.Kind() == record.KindNil {
			tl.addColumn(k)
			i++
			return true
		}
		t := tl.name.String()
		name := foldIdent(k)
		switch {
		case !validIdent(k):
			bad = &loadErr{code: failcode.DestinationSchemaMismatch, path: t + "." + string(k), rule: "column",
				expected: "an identifier [A-Za-z_][A-Za-z0-9_$]*", actual: string(k),
				message: fmt.Sprintf("column name %q is not a valid identifier", string(k))}
		case isMetaCol(name):
			bad = &loadErr{code: failcode.DestinationSchemaMismatch, path: t + "." + name, rule: "column",
				expected: "a column other than the metadata columns", actual: name,
				message: fmt.Sprintf("column %q collides with a metadata column of %s", name, t)}
		default:
			bad = &loadErr{code: failcode.DestinationSchemaMismatch, path: t + "." + name, rule: "column",
				expected: "a column of " + t, actual: name,
				message: fmt.Sprintf("table %s has no column %q", t, name), lacking: true}
		}
		return false
	})
	return bad
}

// tableColumn adds record key k's column to the column list and returns its
// position there, when k names a data column of the table (a valid
// identifier, not a metadata column); false otherwise.
func (tl *tableLoad) tableColumn(k []byte) (int, bool) {
	if !validIdent(k) || isMetaKey(k) || !tl.meta.hasKey(k) {
		return 0, false
	}
	tl.addColumn(k)
	return tl.colIndex(k)
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

// rowKey is the dedupe key of a row of an event table: its uuid (which
// aliases the chunk: a rowKey lives no longer than its rec) and
// expand_index.
type rowKey struct {
	uuid  string
	index int64
}

func keyOf(r *rec) rowKey {
	s, _ := r.uuid.Str()
	n, _ := r.expandIndex.Int()
	return rowKey{unsafe.String(unsafe.SliceData(s), len(s)), n}
}

// rowSet finds the rows of a table's batch whose key an earlier row has.
// It is kept by the output and cleared per table, so its map keeps its
// room from batch to batch, and its keys alias the chunk instead of
// copying the uuid: a map of string keys made for every batch cost 3% of
// the processor's CPU. Used by the loader goroutine only.
type rowSet struct {
	seen map[rowKey]struct{}
}

func (s *rowSet) reset() {
	if s.seen == nil {
		s.seen = map[rowKey]struct{}{}
	}
	clear(s.seen)
}

// repeated reports whether an earlier row since reset has r's key, and
// remembers r's key otherwise. One assignment, not a lookup and then an
// assignment: the key is hashed once (a set's size grows only with a new
// key), which was half of this function's cost.
func (s *rowSet) repeated(r *rec) bool {
	n := len(s.seen)
	s.seen[keyOf(r)] = struct{}{}
	return len(s.seen) == n
}
