package redshift

// This file holds the transaction of a batch: loading every table's rows
// (INSERTs cut to the statement limit, or COPY), skipping rows a table
// already holds when dedupe is on, then the failure rows, and COMMIT.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

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
	if r.def != (validate.Allowed{}) {
		if at, _ := tl.placed(r.def); at != nil { // checkColumns placed them
			for k, v := range r.defVals {
				vals[at[k]] = v
			}
			return vals
		}
	}
	j := 0 // position among the record's columns
	r.columns.RangeDecoded(func(k []byte, v record.Value) bool {
		if j < len(tl.known) && bytes.Equal(tl.known[j], k) {
			vals[tl.knownAt[j]] = v
		} else if i, ok := tl.colIndex(k); ok {
			vals[i] = v
		}
		j++
		return true
	})
	return vals
}

// colIndex is the position in cols of record key k's column.
func (tl *tableLoad) colIndex(k []byte) (int, bool) {
	if i, ok := tl.idx[string(k)]; ok {
		return i, true
	}
	if hasUpper(k) {
		if i, ok := tl.idx[foldIdent(k)]; ok {
			return i, true
		}
	}
	return 0, false
}

// runTx runs the batch's transaction: every table, then the failures.
// Dedupe on Redshift runs two transactions instead (runStaged).
func (o *Output) runTx(ctx context.Context, s Session, b *batch) error {
	all := b.tables
	if b.failures != nil {
		all = append(all[:len(all):len(all)], b.failures)
	}
	if o.cfg.dedupe && o.cfg.dialect == Redshift {
		return o.runStaged(ctx, s, b, all)
	}
	if _, err := s.Exec(ctx, "BEGIN"); err != nil {
		return err
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

// runStaged is dedupe on Redshift. The first transaction stages every
// table's rows into temporary tables of the session (INSERT or COPY: the
// slow part, which takes no lock on any target and fails alone on bad
// data). The second locks the targets, in the order of their quoted names
// so that loaders never wait on each other in a cycle, drops the staged
// rows each target already holds and appends the rest. LOCK is its first
// statement, so its snapshot is taken once the lock is held: it sees every
// row a loader that held the lock before it committed, under snapshot
// isolation (Redshift Serverless) as under serializable.
func (o *Output) runStaged(ctx context.Context, s Session, b *batch, all []*tableLoad) error {
	if _, err := s.Exec(ctx, "BEGIN"); err != nil {
		return err
	}
	stages := make([]string, len(all))
	for i, tl := range all {
		st, err := o.stageRows(ctx, s, b, tl, tl.recs)
		if err != nil {
			o.rollback(ctx, s) // drops the stages made so far
			return &tableErr{t: tl, err: err}
		}
		stages[i] = st
	}
	if _, err := s.Exec(ctx, "COMMIT"); err != nil {
		o.rollback(ctx, s)
		return err
	}
	order := make([]int, len(all))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return all[order[i]].name.quoted() < all[order[j]].name.quoted() })
	fail := func(tl *tableLoad, err error) error {
		o.rollback(ctx, s)
		// committed, the stages outlive the ROLLBACK in a pooled session
		s.Exec(ctx, "DROP TABLE IF EXISTS "+strings.Join(stages, ", "))
		if tl == nil {
			return err
		}
		return &tableErr{t: tl, err: err}
	}
	if _, err := s.Exec(ctx, "BEGIN"); err != nil {
		return fail(nil, err)
	}
	for _, i := range order {
		if _, err := s.Exec(ctx, "LOCK "+all[i].name.quoted()); err != nil {
			// not the table's fault (no privilege to lock, or a lock
			// timeout): retried, never a reason to divert its rows
			return fail(nil, fmt.Errorf("locking %s: %w", all[i].name, err))
		}
	}
	for _, i := range order {
		n, err := o.appendStaged(ctx, s, all[i], stages[i])
		if err != nil {
			return fail(all[i], err)
		}
		all[i].loaded = n
	}
	if _, err := s.Exec(ctx, "COMMIT"); err != nil {
		return fail(nil, err)
	}
	return nil
}

func (o *Output) rollback(ctx context.Context, s Session) {
	s.Exec(ctx, "ROLLBACK")
}

// loadTable loads recs into tl inside the open transaction and returns how
// many rows reached the table. Dedupe on Redshift only stages them: the
// rows a table refuses are found there (isolate.go), before any lock.
func (o *Output) loadTable(ctx context.Context, s Session, b *batch, tl *tableLoad, recs []*rec) (int64, error) {
	cols := columnList(tl.cols)
	target := tl.name.quoted()
	if !o.cfg.dedupe {
		return o.loadRows(ctx, s, b, tl, recs, target, cols)
	}
	if o.cfg.dialect == Postgres {
		return o.loadNewRows(ctx, s, b, tl, recs, target, cols, len(tl.dedupeKeys()) == 2)
	}
	_, err := o.stageRows(ctx, s, b, tl, recs)
	return 0, err
}

// dedupeKeys are the columns that identify a row of tl.
func (tl *tableLoad) dedupeKeys() []string {
	if tl.failures && !tl.meta.has("expand_index") {
		return []string{"uuid"}
	}
	return []string{"uuid", "expand_index"}
}

