package redshift

// This file keeps the failures table's SUPER columns (raw_event, errors)
// within Redshift's limits. A string inside a SUPER value holds at most
// 65,535 bytes (unless the cluster opts into enable_large_strings_opt_in)
// and COPY reads a JSON document of at most 4 MB, while a failure's raw
// text may be max_event_size (up to 16 MB). PostgreSQL's text has no such
// limit and is left alone.

import (
	"encoding/json"
	"fmt"

	"github.com/whirlpool-events/whirlpool/filters/validate"
)

const (
	// superStringMax is the longest string a SUPER value holds.
	superStringMax = 65535
	// superRawMax and superErrorsMax bound the JSON kept in raw_event and
	// errors so that one COPY line (every column of a row) stays under
	// COPY's 4 MB JSON limit.
	superRawMax    = 3_000_000
	superErrorsMax = 500_000
	// superDepthMax is SUPER's deepest nesting of arrays and objects.
	superDepthMax = 1000
	// errorFieldMax cuts each string of an error object that would not fit.
	errorFieldMax = 4096
)

// fitsSuper reports whether s can be a SUPER value as it is: text that is
// not JSON within superStringMax (a SUPER string), or JSON within max
// whose every string fits and whose nesting is within SUPER's.
func fitsSuper(s []byte, max int) bool {
	if !json.Valid(s) {
		return len(s) <= superStringMax // a SUPER string
	}
	if len(s) > max {
		return false
	}
	depth, start := 0, -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if start >= 0 { // inside a string
			switch c {
			case '\\':
				i++
			case '"':
				if i-start-1 > superStringMax { // escapes only shrink when decoded
					return false
				}
				start = -1
			}
			continue
		}
		switch c {
		case '"':
			start = i
		case '{', '[':
			if depth++; depth > superDepthMax {
				return false
			}
		case '}', ']':
			depth--
		}
	}
	return true
}

// superRaw fits a failure's raw text (already made loadable and cut to
// max_event_size) to a SUPER raw_event: kept whole when it fits, else its
// first superStringMax bytes, cut at a character boundary, stored as a
// SUPER string; whole then describes received, the text as received,
// unless it already describes a longer original. spill is the text to
// keep elsewhere (S3), nil when it fits.
func superRaw(raw, received []byte, whole *validate.TextDigest) (kept, spill []byte, _ *validate.TextDigest) {
	if fitsSuper(raw, superRawMax) {
		return raw, nil, whole
	}
	if whole == nil {
		whole = validate.DigestOf(received)
	}
	return validate.PrefixUTF8(raw, superStringMax), raw, whole
}

// superErrors fits the errors list (a JSON array of error objects) to a
// SUPER value: each string over errorFieldMax is cut, and the list keeps
// the errors that fit superErrorsMax, then one object saying how many
// were left out. error_codes still lists every code.
func superErrors(errs []byte) []byte {
	if fitsSuper(errs, superErrorsMax) {
		return errs
	}
	var list []map[string]any
	if err := json.Unmarshal(errs, &list); err != nil {
		return validate.PrefixUTF8(errs, superStringMax) // not a list: stored as a string
	}
	out := []byte{'['}
	kept := 0
	for _, e := range list {
		for k, v := range e {
			if s, ok := v.(string); ok && len(s) > errorFieldMax {
				e[k] = string(validate.PrefixUTF8([]byte(s), errorFieldMax))
			}
		}
		b, err := json.Marshal(e)
		if err != nil || len(out)+len(b)+1024 > superErrorsMax {
			break
		}
		if kept > 0 {
			out = append(out, ',')
		}
		out = append(out, b...)
		kept++
	}
	if kept < len(list) {
		note, _ := json.Marshal(map[string]string{"code": "", "path": "", "rule": "truncated", "expected": "", "actual": "",
			"message": fmt.Sprintf("%d more errors left out: the list is over the %d bytes kept in a SUPER value (error_codes lists every code)", len(list)-kept, superErrorsMax)})
		if kept > 0 {
			out = append(out, ',')
		}
		out = append(out, note...)
	}
	return append(out, ']')
}
