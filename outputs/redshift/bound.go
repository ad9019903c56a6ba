package redshift

// This file holds the fired_ts bound of the dedupe join: a row already in a
// table with the key of a batch row holds the same fired_ts (fired_ts is
// fixed per uuid at the edge, and a retry carries the same events), so the
// join may skip every row outside the batch's fired_ts range, which lets
// Redshift skip whole blocks of a table sorted by fired_ts.

import (
	"bytes"
	"time"
)

// firedBound is firedBoundOf over every row tl loads in this attempt.
func (tl *tableLoad) firedBound(col string) string { return tl.firedBoundOf(tl.recs, col) }

// firedBoundOf is the condition on col (the target's fired_ts) that keeps
// every row which may share a key with recs, or "" when there is none to
// give: the table has no TIMESTAMP fired_ts column (a text column compares
// as text, timestamptz in the session's zone), or a row's fired_ts cannot
// be read. The range is widened to whole seconds (the database may round
// fractions) and covers both readings of a time with a zone offset (the
// instant in UTC, and the clock time a TIMESTAMP column keeps when it
// ignores the offset). Failure rows may have no fired_ts (a record without
// a readable one): when some of recs have none, rows with NULL fired_ts
// are kept in the join too, so their duplicates are still found.
func (tl *tableLoad) firedBoundOf(recs []*rec, col string) string {
	c := tl.meta.cols["fired_ts"]
	if c == nil || (c.typ != "timestamp" && c.typ != "timestamp without time zone") || len(recs) == 0 {
		return ""
	}
	var lo, hi time.Time
	seen, nulls := false, false
	add := func(t time.Time) {
		if !seen || t.Before(lo) {
			lo = t
		}
		if !seen || t.After(hi) {
			hi = t
		}
		seen = true
	}
	var last []byte // the events of one request share a fired_ts: read once
	for _, r := range recs {
		if tl.failures {
			s, ok := r.fvals[fFiredTS].Str()
			if !ok {
				nulls = true
				continue
			}
			if last != nil && bytes.Equal(s, last) {
				continue
			}
			last = s
			t, err := time.Parse(tsLayout, string(s))
			if err != nil {
				return ""
			}
			add(t)
			continue
		}
		s, ok := r.firedTS.Str()
		if !ok {
			return ""
		}
		if last != nil && bytes.Equal(s, last) {
			continue
		}
		last = s
		t, err := time.Parse(time.RFC3339Nano, string(s))
		if err != nil {
			return ""
		}
		add(t.UTC())
		add(time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC))
	}
	if !seen {
		return ""
	}
	lo = lo.Truncate(time.Second)
	hi = hi.Truncate(time.Second).Add(time.Second)
	cond := col + " BETWEEN '" + lo.Format(tsLayout) + "' AND '" + hi.Format(tsLayout) + "'"
	if nulls {
		cond = "(" + cond + " OR " + col + " IS NULL)"
	}
	return cond
}
