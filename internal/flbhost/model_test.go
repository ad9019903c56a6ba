package flbhost_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
)

// TestCleanupVersusChunk: threaded (the default), the cleanup, where an
// input acknowledges its source, comes while the records are only in the
// ring buffer, so a crash there loses acknowledged records; with `threaded
// off` they are in a chunk before the cleanup.
func TestCleanupVersusChunk(t *testing.T) {
	for _, tc := range []struct {
		threaded             string
		inChunk, inRing      int
		chunksAfterRingTick  int
		lostAtExitWhenPaused int
	}{
		{threaded: "on", inChunk: 0, inRing: 1, chunksAfterRingTick: 1, lostAtExitWhenPaused: 1},
		{threaded: "off", inChunk: 1, inRing: 0, chunksAfterRingTick: 1, lostAtExitWhenPaused: 0},
	} {
		t.Run("threaded="+tc.threaded, func(t *testing.T) {
			p := load(t, "internal/flbhost/testdata/probe_in")
			in, err := p.NewInput(flbhost.Config{"id": "c", "threaded": tc.threaded})
			if err != nil {
				t.Fatal(err)
			}
			var atCleanup []flbhost.Snapshot
			in.OnCleanup(func(s flbhost.Snapshot) { atCleanup = append(atCleanup, s) })
			in.CollectNow()
			if len(atCleanup) != 1 {
				t.Fatalf("%d cleanups", len(atCleanup))
			}
			if s := atCleanup[0]; len(s.Chunks) != tc.inChunk || len(s.Ring) != tc.inRing {
				t.Errorf("at the cleanup: %d in chunks, %d in the ring buffer; want %d and %d", len(s.Chunks), len(s.Ring), tc.inChunk, tc.inRing)
			}
			in.RingTick()
			if n := len(in.Peek()); n != tc.chunksAfterRingTick {
				t.Errorf("after the engine's move: %d chunks, want %d", n, tc.chunksAfterRingTick)
			}
			// Paused by its limit, a threaded input's ring buffer is not
			// moved, and an exit destroys it.
			in.Drain()
			in.Pause()
			if tc.threaded == "off" {
				in.Resume() // a paused non-threaded input is not collected
			}
			in.CollectNow()
			if _, err := in.Exit(); err != nil {
				t.Fatal(err)
			}
			if n := len(in.Lost()); n != tc.lostAtExitWhenPaused {
				t.Errorf("lost %d appends at exit, want %d", n, tc.lostAtExitWhenPaused)
			}
			p.Close()
		})
	}
}

// TestProxyPausesTheLastInstance: the Go proxy keeps one instance pointer per
// shared object, so pausing instance a stops the collector of b, the last
// one initialised, and a's collects go on; not threaded, they reach a paused
// input and are dropped after their cleanup (seen in Fluent Bit 5.1.1: "[input
// chunk] probe_in.0 is paused, cannot append records", then "acked").
func TestProxyPausesTheLastInstance(t *testing.T) {
	p := load(t, "internal/flbhost/testdata/probe_in")
	a, err := p.NewInput(flbhost.Config{"id": "a", "threaded": "off", "mem_buf_limit": "20"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.NewInput(flbhost.Config{"id": "b", "threaded": "off"})
	if err != nil {
		t.Fatal(err)
	}
	a.CollectNow() // over its limit: paused
	if !a.Paused() {
		t.Fatal("a over its mem_buf_limit must be paused")
	}
	a.CollectNow() // a's collector still runs in the engine
	if l := a.Lost(); len(l) != 1 {
		t.Errorf("a lost %d appends, want 1", len(l))
	}
	if len(flbhost.LogsContaining("acked id=a seq=1..2")) != 1 || len(flbhost.LogsContaining("probe_in.", "is paused, cannot append records")) != 1 {
		t.Errorf("the dropped append must be acknowledged and logged: %q", flbhost.Logs())
	}
	for _, in := range []*flbhost.InputInstance{b, a} {
		in.Exit()
	}
	p.Close()
}

// TestCoreKeysAreConsumed: a core key never reaches the plugin; most are
// consumed only with a value, so an empty one reaches the plugin (as NULL)
// and its config map, which refuses it.
func TestCoreKeysAreConsumed(t *testing.T) {
	p := load(t, "internal/flbhost/testdata/probe_in")
	keys := []string{"port", "listen", "host", "tag", "threaded", "mem_buf_limit", "log_level", "alias", "Id", "records"}
	in, err := p.NewInput(flbhost.Config{"id": "k", "probe": strings.Join(keys, ","), "port": "8080", "listen": "127.0.0.1",
		"host": "h", "tag": "t", "threaded": "off", "mem_buf_limit": "1M", "log_level": "info", "alias": "al"})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		want := ""
		if k == "Id" {
			want = "k" // keys are case-insensitive; defaults are not properties
		}
		if l := flbhost.LogsContaining(fmt.Sprintf("property id=k %s=%q", k, want)); len(l) != 1 {
			t.Errorf("%s: want the plugin to read %q, log: %q", k, want, flbhost.LogsContaining("property id=k "+k+"="))
		}
	}
	if in.Tag != "t" || in.Threaded || in.MemBufLimit != 1000000 {
		t.Errorf("the host's own reading: tag %q threaded %v mem_buf_limit %d", in.Tag, in.Threaded, in.MemBufLimit)
	}
	in.Exit()

	for _, tc := range []struct {
		key, err string
	}{
		{"port", ""}, // consumed even when empty
		{"listen", ""},
		{"tag", "[config] probe_in: unknown configuration property 'tag'. The following properties are allowed: id, records, probe, and die_on_ack."},
		{"RECORDS", ""},
		{"recrods", "[config] probe_in: unknown configuration property 'recrods'. The following properties are allowed: id, records, probe, and die_on_ack."},
	} {
		cfg := flbhost.Config{"id": "e", tc.key: ""}
		if tc.key == "recrods" || tc.key == "RECORDS" {
			cfg[tc.key] = "2"
		}
		in, err := p.NewInput(cfg)
		if got := fmt.Sprint(err); (err == nil) != (tc.err == "") || (err != nil && got != tc.err) {
			t.Errorf("%s=%q: error %v, want %q", tc.key, cfg[tc.key], err, tc.err)
		}
		if err == nil {
			in.Exit()
		}
	}
	p.Close()
}

// TestConfigMapIsRead: the host exposes what the plugin registered.
func TestConfigMapIsRead(t *testing.T) {
	p := load(t, "internal/flbhost/testdata/probe_out")
	var names []string
	for _, m := range p.ConfigMap {
		names = append(names, m.Name+"="+m.Default)
		if m.Description == "" {
			t.Errorf("%s has no description", m.Name)
		}
	}
	if got := strings.Join(names, " "); got != "id= result=ok sleep=0s retain=off" {
		t.Errorf("config map %q", got)
	}
	p.Close()
	c, _ := cprobe(t, "output")
	if c.ConfigMap != nil {
		t.Errorf("a plugin without a config map: %v", c.ConfigMap)
	}
	c.Close()
}
