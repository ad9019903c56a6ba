package redshift

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
	"github.com/whirlpool-events/whirlpool/internal/testmodel"
)

type mapConfig map[string]string

func (c mapConfig) Get(k string) string { return c[k] }

// TestPlanDDLIsWhatAutoCreateRuns: the plan creates every table of the
// model and the failures table; after it, a load with auto_create runs no
// DDL (the tables' columns do not change) and the plan is empty.
func TestPlanDDLIsWhatAutoCreateRuns(t *testing.T) {
	dsn := testenv.Postgres(t)
	db := openPG(t, dsn)
	ctx := context.Background()
	m := testmodel.Sample(t)
	plan, err := PlanDDL(ctx, db, "postgres", m, "failures.events")
	if err != nil {
		t.Fatal(err)
	}
	creates := map[string]bool{}
	for _, s := range plan {
		if strings.HasPrefix(s, "CREATE TABLE") {
			creates[strings.Fields(s)[5]] = true
		}
	}
	want := map[string]bool{`"events"."level_up"`: true, `"events"."level_up_v2"`: true, `"events"."purchase_item"`: true, `"failures"."events"`: true}
	if !reflect.DeepEqual(creates, want) {
		t.Fatalf("CREATE TABLE of %v, want %v; plan:\n%s", creates, want, strings.Join(plan, "\n"))
	}
	mustExec(t, db, plan...)
	layout := func() [][]string {
		return testenv.QueryRows(t, db, `SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns
			WHERE table_schema IN ('events', 'failures') ORDER BY 1, 2, ordinal_position`)
	}
	before := layout()

	v := testmodel.Validator(t, m)
	out, err := New(plugin.Env{Config: mapConfig{"dsn": dsn, "dialect": "postgres", "load_method": "pg_copy", "auto_create": "on"}, Log: plugin.NopLogger{}}, WithModel(v))
	if err != nil {
		t.Fatal(err)
	}
	var e enrich.Enricher
	var chunk []byte
	for _, ev := range [][3]string{
		{"1.2", "level_up", `{"player":{"id":"p1"},"level":7,"score":120,"won":true,"ts":"2026-11-21T20:00:00Z","device":{"os":"x"},"tags":[1]}`},
		{"1.6", "level_up", `{"player":{"id":"p2","name":"Zed"},"level":9,"mode":"casual","ts":"2026-11-21T21:00:00Z"}`},
		{"1.2", "purchase", `{"order":"o1","items":[{"sku":"a","qty":1},{"sku":"b","qty":2,"price":{"amount":2.5}}],"paid_at":1700000000000}`},
		{"1.2", "level_up", `{"player":{"id":"p4"}}`},
	} {
		rec := e.AppendRecord(nil, enrich.Key{Game: "galaxy", Version: ev[0], Event: ev[1]}, []byte(ev[2]), t0)
		chunk = append(chunk, v.AppendValidated(nil, decodeOne(t, rec))...)
	}
	if r := out.Flush(chunk, "t"); r != plugin.OK {
		t.Fatalf("flush %v", r)
	}
	out.Close()
	if n := count(t, db, `SELECT count(*) FROM events.purchase_item`); n != 2 {
		t.Errorf("%d purchase rows, want 2", n)
	}
	if n := count(t, db, `SELECT count(*) FROM failures.events`); n != 1 {
		t.Errorf("%d failure rows, want 1", n)
	}
	if after := layout(); !reflect.DeepEqual(after, before) {
		t.Errorf("the load changed the tables:\nbefore %v\nafter  %v", before, after)
	}
	if again, err := PlanDDL(ctx, db, "postgres", m, "failures.events"); err != nil || len(again) != 0 {
		t.Errorf("plan after the load: %q %v", again, err)
	}
}

// TestPlanDDLAltersOnlyItsOwnTables: a table auto_create made gets the
// columns it lacks (the failures table its replayed_at), another table
// nothing.
func TestPlanDDLAltersOnlyItsOwnTables(t *testing.T) {
	dsn := testenv.Postgres(t)
	db := openPG(t, dsn)
	ctx := context.Background()
	m := testmodel.Sample(t)
	plan, err := PlanDDL(ctx, db, "postgres", m, "failures.events")
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, plan...)
	mustExec(t, db, `ALTER TABLE events.level_up DROP COLUMN score`, `ALTER TABLE failures.events DROP COLUMN replayed_at`,
		`DROP TABLE events.purchase_item`, `CREATE TABLE events.purchase_item (uuid text, expand_index int)`)
	got, err := PlanDDL(ctx, db, "postgres", m, "failures.events")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`ALTER TABLE "events"."level_up" ADD COLUMN "score" BIGINT`, `ALTER TABLE "failures"."events" ADD COLUMN "replayed_at" TIMESTAMP`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("plan\n%q\nwant\n%q", got, want)
	}
	if _, err := PlanDDL(ctx, db, "mysql", m, "failures.events"); err == nil {
		t.Error("dialect mysql accepted")
	}
	if _, err := PlanDDL(ctx, db, "postgres", m, `failures.x"y`); err == nil {
		t.Error("a bad failures table name accepted")
	}
}

// decodeOne is the one record of chunk.
func decodeOne(t *testing.T, chunk []byte) record.Record {
	t.Helper()
	var r record.Record
	if d := record.NewDecoder(chunk); !d.Next(&r) {
		t.Fatalf("decoding: %v", d.Err())
	}
	return r
}
