package failures_test

import (
	"context"
	"database/sql"
	"reflect"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/internal/failures"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
	"github.com/whirlpool-events/whirlpool/internal/testmodel"
	"github.com/whirlpool-events/whirlpool/internal/trial"
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type conf map[string]string

func (c conf) Get(k string) string { return c[k] }

type event struct{ version, event, body string }

// load sends events of game galaxy (filters/validate/testdata/model.yaml)
// through the sqs input's validation and the redshift output into a new
// database, and returns it.
func load(t *testing.T, events ...event) *sql.DB {
	t.Helper()
	dsn := testenv.Postgres(t)
	v := testmodel.Validator(t, testmodel.Sample(t))
	var e enrich.Enricher
	var chunk []byte
	for _, ev := range events {
		rec := e.AppendRecord(nil, enrich.Key{Game: "galaxy", Version: ev.version, Event: ev.event}, []byte(ev.body), time.Now())
		b, err := trial.Validated(v, rec, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		chunk = append(chunk, b...)
	}
	out, err := redshift.New(plugin.Env{Config: conf{"dsn": dsn, "dialect": "postgres", "load_method": "pg_copy", "auto_create": "on"}, Log: plugin.NopLogger{}},
		redshift.WithModel(v))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if r := out.Flush(chunk, "t"); r != plugin.OK {
		t.Fatalf("flush: %v", r)
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var events = []event{
	{"1.2", "level_up", `{"player":{"id":"p1"}}`},                 // MANDATORY_FIELD_MISSING
	{"1.2", "level_up", `{"level":1}`},                            // MANDATORY_FIELD_MISSING
	{"1.2", "level_up", `{"player":{"id":"p1"},"level":"x"}`},     // FIELD_TYPE_MISMATCH
	{"1.2", "level_up", `{"level":"x"}`},                          // both
	{"1.2", "dance", `{"move":"spin","beats":4}`},                 // UNKNOWN_EVENT
	{"1.2", "dance", `{"move":"twirl","beats":8,"partner":true}`}, // UNKNOWN_EVENT
	{"1.2", "level_up", `{"player":{"id":"ok"},"level":3}`},       // valid
}

func TestSummaryCountsByGameEventAndCode(t *testing.T) {
	db := load(t, events...)
	ctx := context.Background()
	now := time.Now()
	got, err := failures.Summary(ctx, db, "failures.events", now)
	if err != nil {
		t.Fatal(err)
	}
	want := []failures.Count{
		{Game: "galaxy", Event: "level_up", Code: "MANDATORY_FIELD_MISSING", LastHour: 3, LastDay: 3},
		{Game: "galaxy", Event: "dance", Code: "UNKNOWN_EVENT", LastHour: 2, LastDay: 2},
		{Game: "galaxy", Event: "level_up", Code: "FIELD_TYPE_MISMATCH", LastHour: 2, LastDay: 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("now:\n got %+v\nwant %+v", got, want)
	}
	// Two hours later they are out of the last hour, still in the day;
	// two days later, gone.
	later, err := failures.Summary(ctx, db, "failures.events", now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		want[i].LastHour = 0
	}
	if !reflect.DeepEqual(later, want) {
		t.Errorf("2h later:\n got %+v\nwant %+v", later, want)
	}
	if gone, err := failures.Summary(ctx, db, "failures.events", now.Add(48*time.Hour)); err != nil || len(gone) != 0 {
		t.Errorf("2 days later: %+v %v", gone, err)
	}
}

func TestSamplesFilterByWholeCodes(t *testing.T) {
	db := load(t, events...)
	ctx := context.Background()
	got, err := failures.Samples(ctx, db, "failures.events", "galaxy", "level_up", "FIELD_TYPE_MISMATCH", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d samples, want 2: %+v", len(got), got)
	}
	for _, s := range got {
		if s.Version != "1.2" || s.DefinitionVersion != "v1" || len(s.UUID) != 36 || s.FiredTS.IsZero() || s.Truncated {
			t.Errorf("sample %+v", s)
		}
		found := false
		for _, e := range s.Errors {
			found = found || e.Code == "FIELD_TYPE_MISMATCH" && e.Path == "level" && e.Message != ""
		}
		if !found {
			t.Errorf("sample %s errors %+v lack the FIELD_TYPE_MISMATCH on level", s.UUID, s.Errors)
		}
	}
	if one, err := failures.Samples(ctx, db, "failures.events", "", "", "", 1); err != nil || len(one) != 1 {
		t.Errorf("limit 1: %d samples, %v", len(one), err)
	}
	for _, bad := range []struct{ table, code string }{{`failures.events"; DROP TABLE x; --`, ""}, {"failures.events", "MANDATORY%"}} {
		if _, err := failures.Samples(ctx, db, bad.table, "", "", bad.code, 1); err == nil {
			t.Errorf("table %q code %q accepted", bad.table, bad.code)
		}
	}
}

func TestUnknownEventSamplesAreTheBodies(t *testing.T) {
	db := load(t, events...)
	got, err := failures.UnknownEventSamples(context.Background(), db, "failures.events", "galaxy", "dance", 10)
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]bool{}
	for _, b := range got {
		bodies[string(b)] = true
	}
	if len(got) != 2 || !bodies[`{"move":"spin","beats":4}`] || !bodies[`{"move":"twirl","beats":8,"partner":true}`] {
		t.Errorf("bodies %q", got)
	}
}
