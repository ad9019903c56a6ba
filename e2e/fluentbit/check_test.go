package fluentbit

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// eventTables are the destination tables of conf/model.yaml; failures go
// to failuresTable (conf/processor.*).
var eventTables = []string{"pixel_quest.session_start", "pixel_quest.level_complete", "pixel_quest.purchase_item", "analytics.progress"}

const failuresTable = "failures.events"

// row is one row of ours in the database.
type row struct {
	table, uuid, run, code string
	expandIndex            int
	seq                    int64
}

// tableExists reports whether the table (schema.table) exists yet: the
// redshift output creates tables at their first row.
func tableExists(db *sql.DB, table string) (bool, error) {
	var exists bool
	if err := db.QueryRow(`SELECT to_regclass($1) IS NOT NULL`, table).Scan(&exists); err != nil {
		return false, fmt.Errorf("to_regclass(%s): %w", table, err)
	}
	return exists, nil
}

// readRows reads every row of the destination and failure tables (the
// database is the test's own); tables not created yet are skipped.
func readRows(db *sql.DB) ([]row, error) {
	var out []row
	for _, t := range append(eventTables, failuresTable) {
		exists, err := tableExists(db, t)
		if err != nil {
			return nil, err
		}
		if !exists {
			continue
		}
		q := `SELECT uuid::text, expand_index, seq::text, coalesce(run, ''), '' FROM ` + t
		if t == failuresTable {
			q = `SELECT uuid::text, expand_index, raw_event::text, '', coalesce(error_codes, '') FROM ` + t
		}
		rows, err := db.Query(q)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", t, err)
		}
		for rows.Next() {
			r := row{table: t}
			var seqOrRaw sql.NullString
			if err := rows.Scan(&r.uuid, &r.expandIndex, &seqOrRaw, &r.run, &r.code); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading %s: %w", t, err)
			}
			if t == failuresTable {
				var ev struct {
					Seq json.Number `json:"seq"`
					Run string      `json:"run"`
				}
				_ = json.Unmarshal([]byte(seqOrRaw.String), &ev)
				r.run = ev.Run
				r.seq, _ = strconv.ParseInt(ev.Seq.String(), 10, 64)
			} else {
				r.seq, _ = strconv.ParseInt(seqOrRaw.String, 10, 64)
			}
			out = append(out, r)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", t, err)
		}
	}
	return out, nil
}

// phaseCount is the outcome of one phase of the schedule.
type phaseCount struct {
	name                      string
	sent, ok, okAfterLost     int // events; ok: answered 2xx; okAfterLost: 2xx after an attempt without an answer
	landed                    int // events with their rows (exactly once where required)
	missing, twice, notOKRows int // 2xx events without rows; with rows twice; events never answered 2xx that landed
}

// verdict compares the ledger with the rows. An event answered 2xx whose
// every earlier attempt was answered 503 (nothing emitted) must land
// exactly once; one whose earlier attempt got no answer may also have
// landed from that attempt (a retry's duplicate), up to one uuid per such
// attempt; one never answered 2xx may have landed up to once per
// unanswered attempt. Every uuid must have exactly its rows (one per
// destination; one per element of an expand event, expand_index 0..n-1;
// one failure row with the expected code), and no row may belong to an
// event that was never sent.
type verdict struct {
	phases      []phaseCount
	missing     int      // 2xx events with no row
	missingSeqs []string // a sample of them
	problems    []string // everything else that is wrong
}

