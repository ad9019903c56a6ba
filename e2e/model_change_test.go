package e2e

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
	"github.com/whirlpool-events/whirlpool/internal/testmodel"
)

// TestModelChangeIsLiveWithoutRestart runs the pipeline with the processor
// reading the model store every second. Events of an event name the model
// lacks become UNKNOWN_EVENT failure rows; then the event is added to the
// store, with a new destination table, while everything keeps running: new
// events land in the new table (created by auto_create) within 60 seconds,
// no plugin instance is restarted, and every event is either one failure
// (validated before the change) or one row (after), never both, never lost.
func TestModelChangeIsLiveWithoutRestart(t *testing.T) {
	const path = "galaxy/1.2.0/boss_defeated"
	s := newStack(t, testenv.Postgres(t), stackOptions{reloadInterval: "1s"})
	s.startProcessor()
	s.startEdge()

	seq := 0
	batch := func(n, perRequest int) []request {
		var reqs []request
		for n > 0 {
			k := min(n, perRequest)
			r := request{path: path}
			for i := 0; i < k; i++ {
				r.events = append(r.events, fmt.Sprintf(`{"seq":%d,"boss":"hydra","turns":%d}`, seq, seq%50))
				seq++
			}
			reqs = append(reqs, r)
			n -= k
		}
		return reqs
	}
	sendAll := func(reqs []request) {
		t.Helper()
		s.send(reqs, 4, 0)
		if t.Failed() {
			t.FailNow()
		}
	}

	// Before: the event is unknown.
	sendAll(batch(500, 50))
	before := seq
	waitFor(t, 60*time.Second, "UNKNOWN_EVENT failure rows for the first events", func() bool {
		return countRows(s.db, "failures.events") == before
	})

	// The change, while the pipeline runs.
	m := testmodel.Sample(t)
	for i := range m.Games {
		if m.Games[i].Name == "galaxy" {
			m.Games[i].Events = append(m.Games[i].Events, validate.Event{Name: "boss_defeated", Definitions: []validate.Definition{{
				Version:      "v1",
				Destinations: []string{"events.boss_defeated"},
				Fields: []validate.Field{
					{Name: "seq", Path: "seq", Type: "integer", Mandatory: true},
					{Name: "boss", Path: "boss", Type: "string", Mandatory: true, MaxLength: 32},
					{Name: "turns", Path: "turns", Type: "integer"},
				},
			}}})
		}
	}
	changes := testmodel.Apply(t, s.dsn, m)
	if len(changes) != 1 || changes[0].Event != "boss_defeated" || changes[0].What != "new" {
		t.Fatalf("model store changes %v, want exactly the new event", changes)
	}
	applied := time.Now()

	// Keep sending small requests until the first row lands.
	deadline := applied.Add(60 * time.Second)
	for countRows(s.db, "events.boss_defeated") <= 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no row in events.boss_defeated 60s after the model change (%d events sent since)", seq-before)
		}
		sendAll(batch(10, 10))
		time.Sleep(100 * time.Millisecond)
	}
	live := time.Since(applied)
	during := seq

	// After: everything lands in the new table.
	sendAll(batch(500, 50))
	s.finish(drainTimeout)

	if got := userTables(t, s.db); fmt.Sprint(got) != "[events.boss_defeated failures.events]" {
		t.Errorf("tables %v, want [events.boss_defeated failures.events]", got)
	}
	failed := map[int]int{}
	for _, r := range testenv.QueryRows(t, s.db, `SELECT raw_event, error_codes, event FROM failures.events`) {
		var ev struct{ Seq int }
		if err := json.Unmarshal([]byte(r[0]), &ev); err != nil || r[1] != "UNKNOWN_EVENT" || r[2] != "boss_defeated" {
			t.Errorf("failure row %q: want an UNKNOWN_EVENT failure of boss_defeated", r)
			continue
		}
		failed[ev.Seq]++
	}
	loaded := map[int]int{}
	for _, r := range testenv.QueryRows(t, s.db, `SELECT seq, boss, turns, definition_version, expand_index FROM events.boss_defeated`) {
		n, _ := strconv.Atoi(r[0])
		loaded[n]++
		if r[1] != "hydra" || r[2] != strconv.Itoa(n%50) || r[3] != "v1" || r[4] != "-1" {
			t.Errorf("row %q: columns differ from what was sent", r)
		}
	}
	var problems []string
	for i := 0; i < seq; i++ {
		f, l := failed[i], loaded[i]
		switch {
		case f+l != 1:
			problems = append(problems, fmt.Sprintf("seq %d: %d failure rows and %d rows", i, f, l))
		case i < before && l != 0:
			problems = append(problems, fmt.Sprintf("seq %d (sent before the change) loaded", i))
		case i >= during && f != 0:
			problems = append(problems, fmt.Sprintf("seq %d (sent after the change was live) failed", i))
		}
	}
	if len(failed)+len(loaded) != seq && len(problems) == 0 {
		problems = append(problems, fmt.Sprintf("rows for seqs never sent: %d failures, %d rows for %d events", len(failed), len(loaded), seq))
	}
	if len(problems) > 0 {
		t.Errorf("%d problems: %s", len(problems), sample(problems))
	}
	t.Logf("%d events: %d failures (%d sent before the change), %d rows; the change was live %s after it was applied",
		seq, len(failed), before, len(loaded), live.Truncate(time.Millisecond))
}
