package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"
)

func TestHTTPSenderOutcomes(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Key") != "k1" {
			t.Errorf("request %s %q key %q", r.Method, r.Header.Get("Content-Type"), r.Header.Get("X-Key"))
		}
		var events []map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &events); err != nil {
			t.Errorf("body is not a JSON array: %s", b)
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/events/g/1.0/busy":
			if n == 1 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(503)
				fmt.Fprint(w, `{"error":{"code":"OVERLOADED","message":"paused"}}`)
				return
			}
			fmt.Fprintf(w, `{"accepted":%d,"rejected":[]}`, len(events))
		case "/v1/events/g/1.0/bad":
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":{"code":"PAYLOAD_NOT_OBJECT","message":"x","index":1}}`)
		case "/v1/events/g/1.0/partial":
			fmt.Fprintf(w, `{"accepted":%d,"rejected":[{"code":"PAYLOAD_NOT_OBJECT","message":"x","index":1}]}`, len(events)-1)
		default:
			t.Errorf("path %s", r.URL.Path)
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	s := &HTTPSender{Client: srv.Client(), BaseURL: srv.URL + "/v1/events", APIKey: "k1", APIKeyHeader: "X-Key", Retries: 2, RetryWait: time.Millisecond}
	evs := [][]byte{[]byte(`{"a":1}`), []byte(`{"a":2}`), []byte(`{"a":3}`)}

	r := s.Send(context.Background(), "g", "1.0", "busy", evs)
	if r.Status != 200 || r.Accepted != 3 || len(r.Rejected) != 0 || r.Retries != 1 || r.Err != nil {
		t.Errorf("503 then 200: %+v", r)
	}
	r = s.Send(context.Background(), "g", "1.0", "bad", evs)
	if r.Status != 400 || r.Accepted != 0 || len(r.Rejected) != 3 || r.Code != "PAYLOAD_NOT_OBJECT" || r.Retries != 0 {
		t.Errorf("400: %+v", r)
	}
	r = s.Send(context.Background(), "g", "1.0", "partial", evs)
	if r.Status != 200 || r.Accepted != 2 || len(r.Rejected) != 1 || r.Rejected[0] != 1 || r.Err != nil {
		t.Errorf("partial: %+v", r)
	}
	s.BaseURL = "http://127.0.0.1:1/v1/events"
	r = s.Send(context.Background(), "g", "1.0", "x", evs)
	if r.Err == nil || len(r.Rejected) != 3 || r.Status != 0 {
		t.Errorf("connection refused: %+v", r)
	}
}

// TestRunHTTP runs the command against a fake edge that accepts everything
// and checks what it received against the summary.
func TestRunHTTP(t *testing.T) {
	var mu sync.Mutex
	seqs := map[int64]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/v1/events/"), "/")
		var events []map[string]any
		if err := json.NewDecoder(r.Body).Decode(&events); err != nil || len(parts) != 3 {
			t.Errorf("bad request %s: %v", r.URL.Path, err)
		}
		if len(events) > 20 {
			t.Errorf("%d events in one request, -batch 20", len(events))
		}
		mu.Lock()
		for _, e := range events {
			seq := int64(e["seq"].(float64))
			if _, dup := seqs[seq]; dup {
				t.Errorf("seq %d sent twice", seq)
			}
			seqs[seq] = r.URL.Path
			if e["run"] != "r1" {
				t.Errorf("run %v", e["run"])
			}
		}
		mu.Unlock()
		fmt.Fprintf(w, `{"accepted":%d,"rejected":[]}`, len(events))
	}))
	defer srv.Close()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-url", srv.URL + "/v1/events/", "-http-events", "300", "-batch", "20", "-concurrency", "3", "-bad", "0.1", "-run", "r1", "-seq-start", "1000"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var s Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("summary: %v\n%s", err, out.String())
	}
	if s.Total.Sent != 300 || s.Total.Accepted != 300 || s.HTTP.Accepted != 300 || s.Forward != nil || len(seqs) != 300 {
		t.Fatalf("summary %+v, server saw %d", s, len(seqs))
	}
	if s.FirstSeq != 1000 || s.LastSeq != 1299 || s.ByKind[Good].Sent != 270 || s.ExpectedValid != 270 {
		t.Errorf("summary %s", out.String())
	}
	for _, k := range BadKinds {
		if c := s.ByKind[k].Accepted; c < 7 || c > 8 || s.ExpectedFailures[FailureCode[k]] != c {
			t.Errorf("%s: %d accepted, failures %v", k, c, s.ExpectedFailures)
		}
	}
	if s.HTTP.Status["200"] != s.HTTP.Requests {
		t.Errorf("requests %d, by status %v", s.HTTP.Requests, s.HTTP.Status)
	}
	// Each event went to the path of its own key.
	g := &Generator{Seed: 1, BadPPM: 100000, Game: "pixel_quest", Run: "r1"}
	for seq, path := range seqs {
		e := g.Event(seq)
		if path != "/v1/events/"+e.Key() {
			t.Errorf("seq %d went to %s, its key is %s", seq, path, e.Key())
		}
	}
}

func TestRunFlagErrors(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{"-bad 1.5", "-bad"},
		{"-batch 0", "-batch"},
		{"-concurrency 0", "-concurrency"},
		{"-http-events -1", "-http-events -1 (no limit) needs -duration"},
		{"-http-events 0", "nothing to send"},
		{"-url ftp://x", "-url"},
		{"-rate -1", "-rate"},
		{"extra", "unexpected argument"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), strings.Fields(c.args), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%s: exit %d, stderr %q, want 2 and %q", c.args, code, errOut.String(), c.want)
		}
	}
}

// TestRunForward sends over the Forward protocol to a minimal Forward
// server and checks tags and records.
func TestRunForward(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type msg struct {
		tag string
		rec map[string]any
	}
	got := make(chan msg, 1000)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := msgp.NewReader(c)
				for {
					// [tag, time, record, option]
					n, err := r.ReadArrayHeader()
					if err != nil {
						return
					}
					tag, _ := r.ReadString()
					r.Skip() // EventTime
					rec := map[string]any{}
					if err := r.ReadMapStrIntf(rec); err != nil {
						t.Errorf("record: %v", err)
						return
					}
					for i := uint32(3); i < n; i++ {
						r.Skip()
					}
					got <- msg{tag, rec}
				}
			}()
		}
	}()
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-http-events", "0", "-forward", ln.Addr().String(), "-forward-events", "40", "-concurrency", "2", "-bad", "0.25", "-run", "r2"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var s Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil || s.Forward == nil || s.Forward.Accepted != 40 || s.HTTP != nil {
		t.Fatalf("summary %v: %s", err, out.String())
	}
	g := &Generator{Seed: 1, BadPPM: 250000, Game: "pixel_quest", Run: "r2"}
	deadline := time.After(5 * time.Second)
	for i := 0; i < 40; i++ {
		select {
		case m := <-got:
			seq, _ := m.rec["seq"].(int64)
			e := g.Event(seq)
			if want := "whirlpool." + e.Game + "." + e.Name + "." + e.Version; m.tag != want {
				t.Errorf("seq %d: tag %q, want %q", seq, m.tag, want)
			}
			if m.rec["run"] != "r2" {
				t.Errorf("record %v", m.rec)
			}
		case <-deadline:
			t.Fatalf("got %d of 40 messages", i)
		}
	}
}
