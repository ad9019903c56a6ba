package redshift

import (
	"time"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// PreviewTable is the rows a load would send to one table: its column list
// (the metadata columns but loaded_at, which the database fills, then the
// data columns in the order the records bring them) and each row's values
// in PostgreSQL's COPY text format (what load_method pg_copy sends: \N is
// NULL; a tab, newline or backslash is escaped).
type PreviewTable struct {
	Name    string
	Columns []string
	Rows    [][]string
}

// PreviewFailure is the failure row a record would get: its uuid and the
// raw_event, errors and error_codes columns as written.
type PreviewFailure struct {
	UUID, RawEvent, Errors, ErrorCodes string
}

// Preview routes a chunk of records (as Flush receives them) the way the
// output does, with v as its data model, without a database: the rows per
// destination table and the failure rows. What only the database can say
// (a missing table or column, a value it refuses) is not previewed.
func Preview(v Validator, chunk []byte, now time.Time) ([]PreviewTable, []PreviewFailure) {
	o := &Output{cfg: &config{dialect: Postgres}, validator: v, dests: map[string]*dest{}, maxRaw: validate.DefaultMaxEventSize}
	u := o.route(chunk, now)
	b := &batch{}
	b.loadedAt = b.arena.str([]byte(now.UTC().Format(tsLayout)))
	var tables []*tableLoad
	byDest := map[*dest]*tableLoad{}
	var failures []PreviewFailure
	for _, r := range u.recs {
		if r.kind != kindValid || len(r.errs) > 0 {
			o.failureValues(b, r, &tableMeta{cols: map[string]*colMeta{}}, "")
			str := func(i int) string { s, _ := r.fvals[i].Str(); return string(s) }
			failures = append(failures, PreviewFailure{UUID: str(fUUID), RawEvent: str(fRawEvent), Errors: str(fErrors), ErrorCodes: str(fErrorCodes)})
			continue
		}
		for _, d := range r.dests {
			tl := byDest[d]
			if tl == nil {
				tl = previewTable(d.name)
				byDest[d] = tl
				tables = append(tables, tl)
			}
			r.columns.Range(func(k []byte, v record.Value) bool {
				name := foldIdent(k)
				if _, ok := tl.idx[name]; !ok && validIdent(k) && !isMetaCol(name) {
					tl.meta.cols[name] = &colMeta{name: name}
					tl.addColumn(k)
				}
				return true
			})
			tl.recs = append(tl.recs, r)
		}
	}
	out := make([]PreviewTable, 0, len(tables))
	for _, tl := range tables {
		pt := PreviewTable{Name: tl.name.String()}
		for _, c := range tl.cols {
			pt.Columns = append(pt.Columns, c.name)
		}
		vals := make([]record.Value, len(tl.cols))
		var buf []byte
		for _, r := range tl.recs {
			vals = tl.values(vals, r, b)
			row := make([]string, len(vals))
			for i, v := range vals {
				buf = appendCopyValue(buf[:0], v)
				row[i] = string(buf)
			}
			pt.Rows = append(pt.Rows, row)
		}
		out = append(out, pt)
	}
	return out, failures
}

// previewTable is a tableLoad for t as auto_create would make it: every
// metadata column, loaded_at filled by the database.
func previewTable(t tableName) *tableLoad {
	tl := &tableLoad{name: t, meta: &tableMeta{exists: true, cols: map[string]*colMeta{}}, idx: map[string]int{}}
	for i, c := range metaCols {
		cm := &colMeta{name: c, hasDefault: c == "loaded_at"}
		tl.meta.cols[c] = cm
		if !cm.filledByDatabase() {
			tl.cols = append(tl.cols, cm)
			tl.src = append(tl.src, i)
		}
	}
	return tl
}
