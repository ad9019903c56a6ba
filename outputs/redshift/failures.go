package redshift

// This file holds the failure rows: which records of a batch go to the
// failures table and the values of their rows (the raw event cut to fit,
// cleaned of what the database refuses in text).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

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
		if m, err = o.createTable(ctx, s, tl.name, failureCols, metaTypes(o.cfg.dialect, failureCols), true); err != nil {
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
		if cm, ok := m.cols[c]; ok && !cm.filledByDatabase() && i != fReplayedAt { // replay alone sets replayed_at
			tl.cols = append(tl.cols, cm)
			tl.src = append(tl.src, i)
		}
	}
	seen := map[string]struct{}{}
	var keyBuf []byte
	for _, r := range cands {
		o.failureValues(b, r, m, b.rejected[rejectKey{r, tl.name.String()}])
		if r.spill != nil && o.stager != nil && m.has("raw_event_s3_uri") {
			url, err := o.stager.putRaw(ctx, r.spill)
			if err != nil {
				return err // transient: the batch is retried
			}
			r.fvals[fRawS3URI] = b.arena.str([]byte(url))
		}
		if o.cfg.dedupe {
			keyBuf = append(append(append(keyBuf[:0], r.fvals[fUUID]...), 0), r.fvals[fExpandIndex]...)
			if _, dup := seen[string(keyBuf)]; dup {
				continue
			}
			seen[string(keyBuf)] = struct{}{}
		}
		tl.recs = append(tl.recs, r)
		codes, _ := r.fvals[fErrorCodes].Str()
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
	if n, ok := r.expandIndex.Int(); ok {
		v[fExpandIndex] = a.int(n)
	} else {
		v[fExpandIndex] = a.int(-1)
	}
	// fired_ts is NOT NULL (the sort key): a record without a readable
	// one (outside the contract, undecodable) gets the time of its chunk
	// record, or 1970-01-01 for the undecodable rest of a chunk. Never
	// failed_at: a re-flush must give the row the same fired_ts, or the
	// dedupe, bounded by the batch's fired_ts range, would miss it.
	fired, firedOK := time.Time{}, false
	if s, ok := r.firedTS.Str(); ok {
		if t, err := time.Parse(time.RFC3339Nano, string(s)); err == nil {
			fired, firedOK = t.UTC(), true
		}
	}
	if firedOK {
		v[fFiredTS] = a.str([]byte(fired.Format(tsLayout)))
	} else {
		t := r.chunkTime
		if t.IsZero() {
			t = time.Unix(0, 0)
		}
		v[fFiredTS] = a.str([]byte(t.UTC().Format(tsLayout)))
	}
	v[fGame], v[fVersion], v[fEvent], v[fDefVersion] = str("game", r.game), str("version", r.version), str("event", r.event), str("definition_version", r.defVersion)
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
	seedTime := fired
	if !firedOK {
		seedTime = time.Unix(0, 0) // not failed_at: a re-flush must derive the same uuid
	}
	v[fUUID] = a.str(failureUUID(r.uuid, raw, seedTime))
	if refused != "" {
		if whole == nil && raw != nil {
			whole = validate.DigestOf(raw)
		}
		raw = nil
		var list []json.RawMessage
		json.Unmarshal(errs, &list)
		extra := appendErrorsJSON(nil, []loadErr{{code: failcode.LoadRejected, path: o.cfg.failures.String(), rule: "load",
			message: "the failures table refused this row, stored without raw_event: " + refused}})
		var e2 []json.RawMessage
		json.Unmarshal(extra, &e2)
		errs, _ = json.Marshal(append(list, e2...))
		if !containsCode(codes, []byte(failcode.LoadRejected)) {
			codes = append(append(append([]byte(nil), codes...), ','), failcode.LoadRejected...)
		}
	}
	r.spill = nil
	if raw != nil {
		received := raw
		raw, whole = o.cutRaw(raw, whole)
		if c := m.cols["raw_event"]; c != nil && c.super {
			raw, r.spill, whole = superRaw(raw, received, whole)
		}
		v[fRawEvent] = text("raw_event", raw)
	}
	if c := m.cols["errors"]; c != nil && c.super {
		errs = superErrors(errs)
	}
	v[fErrors] = text("errors", errs)
	v[fErrorCodes] = text("error_codes", codes)
	v[fFailedAt] = a.str([]byte(r.at.UTC().Format(tsLayout)))
	v[fLoadedAt] = b.loadedAt // only for a table whose loaded_at has no DEFAULT
	if whole != nil {
		v[fRawBytes] = a.int(whole.Bytes)
		v[fRawSHA256] = a.str([]byte(whole.Hex()))
	}
	v[fRawTruncated] = a.bool(whole != nil)
	r.fvals = v
}

// failureUUID is the uuid of a failure row: the record's own when it fits
// the column (1 to 36 printable ASCII characters: Redshift's CHAR holds
// single-byte characters only), else a UUIDv7 derived from it, the raw
// text and fired_ts, so that the same record failing again gets the same
// uuid and dedupe keeps one row. Records outside the contract and
// undecodable chunks have no uuid; a forged one may have any string.
func failureUUID(v record.Value, raw []byte, fired time.Time) []byte {
	s, ok := v.Str()
	if ok && uuidFits(s) {
		return s
	}
	h := sha256.New()
	h.Write(s)
	h.Write([]byte{0})
	h.Write(raw)
	var seed [32]byte
	h.Sum(seed[:0])
	return enrich.AppendUUID(nil, enrich.DeterministicUUID(fired, seed, 0))
}

func uuidFits(s []byte) bool {
	if len(s) == 0 || len(s) > 36 {
		return false
	}
	for _, c := range s {
		if c <= ' ' || c > '~' {
			return false
		}
	}
	return true
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
