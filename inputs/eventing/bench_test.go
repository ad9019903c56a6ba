package eventing

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/testenv"

	"github.com/google/uuid"
	jsoniter "github.com/json-iterator/go"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

// benchEvent is a typical game event of about 500 bytes.
const benchEvent = `{"player_id":"5f0c6d2e-8a1b-4c3d-9e4f-123456789abc","session_id":"s-20261121-7781",` +
	`"platform":"android","client_version":"4.12.0","level":17,"stage":"forest-3","score":123456,` +
	`"duration_ms":93512,"coins_collected":342,"deaths":2,"boss_defeated":true,"difficulty":"hard",` +
	`"items_used":["shield","double-jump","magnet"],"position":{"x":1024.5,"y":-87.25,"z":3.0},` +
	`"device":{"model":"Pixel 9","os":"Android 16","locale":"de-DE"},"client_ts":"2026-11-21T23:45:26.987Z"}`

func batchBody(n int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(benchEvent)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// BenchmarkValidate compares syntax checks for one event.
func BenchmarkValidate(b *testing.B) {
	ev := []byte(benchEvent)
	b.Run("encoding-json.Valid", func(b *testing.B) {
		b.SetBytes(int64(len(ev)))
		for b.Loop() {
			if !json.Valid(ev) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("validJSON", func(b *testing.B) {
		b.SetBytes(int64(len(ev)))
		for b.Loop() {
			if !validJSON(ev) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("jsoniter.Valid", func(b *testing.B) {
		b.SetBytes(int64(len(ev)))
		for b.Loop() {
			if !jsoniter.ConfigFastest.Valid(ev) {
				b.Fatal("invalid")
			}
		}
	})
}

// BenchmarkHandler measures handler CPU per event: whirlpool's handler
// (received ack, Collect drained every request) against a naive one that
// decodes every event into a map, adds the fields and re-encodes it.
func BenchmarkHandler(b *testing.B) {
	for _, n := range []int{1, 100} {
		body := []byte(benchEvent)
		name := "single"
		if n > 1 {
			body, name = batchBody(n), "batch100"
		}
		b.Run("whirlpool/"+name, func(b *testing.B) {
			in, err := New(plugin.Env{Config: testenv.Config{"http_listen": "127.0.0.1", "http_port": "0", "ack": "received"}, Log: plugin.NopLogger{}})
			if err != nil {
				b.Fatal(err)
			}
			c := in.(*Collector)
			defer c.Close()
			var buf []byte
			runHandler(b, c, body, n, func() {
				var done func()
				buf, done = c.Collect(buf[:0])
				if done != nil {
					done()
				}
			})
		})
		b.Run("naive/"+name, func(b *testing.B) {
			h := &naiveHandler{}
			runHandler(b, h, body, n, h.drain)
		})
	}
}

func runHandler(b *testing.B, h http.Handler, body []byte, events int, drain func()) {
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	rd := bytes.NewReader(body)
	for b.Loop() {
		rd.Reset(body)
		req := httptest.NewRequest("POST", "/v1/events/space-race/1.4.2/level_complete", rd)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusAccepted {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		drain()
	}
	b.ReportMetric(float64(b.N*events)/b.Elapsed().Seconds(), "events/s")
}

// naiveHandler is the baseline: the straightforward way to write the same
// collector with encoding/json.
type naiveHandler struct {
	mu  sync.Mutex
	out [][]byte
}

func (h *naiveHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/events/"), "/")
	if len(parts) != 3 {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 5<<20))
	if err != nil || len(body) == 0 {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	var events []map[string]any
	if body[0] == '[' {
		err = json.Unmarshal(body, &events)
	} else {
		var m map[string]any
		err = json.Unmarshal(body, &m)
		events = append(events, m)
	}
	if err != nil {
		http.Error(w, "not json", http.StatusBadRequest)
		return
	}
	now := time.Now().UTC()
	for _, e := range events {
		id, _ := uuid.NewV7()
		e["uuid"] = id.String()
		e["fired_ts"] = now.Format("2006-01-02T15:04:05.000Z")
		e["game"], e["version"], e["event"] = parts[0], parts[1], parts[2]
		out, _ := json.Marshal(e)
		h.mu.Lock()
		h.out = append(h.out, out)
		h.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]any{"accepted": len(events), "rejected": []any{}})
}

func (h *naiveHandler) drain() {
	h.mu.Lock()
	clear(h.out)
	h.out = h.out[:0]
	h.mu.Unlock()
}
