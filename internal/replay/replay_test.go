package replay_test

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/failures"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/replay"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
	"github.com/whirlpool-events/whirlpool/internal/testmodel"
	"github.com/whirlpool-events/whirlpool/internal/trial"
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type conf map[string]string

func (c conf) Get(k string) string { return c[k] }

// fixed is the galaxy model after the fix: the events dance and bundle
// (expanded) are defined, and version 0.9 maps to level_up's v1.
func fixed(t *testing.T) *validate.Model {
	m := testmodel.Sample(t)
	g := &m.Games[0]
	g.Mappings = append(g.Mappings, validate.Mapping{Version: `0\.9`, Definition: "v1"})
	g.Events = append(g.Events,
		validate.Event{Name: "dance", Definitions: []validate.Definition{{Version: "v1", Destinations: []string{"events.dance"},
			Fields: []validate.Field{{Name: "move", Path: "move", Type: "string", Mandatory: true}, {Name: "beats", Path: "beats", Type: "integer"}}}}},
		validate.Event{Name: "bundle", Definitions: []validate.Definition{{Version: "v1", Destinations: []string{"events.bundle_item"},
			Fields: []validate.Field{{Name: "items", Path: "items", Type: "array", Expand: true, Mandatory: true},
				{Name: "sku", Path: "@", Type: "string", Mandatory: true}}}}},
	)
	if _, err := m.Check(); err != nil {
		t.Fatal(err)
	}
	return m
}

const maxEvent = 4096

type event struct{ version, event, body string }

// loadThroughPipeline validates events with v as the sqs input does and
// loads them with the redshift output (auto_create on; failure rows keep
// at most maxEvent bytes of the raw event).
func loadThroughPipeline(t *testing.T, dsn string, v *validate.Validator, events ...event) {
	t.Helper()
	var e enrich.Enricher
	var chunk []byte
	for _, ev := range events {
		now := time.Now()
		b, err := trial.Validated(v, e.AppendRecord(nil, enrich.Key{Game: "galaxy", Version: ev.version, Event: ev.event}, []byte(ev.body), now), now)
		if err != nil {
			t.Fatal(err)
		}
		chunk = append(chunk, b...)
	}
	out, err := redshift.New(plugin.Env{Config: conf{"dsn": dsn, "dialect": "postgres", "load_method": "pg_copy", "auto_create": "on"}, Log: plugin.NopLogger{}},
		redshift.WithModel(v), redshift.WithMaxEventSize(maxEvent))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if r := out.Flush(chunk, "t"); r != plugin.OK {
		t.Fatalf("flush: %v", r)
	}
}

