package eventing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/jsonscan"
)

// Error codes of the ingest stage (failure codes, declared by
// filters/validate), plus the HTTP ones, which only answers carry.
const (
	codeNotJSON      = string(failcode.PayloadNotJSON)
	codeEmpty        = string(failcode.PayloadEmpty)
	codeNotObject    = string(failcode.PayloadNotObject)
	codeTooLarge     = string(failcode.PayloadTooLarge)
	codeEndpoint     = string(failcode.EndpointInvalid)
	codeMethod       = "METHOD_NOT_ALLOWED"
	codeEncoding     = "UNSUPPORTED_ENCODING"
	codeUnauthorized = "UNAUTHORIZED"
	codeOverloaded   = "OVERLOADED"
	codeTimeout      = "REQUEST_TIMEOUT"
	noIndex          = -1 // apiError.Index of a request-level error
)

// KnownCode reports whether c is one of the codes above, or "" (a request
// answered without error): the only values of the code label of the
// input's metrics (any other counts as metrics.Other).
func KnownCode(c string) bool {
	switch c {
	case "", codeNotJSON, codeEmpty, codeNotObject, codeTooLarge, codeEndpoint,
		codeMethod, codeEncoding, codeUnauthorized, codeOverloaded, codeTimeout:
		return true
	}
	return false
}

// apiError is one problem, of the request (Index -1) or of one event.
type apiError struct {
	Status  int
	Code    string
	Message string
	Index   int
}

func reqError(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...), Index: noIndex}
}

// validJSON is the syntax check for one event, strict RFC 8259: it answers
// as encoding/json.Valid does (FuzzValidJSON), with jsonscan's one-pass
// check, which takes about half of fastjson's time for an event and a
// fifth of encoding/json's (BenchmarkValidate). jsonscan bounds nesting at
// 4096 levels, where encoding/json allows 10000, so a text it refuses is
// asked of encoding/json too: that is only the path of broken events.
func validJSON(b []byte) bool {
	return jsonscan.Valid(b, jsonscan.Options{}) || json.Valid(b)
}

// splitter cuts a request body into events and checks each one. The events
// are sub-slices of the body; nothing is copied.
type splitter struct {
	maxEvent  int
	maxEvents int
	events    [][]byte    // good events, in order
	bad       []*apiError // bad events, with their index
	count     int         // events seen
}

func (s *splitter) reset() {
	clear(s.events)
	s.events, s.bad, s.count = s.events[:0], s.bad[:0], 0
}

// split fills s.events and s.bad from body, or returns an error of the whole
// request. ndjson says the Content-Type declared newline-delimited JSON;
// otherwise the form is detected: a body starting with [ is an array of
// events, a body whose first line is a complete JSON value followed by more
// lines is NDJSON, anything else is one event.
func (s *splitter) split(body []byte, ndjson bool) *apiError {
	s.reset()
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return reqError(http.StatusBadRequest, codeEmpty, "request body is empty")
	}
	switch {
	case ndjson || looksNDJSON(b):
		return s.splitLines(b)
	case b[0] == '[':
		return s.splitArray(b)
	}
	// One event: its errors are the request's.
	if e := s.check(b, noIndex, false); e != nil {
		return e
	}
	s.count = 1
	s.events = append(s.events, b)
	return nil
}

// looksNDJSON reports whether b (trimmed) has a line break after a first line
// that is a complete JSON value on its own. A pretty-printed object fails
// this test: its first line, "{", is not complete.
func looksNDJSON(b []byte) bool {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return false
	}
	first := bytes.TrimSpace(b[:i])
	return len(first) > 0 && validJSON(first)
}

func (s *splitter) splitLines(b []byte) *apiError {
	for len(b) > 0 {
		var line []byte
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			line, b = b, nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue // blank lines separate nothing
		}
		if e := s.add(line, false); e != nil {
			return e
		}
	}
	if s.count == 0 {
		return reqError(http.StatusBadRequest, codeEmpty, "request body has no events")
	}
	return nil
}

// splitArray cuts a JSON array (b[0] == '[') into its elements. A valid
// body, the common case, is checked and cut in one pass (splitValidArray);
// any other is cut by tracking strings and nesting depth and each element
// is then checked on its own, so a broken element is reported by index. A
// body whose array structure itself is broken is one PAYLOAD_NOT_JSON
// error.
func (s *splitter) splitArray(b []byte) *apiError {
	if done, e := s.splitValidArray(b); done {
		return e
	}
	s.reset()
	return s.cutArray(b)
}