// stageRows makes a temporary table like tl's target (LIKE keeps its
// column types, encodings and keys, which CREATE TABLE AS ... LIMIT 0
// would not) and loads recs into it; it returns the stage's quoted name.
func (o *Output) stageRows(ctx context.Context, s Session, b *batch, tl *tableLoad, recs []*rec) (string, error) {
	o.stageSeq++
	stage := quoteIdent("whirlpool_stage_" + strconv.Itoa(o.stageSeq))
	if _, err := s.Exec(ctx, "CREATE TEMP TABLE "+stage+" (LIKE "+tl.name.quoted()+")"); err != nil {
		return "", err
	}
	if _, err := o.loadRows(ctx, s, b, tl, recs, stage, columnList(tl.cols)); err != nil {
		return "", err
	}
	return stage, nil
}

// appendStaged drops the staged rows tl's target already holds and appends
// the rest, under the lock.
func (o *Output) appendStaged(ctx context.Context, s Session, tl *tableLoad, stage string) (int64, error) {
	target := tl.name.quoted()
	cols := columnList(tl.cols)
	var where []string
	for _, k := range tl.dedupeKeys() {
		where = append(where, stage+"."+quoteIdent(k)+" = "+target+"."+quoteIdent(k))
	}
	if bound := tl.firedBound(target + "." + quoteIdent("fired_ts")); bound != "" {
		where = append(where, bound)
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
	q := dedupeQuery(target, typ, withIndex, len(recs), func(i int) []byte { return recs[i].keyUUID(tl.failures) },
		tl.firedBoundOf(recs, quoteIdent("fired_ts")))
	if _, err := s.Exec(ctx, indexProbesOnly); err != nil {
		return 0, err
	}
	have, err := s.Query(ctx, unsafe.String(unsafe.SliceData(q), len(q)))
	if err != nil {
		return 0, err
	}
	if _, err := s.Exec(ctx, indexProbesReset); err != nil {
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

// indexProbesOnly makes the load transaction plan the dedupe SELECT with
// index probes only (indexProbesReset undoes it). Left to itself the
// planner scanned the whole table instead, a cost that grows with the
// table: before the table has statistics (a new table, or one a backlog
// grows faster than autovacuum analyzes it) it guesses each key matches
// many rows, and after, it prices 50,000 probes above a scan of a table of
// up to millions of rows. At 700,000 rows that was 0.3-0.45 s a batch
// against 0.1-0.14 s (docs/benchmarks/2026-12-01-dedupe-query.txt). A
// table without the index is still scanned: the settings only make other
// plans look dearer.
const (
	indexProbesOnly  = "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off"
	indexProbesReset = "RESET enable_seqscan; RESET enable_bitmapscan"
)

// dedupeQuery is the SELECT of the keys that table target (quoted)
// already has among n keys (key(i) the uuid of the i-th, of SQL type typ),
// with expand_index when withIndex; bound, when not "", is a condition on
// fired_ts that keeps every row which may share a key with them. Run it
// between indexProbesOnly and indexProbesReset.
func dedupeQuery(target, typ string, withIndex bool, n int, key func(i int) []byte, bound string) []byte {
	head := "SELECT " + quoteIdent("uuid")
	if withIndex {
		head += ", " + quoteIdent("expand_index")
	}
	head += " FROM " + target + " WHERE " + quoteIdent("uuid") + " = ANY(CAST(E'{"
	// The query holds every key of the batch: built in one buffer of
	// about its size (built by concatenation, it was copied four times),
	// sized for uuids (36 bytes, a comma and quotes; longer keys grow it).
	q := make([]byte, 0, len(head)+len(bound)+256+n*40)
	q = append(q, head...)
	var elem []byte
	for i := 0; i < n; i++ {
		if i > 0 {
			q = append(q, ',')
		}
		elem = appendArrayElem(elem[:0], key(i))
		q = appendLiteralText(q, elem)
	}
	q = append(q, "}' AS "+typ+"[]))"...)
	if bound != "" {
		q = append(q, " AND "+bound...)
	}
	return q
}

var pgTypeRe = regexp.MustCompile(`^[a-z][a-z ]*$`)

// keyUUID and keyIndex are r's dedupe key in an event table or, with
// failures, in the failures table.
func (r *rec) keyUUID(failures bool) []byte {
	s, _ := r.keyValue(failures).Str()
	return s
}

// keyValue is the encoded value keyUUID reads.
func (r *rec) keyValue(failures bool) record.Value {
	if failures {
		return r.fvals[fUUID]
	}
	return r.uuid
}

func (r *rec) keyIndex(failures bool) int64 {
	v := r.expandIndex
	if failures {
		v = r.fvals[fExpandIndex]
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
		i := 0
		rows := func(dst []byte) ([]byte, bool) {
			for ; i < len(recs) && len(dst) < copyBlock; i++ {
				dst = appendCopyRow(dst, tl.values(vals, recs[i], b))
			}
			return dst, i < len(recs)
		}
		if err := cp.CopyIn(ctx, "COPY "+into+" ("+cols+") FROM STDIN", rows); err != nil {
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