func (v *verdict) problemf(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

func check(l *load, names []string, rows []row) *verdict {
	v := &verdict{phases: make([]phaseCount, len(names))}
	for i, n := range names {
		v.phases[i].name = n
	}
	bySeq := map[int64][]row{}
	for _, r := range rows {
		bySeq[r.seq] = append(bySeq[r.seq], r)
	}
	l.mu.Lock()
	batches := append([]*batch(nil), l.batches...)
	l.mu.Unlock()
	sent := map[int64]bool{}
	for _, b := range batches {
		pc := &v.phases[b.phase]
		for i, e := range b.exp {
			seq := b.first + int64(i)
			sent[seq] = true
			pc.sent++
			if b.ok {
				pc.ok++
				if b.unanswered > 0 {
					pc.okAfterLost++
				}
			}
			uuids := v.checkEvent(seq, e, l.run(b.phase), bySeq[seq])
			switch {
			case b.ok && uuids == 0:
				pc.missing++
				v.missing++
				if len(v.missingSeqs) < 20 {
					v.missingSeqs = append(v.missingSeqs, fmt.Sprintf("seq %d (%s, phase %d, %d attempts, %d unanswered, %s)", seq, b.transport, b.phase, b.attempts, b.unanswered, e.table))
				}
			case b.ok && b.unanswered == 0 && uuids > 1:
				pc.twice++
				v.problemf("seq %d (%s, answered 2xx at once): %d uuids landed, want exactly 1", seq, b.transport, uuids)
			case b.ok && uuids > 1+b.unanswered:
				pc.twice++
				v.problemf("seq %d (%s): %d uuids landed from %d unanswered attempts and one 2xx", seq, b.transport, uuids, b.unanswered)
			case !b.ok && uuids > b.unanswered:
				v.problemf("seq %d (%s, never answered 2xx): %d uuids landed from %d unanswered attempts", seq, b.transport, uuids, b.unanswered)
			}
			if uuids > 0 {
				pc.landed++
				if !b.ok {
					pc.notOKRows++
				}
			}
		}
	}
	for seq, rs := range bySeq {
		if !sent[seq] {
			v.problemf("%d row(s) of seq %d (run %q, table %s) that was never sent", len(rs), seq, rs[0].run, rs[0].table)
		}
	}
	return v
}

// checkEvent checks the rows of one event and returns how many uuids
// (deliveries) it has in its table.
func (v *verdict) checkEvent(seq int64, e expect, run string, rows []row) int {
	main := map[string][]int{} // uuid → expand indexes in e.table
	also := map[string]int{}
	for _, r := range rows {
		if r.run != run {
			v.problemf("seq %d: a row in %s has run %q, want %q", seq, r.table, r.run, run)
		}
		switch r.table {
		case e.table:
			main[r.uuid] = append(main[r.uuid], r.expandIndex)
			if e.code != "" && r.code != e.code {
				v.problemf("seq %d: failure row with codes %q, want %q", seq, r.code, e.code)
			}
		case e.also:
			also[r.uuid]++
		default:
			v.problemf("seq %d: a row in %s, want %s only (%s)", seq, r.table, e.table, e.also)
		}
	}
	for u, idx := range main {
		sort.Ints(idx)
		want := []int{-1}
		if e.table == "pixel_quest.purchase_item" {
			want = nil
			for i := 0; i < e.rows; i++ {
				want = append(want, i)
			}
		}
		if fmt.Sprint(idx) != fmt.Sprint(want) {
			v.problemf("seq %d uuid %s: expand_index %v in %s, want %v", seq, u, idx, e.table, want)
		}
		if e.also != "" && also[u] != 1 {
			v.problemf("seq %d uuid %s: %d rows in %s, want 1", seq, u, also[u], e.also)
		}
	}
	for u := range also {
		if _, ok := main[u]; !ok {
			v.problemf("seq %d uuid %s: in %s but not in %s", seq, u, e.also, e.table)
		}
	}
	return len(main)
}

// settle waits until every event answered 2xx has landed, the queue is
// empty (no message visible or in flight: a message hidden by a killed
// processor comes back after conf's 60 s visibility timeout) and the row
// count has stopped changing; it fails the test after timeout, saying what
// is missing.
func (p *pipeline) settle(names []string, timeout time.Duration) *verdict {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	lastRows, stable := -1, 0
	var v *verdict
	var state string
	for {
		p.revive()
		rows, err := readRows(p.db)
		if err != nil {
			state = err.Error()
		} else {
			v = check(p.load, names, rows)
			visible, inflight, qerr := p.queueState()
			state = fmt.Sprintf("%d rows, %d events answered 2xx still missing, queue: %d visible, %d in flight (%v)", len(rows), v.missing, visible, inflight, qerr)
			if len(rows) == lastRows && v.missing == 0 && qerr == nil && visible == 0 && inflight == 0 {
				stable++
			} else {
				stable = 0
			}
			lastRows = len(rows)
			if stable >= 3 {
				return v
			}
		}
		if time.Now().After(deadline) {
			msg := fmt.Sprintf("the pipeline did not settle within %s: %s", timeout, state)
			if v != nil {
				msg += "\n" + v.table()
				msg += "\nmissing (answered 2xx, no row), e.g.: " + strings.Join(v.missingSeqs, ", ")
			}
			p.t.Fatal(msg)
		}
		time.Sleep(2 * time.Second)
	}
}

// table formats the per-phase counts.
func (v *verdict) table() string {
	var sb strings.Builder
	w := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "phase\tfault\tsent\tanswered 2xx\t2xx after a lost answer\tlanded\t2xx missing\t2xx twice\tlanded, never 2xx\t")
	var tot phaseCount
	for i, pc := range v.phases {
		fmt.Fprintf(w, "%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", i, pc.name, pc.sent, pc.ok, pc.okAfterLost, pc.landed, pc.missing, pc.twice, pc.notOKRows)
		tot.sent += pc.sent
		tot.ok += pc.ok
		tot.okAfterLost += pc.okAfterLost
		tot.landed += pc.landed
		tot.missing += pc.missing
		tot.twice += pc.twice
		tot.notOKRows += pc.notOKRows
	}
	fmt.Fprintf(w, "\ttotal\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", tot.sent, tot.ok, tot.okAfterLost, tot.landed, tot.missing, tot.twice, tot.notOKRows)
	w.Flush()
	return sb.String()
}

// report fails the test on every problem of v, and on crashes and
// unexpected answers, and logs the per-phase table either way.
func (p *pipeline) report(v *verdict) {
	p.t.Helper()
	p.t.Logf("per-phase counts (events; run %s):\n%s", p.load.runID, v.table())
	if len(v.problems) > 0 {
		sort.Strings(v.problems)
		p.t.Errorf("%d problems, e.g.:\n  %s", len(v.problems), strings.Join(v.problems[:min(len(v.problems), 20)], "\n  "))
	}
	if v.missing > 0 {
		p.t.Errorf("%d events answered 2xx have no row", v.missing)
	}
	p.load.mu.Lock()
	unexpected := append([]string(nil), p.load.unexpected...)
	p.load.mu.Unlock()
	if len(unexpected) > 0 {
		p.t.Errorf("%d unexpected answers, e.g.:\n  %s", len(unexpected), strings.Join(unexpected[:min(len(unexpected), 10)], "\n  "))
	}
	for _, f := range []*fluentBit{p.edge, p.processor} {
		if c := f.Crashes(); len(c) > 0 {
			p.t.Errorf("the %s Fluent Bit crashed %d time(s):\n%s", f.name, len(c), strings.Join(c, "\n"))
		}
	}
}