func TestReplayLoadsWhatTheFixAcceptsAndMarksIt(t *testing.T) {
	dsn := testenv.Postgres(t)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	big := `{"move":"` + strings.Repeat("x", 2*maxEvent) + `"}`
	loadThroughPipeline(t, dsn, testmodel.Validator(t, testmodel.Sample(t)),
		event{"1.2", "dance", `{"move":"spin","beats":4}`},          // UNKNOWN_EVENT, then a new event
		event{"1.2", "bundle", `{"items":["a","b"]}`},               // UNKNOWN_EVENT, then two rows
		event{"0.9", "level_up", `{"player":{"id":"p"},"level":2}`}, // VERSION_UNMAPPED, then a new mapping
		event{"1.2", "level_up", `{"player":{"id":"p"}}`},           // MANDATORY_FIELD_MISSING, still
		event{"1.2", "dance", big},                                  // UNKNOWN_EVENT, cut: not replayable
	)
	// A failures table from before replayed_at.
	if _, err := db.Exec(`ALTER TABLE failures.events DROP COLUMN replayed_at`); err != nil {
		t.Fatal(err)
	}
	failureRows := testenv.QueryRows(t, db, `SELECT uuid, event, error_codes, left(raw_event, 16) FROM failures.events ORDER BY uuid`)
	if len(failureRows) != 5 {
		t.Fatalf("failure rows %v", failureRows)
	}
	uuidOf := map[string]string{}
	for _, r := range failureRows {
		uuidOf[r[1]+" "+r[2]] = r[0]
	}
	for _, r := range failureRows {
		if strings.HasPrefix(r[3], `{"move":"spin"`) {
			uuidOf["dance spin"] = r[0]
		}
	}

	o := replay.Options{Model: testmodel.Validator(t, fixed(t)), Target: db, TargetDSN: dsn, Dialect: "postgres", FailuresTable: "failures.events", AutoCreate: true}
	wantPlan := replay.Summary{
		Accepted: []replay.Count{{Game: "galaxy", Event: "bundle", Codes: "UNKNOWN_EVENT", Failures: 1},
			{Game: "galaxy", Event: "dance", Codes: "UNKNOWN_EVENT", Failures: 1},
			{Game: "galaxy", Event: "level_up", Codes: "VERSION_UNMAPPED", Failures: 1}},
		Rows:         4,
		StillFailing: []replay.Count{{Game: "galaxy", Event: "level_up", Codes: "MANDATORY_FIELD_MISSING", Failures: 1}},
		NotReplayable: []replay.Unreplayable{{Count: replay.Count{Game: "galaxy", Event: "dance", Codes: "UNKNOWN_EVENT", Failures: 1},
			Reason: "the raw event was cut at max_event_size and no S3 copy of it exists"}},
	}
	plan, err := replay.Plan(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(plan, wantPlan) {
		t.Fatalf("plan\n%+v\nwant\n%+v", plan, wantPlan)
	}
	if cols := testenv.QueryRows(t, db, `SELECT 1 FROM information_schema.columns WHERE table_schema = 'failures' AND column_name = 'replayed_at'`); len(cols) != 0 {
		t.Error("the dry run added replayed_at")
	}

	// Without auto_create the tables are missing (no event was loaded
	// yet): nothing is loaded, nothing marked, no failure row added.
	o.AutoCreate = false
	s, err := replay.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if s.Marked != 0 || len(s.Accepted) != 0 || len(s.NotReplayable) != 4 ||
		s.NotReplayable[0].Reason != "its table events.bundle_item does not exist and auto_create is off" {
		t.Errorf("without auto_create: %+v", s)
	}
	if got := testenv.QueryRows(t, db, `SELECT count(*), count(replayed_at) FROM failures.events`); !reflect.DeepEqual(got, [][]string{{"5", "0"}}) {
		t.Errorf("failure rows, marked: %v", got)
	}
	o.AutoCreate = true

	s, err = replay.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	wantRun := wantPlan
	wantRun.Marked = 3
	if !reflect.DeepEqual(s, wantRun) {
		t.Errorf("run with auto_create: %+v", s)
	}
	if got := testenv.QueryRows(t, db, `SELECT uuid, move, beats FROM events.dance`); !reflect.DeepEqual(got, [][]string{{uuidOf["dance spin"], "spin", "4"}}) {
		t.Errorf("events.dance %v", got)
	}
	if got := testenv.QueryRows(t, db, `SELECT uuid, expand_index, sku FROM events.bundle_item ORDER BY expand_index`); !reflect.DeepEqual(got,
		[][]string{{uuidOf["bundle UNKNOWN_EVENT"], "0", "a"}, {uuidOf["bundle UNKNOWN_EVENT"], "1", "b"}}) {
		t.Errorf("events.bundle_item %v", got)
	}
	if got := testenv.QueryRows(t, db, `SELECT uuid, version, player_id, level FROM events.level_up`); !reflect.DeepEqual(got,
		[][]string{{uuidOf["level_up VERSION_UNMAPPED"], "0.9", "p", "2"}}) {
		t.Errorf("events.level_up %v", got)
	}
	marked := testenv.QueryRows(t, db, `SELECT event, error_codes FROM failures.events WHERE replayed_at IS NOT NULL ORDER BY event`)
	if !reflect.DeepEqual(marked, [][]string{{"bundle", "UNKNOWN_EVENT"}, {"dance", "UNKNOWN_EVENT"}, {"level_up", "VERSION_UNMAPPED"}}) {
		t.Errorf("marked %v", marked)
	}
	if n := len(testenv.QueryRows(t, db, `SELECT 1 FROM failures.events`)); n != 5 {
		t.Errorf("%d failure rows, want the 5 kept", n)
	}

	// Again: nothing left to replay, nothing loaded twice.
	s, err = replay.Run(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if s.Marked != 0 || len(s.Accepted) != 0 || s.Rows != 0 {
		t.Errorf("second run %+v", s)
	}
	if n := len(testenv.QueryRows(t, db, `SELECT 1 FROM events.bundle_item`)); n != 2 {
		t.Errorf("%d bundle rows after the second run", n)
	}
	// A replay stopped between its load and its marking loads nothing
	// twice when run again (dedupe), and marks what it finds loaded.
	if _, err := db.Exec(`UPDATE failures.events SET replayed_at = NULL WHERE event = 'bundle'`); err != nil {
		t.Fatal(err)
	}
	if s, err = replay.Run(ctx, o); err != nil || s.Marked != 1 {
		t.Errorf("run after an interrupted one: %+v %v", s, err)
	}
	if n := len(testenv.QueryRows(t, db, `SELECT 1 FROM events.bundle_item`)); n != 2 {
		t.Errorf("%d bundle rows after the rerun, want 2", n)
	}
	// The filters: only level_up's failures, and none since tomorrow.
	o.Filter = failures.Filter{Event: "level_up"}
	if p, err := replay.Plan(ctx, o); err != nil || len(p.StillFailing) != 1 || len(p.NotReplayable) != 0 {
		t.Errorf("plan of level_up: %+v %v", p, err)
	}
	o.Filter = failures.Filter{Since: time.Now().Add(24 * time.Hour)}
	if p, err := replay.Plan(ctx, o); err != nil || !reflect.DeepEqual(p, replay.Summary{}) {
		t.Errorf("plan since tomorrow: %+v %v", p, err)
	}
}

// TestReplayPagesThroughManyFailures: more failures than one page are all
// replayed, each once.
func TestReplayPagesThroughManyFailures(t *testing.T) {
	dsn := testenv.Postgres(t)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 1234
	events := make([]event, n)
	for i := range events {
		events[i] = event{"1.2", "dance", `{"move":"m` + strings.Repeat("x", i%7) + `","beats":` + fmt.Sprint(i) + `}`}
	}
	loadThroughPipeline(t, dsn, testmodel.Validator(t, testmodel.Sample(t)), events...)
	o := replay.Options{Model: testmodel.Validator(t, fixed(t)), Target: db, TargetDSN: dsn, Dialect: "postgres", FailuresTable: "failures.events", AutoCreate: true}
	p, err := replay.Plan(context.Background(), o)
	if err != nil || p.Rows != n || len(p.Accepted) != 1 || p.Accepted[0].Failures != n {
		t.Fatalf("plan %+v %v", p, err)
	}
	s, err := replay.Run(context.Background(), o)
	if err != nil || s.Marked != n || s.Rows != n {
		t.Fatalf("run %+v %v", s, err)
	}
	if got := testenv.QueryRows(t, db, `SELECT count(*), count(DISTINCT uuid), min(beats), max(beats) FROM events.dance`); !reflect.DeepEqual(got, [][]string{{fmt.Sprint(n), fmt.Sprint(n), "0", fmt.Sprint(n - 1)}}) {
		t.Errorf("events.dance: %v", got)
	}
}
