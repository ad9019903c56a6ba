package eventing

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/whirlpool-events/whirlpool/internal/failcode"
)

// retryAfter is the Retry-After value, in seconds, of every 503: Fluent Bit
// collects once a second.
const retryAfter = "1"

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Index   *int   `json:"index,omitempty"`
}

func (e *apiError) body() errorBody {
	b := errorBody{Code: e.Code, Message: e.Message}
	if e.Index != noIndex {
		i := e.Index
		b.Index = &i
	}
	return b
}

// writeJSON writes a JSON response; a HEAD request gets the headers only.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeError answers with one error; rejected, when not empty, lists every
// bad event of a rejected batch.
func writeError(w http.ResponseWriter, e *apiError, rejected []*apiError) {
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfter)
	}
	var v struct {
		Error    errorBody   `json:"error"`
		Rejected []errorBody `json:"rejected,omitempty"`
	}
	v.Error = e.body()
	for _, r := range rejected {
		v.Rejected = append(v.Rejected, r.body())
	}
	b, err := json.Marshal(v)
	if err != nil { // cannot happen: strings and ints only
		b = []byte(`{"error":{"code":"` + string(failcode.InternalError) + `","message":"cannot encode the error"}}`)
	}
	writeJSON(w, e.Status, b)
}

// writeAccepted answers {"accepted":N,"rejected":[...]}.
func writeAccepted(w http.ResponseWriter, status, accepted int, rejected []*apiError, scratch []byte) []byte {
	b := append(scratch[:0], `{"accepted":`...)
	b = strconv.AppendInt(b, int64(accepted), 10)
	b = append(b, `,"rejected":[`...)
	for i, r := range rejected {
		if i > 0 {
			b = append(b, ',')
		}
		rb, _ := json.Marshal(r.body())
		b = append(b, rb...)
	}
	b = append(b, "]}"...)
	writeJSON(w, status, b)
	return b
}
