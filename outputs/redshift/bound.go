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
	layout := time.RFC3339Nano
	if tl.failures {
		layout = tsLayout // failure rows hold fired_ts as the table does, without a zone
	}
	var last []byte
	for _, r := range recs {
		v := r.firedTS
		if tl.failures {
			v = r.fvals[fFiredTS]
		}
		s, ok := v.Str()
		switch {
		case !ok && tl.failures:
			nulls = true
			continue
		case !ok:
			return ""
		case last != nil && bytes.Equal(s, last): // the events of one request share a fired_ts: read once
			continue
		}
		last = s
		t, err := time.Parse(layout, string(s))
		if err != nil {
			return ""
		}
		// The instant, and the clock time a TIMESTAMP column keeps when it
		// ignores the offset (the same for a time without one).
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