// cutArray is splitArray's exact path: it finds the elements by tracking
// strings and nesting depth, and checks each one on its own.
func (s *splitter) cutArray(b []byte) *apiError {
	n := len(b)
	i := skipSpace(b, 1)
	if i < n && b[i] == ']' {
		if skipSpace(b, i+1) != n {
			return reqError(http.StatusBadRequest, codeNotJSON, "request body is not valid JSON: data after the array")
		}
		return reqError(http.StatusBadRequest, codeEmpty, "request body is an empty array")
	}
	for {
		start := i
		depth := 0
	scan:
		for ; i < n; i++ {
			switch b[i] {
			case '"':
				// Skip the string, honouring escapes.
				for i++; i < n && b[i] != '"'; i++ {
					if b[i] == '\\' {
						i++
					}
				}
			case '{', '[':
				depth++
			case '}', ']':
				if depth == 0 {
					break scan
				}
				depth--
			case ',':
				if depth == 0 {
					break scan
				}
			}
		}
		if i >= n {
			return reqError(http.StatusBadRequest, codeNotJSON, "request body is not valid JSON: the array is not terminated")
		}
		if e := s.add(bytes.TrimSpace(b[start:i]), false); e != nil {
			return e
		}
		switch b[i] {
		case ',':
			i++
		case ']':
			if skipSpace(b, i+1) != n {
				return reqError(http.StatusBadRequest, codeNotJSON, "request body is not valid JSON: data after the array")
			}
			return nil
		default: // '}' closing nothing
			return reqError(http.StatusBadRequest, codeNotJSON, "request body is not valid JSON: unbalanced '}' at offset %d", i)
		}
	}
}

// splitValidArray cuts b with one jsonscan pass, which hands over each
// element of a valid array; an element of a valid array is valid JSON, so
// add need not check its syntax again. done is false when b is not a valid
// array (or nests deeper than jsonscan goes), or when it holds more than
// max_events_per_request events: the events taken so far are then not
// known good, and the caller starts over on the exact path, which alone
// decides the answer (a truncated array of too many events is 400 there,
// as the exact path finds the syntax error first; FuzzSplitArray).
func (s *splitter) splitValidArray(b []byte) (done bool, e *apiError) {
	ok := jsonscan.Elements(b, jsonscan.Options{}, func(ev []byte) bool {
		return s.add(ev, true) == nil
	})
	switch {
	case !ok:
		return false, nil
	case s.count == 0:
		return true, reqError(http.StatusBadRequest, codeEmpty, "request body is an empty array")
	}
	return true, nil
}

// add checks one event of an array or NDJSON body; valid says its JSON
// syntax is already known good.
func (s *splitter) add(ev []byte, valid bool) *apiError {
	idx := s.count
	s.count++
	if s.count > s.maxEvents {
		return reqError(http.StatusRequestEntityTooLarge, codeTooLarge,
			"request has more than %d events (max_events_per_request)", s.maxEvents)
	}
	if e := s.check(ev, idx, valid); e != nil {
		s.bad = append(s.bad, e)
		return nil
	}
	s.events = append(s.events, ev)
	return nil
}

// check validates one event (trimmed): size, JSON syntax (unless valid
// says it is known good), object.
func (s *splitter) check(ev []byte, idx int, valid bool) *apiError {
	what := "event"
	if idx == noIndex {
		what = "request body"
	}
	switch {
	case len(ev) == 0:
		return &apiError{http.StatusBadRequest, codeNotJSON, "event is empty (stray comma?)", idx}
	case len(ev) > s.maxEvent:
		return &apiError{http.StatusRequestEntityTooLarge, codeTooLarge,
			fmt.Sprintf("%s is %d bytes, more than max_event_bytes (%d)", what, len(ev), s.maxEvent), idx}
	case ev[0] != '{':
		if valid || validJSON(ev) {
			return &apiError{http.StatusBadRequest, codeNotObject,
				fmt.Sprintf("%s is a JSON %s, want an object", what, kindOf(ev[0])), idx}
		}
		return &apiError{http.StatusBadRequest, codeNotJSON, what + " is not valid JSON" + syntaxDetail(ev), idx}
	case !valid && !validJSON(ev):
		return &apiError{http.StatusBadRequest, codeNotJSON, what + " is not valid JSON" + syntaxDetail(ev), idx}
	}
	return nil
}

// syntaxDetail explains why ev is not valid JSON (error path only).
func syntaxDetail(ev []byte) string {
	var v json.RawMessage
	err := json.Unmarshal(ev, &v)
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf(": %s (offset %d)", se.Error(), se.Offset)
	}
	if err != nil {
		return ": " + err.Error()
	}
	return ""
}

func kindOf(c byte) string {
	switch c {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
