package trial

import (
	"context"
	"database/sql"
	"reflect"
	"slices"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/internal/failures"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
	"github.com/whirlpool-events/whirlpool/internal/testmodel"
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var now = time.Date(2026, 11, 21, 23, 45, 27, 123e6, time.UTC)

// column returns the values of col in t's rows.
func column(t Table, col string) []string {
	i := slices.Index(t.Columns, col)
	if i < 0 {
		return nil
	}
	var out []string
	for _, r := range t.Rows {
		out = append(out, r[i])
	}
	return out
}

func TestGoodEventsBecomeRowsPerTable(t *testing.T) {
	v := testmodel.Validator(t, testmodel.Sample(t))
	cases := []struct {
		name, version, event, body string
		want                       map[string]map[string][]string // table -> column -> values
	}{
		{"v1 one table", "1.2", "level_up", `{"player":{"id":"p1"},"level":7,"won":true,"tags":["a"]}`,
			map[string]map[string][]string{"events.level_up": {
				"definition_version": {"v1"}, "player_id": {"p1"}, "level": {"7"}, "won": {"t"}, "tags": {`["a"]`},
				"score": {`\N`}, "expand_index": {"-1"}, "game": {"galaxy"}, "version": {"1.2"}, "fired_ts": {"2026-11-21T23:45:27.123Z"}}}},
		{"v2 two tables", "1.6", "level_up", `{"player":{"id":"p2","name":"Zed"},"level":9,"ts":"2026-11-21T21:00:00Z"}`,
			map[string]map[string][]string{
				"events.level_up":    {"definition_version": {"v2"}, "player_name": {"Zed"}},
				"events.level_up_v2": {"definition_version": {"v2"}, "player_name": {"Zed"}, "level": {"9"}}}},
		{"expand: a row per element", "1.2", "purchase", `{"order":"o1","items":[{"sku":"a","qty":1},{"sku":"b","qty":2,"price":{"amount":2.5}}]}`,
			map[string]map[string][]string{"events.purchase_item": {
				"expand_index": {"0", "1"}, "order_id": {"o1", "o1"}, "sku": {"a", "b"}, "quantity": {"1", "2"}, "price": {`\N`, "2.5"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(v, "galaxy", tc.version, tc.event, []byte(tc.body), now)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Failures) != 0 {
				t.Fatalf("failures %+v", res.Failures)
			}
			var names []string
			for _, tb := range res.Tables {
				names = append(names, tb.Name)
				if tb.Columns[0] != "uuid" || slices.Contains(tb.Columns, "loaded_at") {
					t.Errorf("%s columns %v: want the metadata columns first, without loaded_at (the database fills it)", tb.Name, tb.Columns)
				}
				uuids := column(tb, "uuid")
				if len(uuids) == 0 || len(uuids[0]) != 36 {
					t.Errorf("%s uuids %v", tb.Name, uuids)
				}
				for col, want := range tc.want[tb.Name] {
					if got := column(tb, col); !reflect.DeepEqual(got, want) {
						t.Errorf("%s.%s = %q, want %q", tb.Name, col, got, want)
					}
				}
			}
			if len(names) != len(tc.want) {
				t.Errorf("tables %v, want those of %v", names, tc.want)
			}
		})
	}
}

func TestBadEventsGetThePipelinesCodesAndPaths(t *testing.T) {
	v := testmodel.Validator(t, testmodel.Sample(t))
	cases := []struct {
		name, version, event, body string
		codes                      []string
		paths                      []string
	}{
		{"mandatory missing", "1.2", "level_up", `{"player":{"id":"p4"}}`, []string{"MANDATORY_FIELD_MISSING"}, []string{"level"}},
		{"type mismatch", "1.2", "level_up", `{"player":{"id":"p4"},"level":"high"}`, []string{"FIELD_TYPE_MISMATCH"}, []string{"level"}},
		{"unknown event", "1.2", "dance", `{"x":1}`, []string{"UNKNOWN_EVENT"}, []string{"event"}},
		{"unmapped version", "0.9", "level_up", `{"level":1}`, []string{"VERSION_UNMAPPED"}, []string{"version"}},
		{"not JSON", "1.2", "level_up", `{"level":`, []string{"PAYLOAD_NOT_JSON"}, []string{""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Run(v, "galaxy", tc.version, tc.event, []byte(tc.body), now)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Tables) != 0 || len(res.Failures) != 1 {
				t.Fatalf("tables %+v failures %+v, want one failure", res.Tables, res.Failures)
			}
			f := res.Failures[0]
			var paths []string
			for _, e := range f.Errors {
				paths = append(paths, e.Path)
				if e.Message == "" {
					t.Errorf("error %+v without a message", e)
				}
			}
			if !reflect.DeepEqual(f.Codes, tc.codes) || !reflect.DeepEqual(paths, tc.paths) {
				t.Errorf("codes %v paths %v, want %v %v", f.Codes, paths, tc.codes, tc.paths)
			}
			if f.RawEvent != tc.body {
				t.Errorf("raw event %q, want the body as sent %q", f.RawEvent, tc.body)
			}
		})
	}
}

func TestTheEdgeRefusesABadKey(t *testing.T) {
	if _, err := Run(testmodel.Validator(t, testmodel.Sample(t)), "galaxy", "1.2", "bad event\n", []byte(`{}`), now); err == nil {
		t.Fatal("a key the edge refuses was tried")
	}
}

// TestFailuresMatchWhatTheOutputWrites: the failure Route shows is the row
// outputs/redshift writes for the same records.
func TestFailuresMatchWhatTheOutputWrites(t *testing.T) {
	dsn := testenv.Postgres(t)
	v := testmodel.Validator(t, testmodel.Sample(t))
	var e enrich.Enricher
	var validated []byte
	for _, ev := range []struct{ version, event, body string }{
		{"1.2", "level_up", `{"player":{"id":"p4"}}`},
		{"1.2", "level_up", `{"player":{"id":"p4"},"level":"high","score":1.5}`},
		{"1.2", "dance", `{"x":1}`},
	} {
		rec := e.AppendRecord(nil, enrich.Key{Game: "galaxy", Version: ev.version, Event: ev.event}, []byte(ev.body), now)
		b, err := Validated(v, rec, now)
		if err != nil {
			t.Fatal(err)
		}
		validated = append(validated, b...)
	}
	want, err := Route(v, validated, now)
	if err != nil {
		t.Fatal(err)
	}
	out, err := redshift.New(plugin.Env{Config: conf{"dsn": dsn, "dialect": "postgres", "load_method": "pg_copy", "auto_create": "on"}, Log: plugin.NopLogger{}},
		redshift.WithModel(v))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if r := out.Flush(validated, "t"); r != plugin.OK {
		t.Fatalf("flush: %v", r)
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := failures.Samples(context.Background(), db, "failures.events", "", "", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want.Failures) {
		t.Fatalf("%d failure rows, Route shows %d", len(got), len(want.Failures))
	}
	byUUID := map[string]failures.Sample{}
	for _, s := range got {
		byUUID[s.UUID] = s
	}
	for _, f := range want.Failures {
		s, ok := byUUID[f.UUID]
		if !ok {
			t.Errorf("no failure row for %s", f.UUID)
			continue
		}
		var errs []Error
		for _, e := range s.Errors {
			errs = append(errs, Error{Path: e.Path, Code: e.Code, Message: e.Message})
		}
		if !reflect.DeepEqual(s.Codes, f.Codes) || !reflect.DeepEqual(errs, f.Errors) || s.RawEvent != f.RawEvent {
			t.Errorf("failure row %+v\nRoute shows %+v", s, f)
		}
	}
}

type conf map[string]string

func (c conf) Get(k string) string { return c[k] }
