package redshift

import (
	"testing"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
	"github.com/whirlpool-events/whirlpool/internal/testmodel"
)

// contractBody is a record in the input contract (as the eventing input
// writes it) for a game of filters/validate/testdata/model.yaml.
func contractBody(uuid, version, event, raw string) []byte {
	b := msgp.AppendMapHeader(nil, 6)
	for _, kv := range [][2]string{{"uuid", uuid}, {"fired_ts", "2026-11-21T23:45:27.123Z"}, {"game", "galaxy"}, {"version", version}, {"event", event}, {"body", raw}} {
		b = msgp.AppendString(b, kv[0])
		b = msgp.AppendString(b, kv[1])
	}
	return b
}

// TestPluginValidatesAndCreatesTablesFromTheModel: records not validated
// upstream are validated in the output; auto_create makes the tables with
// the model's column types; expanded events load one row per element.
func TestPluginValidatesAndCreatesTablesFromTheModel(t *testing.T) {
	dsn := testenv.Postgres(t)
	cfg := pgConfig(dsn, "pg_copy")
	cfg["validate"] = "on"
	cfg["auto_create"] = "on"
	cfg["model_file"] = testmodel.SampleFile(t)
	out := startPlugin(t, cfg)
	chunk := chunkOf(
		contractBody("u1", "1.2", "level_up", `{"player":{"id":"p1"},"level":7,"score":120,"won":true,"ts":"2026-11-21T20:00:00Z"}`),
		contractBody("u2", "1.6", "level_up", `{"player":{"id":"p2","name":"Zed"},"level":9,"ts":"2026-11-21T21:00:00Z"}`),
		contractBody("u3", "1.2", "purchase", `{"order":"o1","items":[{"sku":"a","qty":1},{"sku":"b","qty":2,"price":{"amount":2.5}}]}`),
		contractBody("u4", "1.2", "level_up", `{"player":{"id":"p4"}}`),
	)
	if r := out.Flush(chunk, "t"); r != flbhost.FlbOK {
		t.Fatalf("flush %d", r)
	}
	db := openPG(t, dsn)
	// v1 goes to events.level_up; v2 (1.5+) to events.level_up and events.level_up_v2.
	if got := testenv.QueryRows(t, db, `SELECT uuid, definition_version, player_id, level FROM events.level_up ORDER BY uuid`); len(got) != 2 ||
		got[0][0] != "u1" || got[0][1] != "v1" || got[0][3] != "7" || got[1][0] != "u2" || got[1][1] != "v2" {
		t.Errorf("events.level_up: %v", got)
	}
	if n := count(t, db, `SELECT count(*) FROM events.level_up_v2 WHERE uuid = 'u2'`); n != 1 {
		t.Errorf("events.level_up_v2 rows for u2: %d", n)
	}
	if got := testenv.QueryRows(t, db, `SELECT uuid, expand_index, sku, quantity FROM events.purchase_item ORDER BY expand_index`); len(got) != 2 ||
		got[0][0] != "u3" || got[0][1] != "0" || got[1][2] != "b" || got[1][3] != "2" {
		t.Errorf("events.purchase_item: %v", got)
	}
	// Types come from the model, not from the values seen.
	types := testenv.QueryRows(t, db, `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema='events' AND table_name='level_up' AND column_name IN ('level','won','client_ts','device') ORDER BY column_name`)
	want := [][]string{{"client_ts", "timestamp without time zone"}, {"device", "text"}, {"level", "bigint"}, {"won", "boolean"}}
	if len(types) != len(want) {
		t.Fatalf("column types %v", types)
	}
	for i := range want {
		if types[i][0] != want[i][0] || types[i][1] != want[i][1] {
			t.Errorf("column %v, want %v", types[i], want[i])
		}
	}
	if got := testenv.QueryRows(t, db, `SELECT uuid, error_codes FROM failures.events`); len(got) != 1 || got[0][0] != "u4" || got[0][1] != "MANDATORY_FIELD_MISSING" {
		t.Errorf("failures: %v", got)
	}
}
