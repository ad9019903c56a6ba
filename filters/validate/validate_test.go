package validate

import (
	"reflect"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/testenv"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

const validLevelUp = `{"player":{"id":"p-1","name":"Ann"},"session":"5f0e9a7c-1b2d-4e3f-8a9b-0c1d2e3f4a5b","level":5,"score":-12,"xp":10.5,"won":true,"ts":"2026-11-21T23:00:00.5+02:00","device":{"os":"android"},"tags":["a","b"]}`

// Game versions 1.0-1.4 use definition v1, 1.5 and later v2, as the
// original system mapped them; a literal mapping beats a pattern of the
// same priority; patterns match the whole version.
func TestVersionMapping(t *testing.T) {
	v := testValidator(t, Options{})
	const body = `{"player":{"id":"p-1"},"level":3,"ts":"2026-11-21T23:00:00Z"}`
	for _, tc := range []struct {
		version string
		want    string // definition label, or a failure code
	}{
		{"1.0", "v1"}, {"1.1", "v1"}, {"1.4", "v1"}, {"1.4.2", "v1"}, {"1.3.6", "v1"},
		{"1.5", "v2"}, {"1.5.1", "v2"}, {"1.9", "v2"}, {"1.10", "v2"}, {"1.42.7", "v2"}, {"2.0", "v2"}, {"10.3", "v2"},
		{"1.3.7", "v2"}, // the literal hotfix mapping wins over the 1.0-1.4 pattern
		{"0.9", string(failcode.VersionUnmapped)},
		{"1.4-beta", string(failcode.VersionUnmapped)}, // anchored: the whole version must match
		{"x1.4", string(failcode.VersionUnmapped)},
		{"1", string(failcode.VersionUnmapped)},
	} {
		t.Run(tc.version, func(t *testing.T) {
			out := validate(t, v, inputRecord("galaxy", tc.version, "level_up", body))
			if len(out) != 1 {
				t.Fatalf("%d records", len(out))
			}
			if strings.HasPrefix(tc.want, "v") {
				if out[0]["definition_version"] != tc.want || out[0]["columns"] == nil {
					t.Fatalf("got %v, want valid with %s", out[0], tc.want)
				}
				return
			}
			if got := codes(out[0]); !reflect.DeepEqual(got, []string{tc.want}) {
				t.Fatalf("codes %v, want %s", got, tc.want)
			}
			if out[0]["definition_version"] != nil {
				t.Fatalf("definition_version %v, want nil", out[0]["definition_version"])
			}
		})
	}
}

func TestVersionPrecedence(t *testing.T) {
	mk := func(mappings string) *Validator {
		t.Helper()
		m, err := ParseModel([]byte(`
games:
  - name: g
    mappings: ` + mappings + `
    events:
      - name: e
        definitions:
          - {version: v1, destinations: [s.t1], fields: []}
          - {version: v2, destinations: [s.t2], fields: []}
`))
		if err != nil {
			t.Fatal(err)
		}
		v, err := NewWithModel(m, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		name, mappings, version, want string
	}{
		{"ambiguous", `[{version: '1\..*', definition: v1}, {version: '.*\.5', definition: v2}]`, "1.5", string(failcode.VersionAmbiguous)},
		{"overlap on same definition is fine", `[{version: '1\..*', definition: v1}, {version: '.*\.5', definition: v1}]`, "1.5", "v1"},
		{"priority decides", `[{version: '1\..*', definition: v1}, {version: '.*\.5', definition: v2, priority: 1}]`, "1.5", "v2"},
		{"priority beats literal", `[{version: '1\.5', definition: v1}, {version: '.*', definition: v2, priority: 1}]`, "1.5", "v2"},
		{"literal beats pattern", `[{version: '1\.5', definition: v2}, {version: '1\..*', definition: v1}]`, "1.5", "v2"},
		{"two literals disagree", `[{version: '1\.5', definition: v2}, {version: '1[.]5', definition: v1}]`, "1.5", string(failcode.VersionAmbiguous)},
		{"lower priority ignored", `[{version: '.*', definition: v1, priority: -1}, {version: '1\..*', definition: v2}]`, "1.5", "v2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := mk(tc.mappings)
			defer v.Close()
			// twice: the second answer comes from the resolution cache
			for i := 0; i < 2; i++ {
				out := validate(t, v, inputRecord("g", tc.version, "e", `{}`))
				if strings.HasPrefix(tc.want, "v") {
					if out[0]["definition_version"] != tc.want {
						t.Fatalf("got %v, want %s", out[0], tc.want)
					}
					continue
				}
				if got := codes(out[0]); !reflect.DeepEqual(got, []string{tc.want}) {
					t.Fatalf("codes %v, want %s", got, tc.want)
				}
				if msg := errorsOf(out[0])[0]["message"].(string); !strings.Contains(msg, "v1") || !strings.Contains(msg, "v2") {
					t.Fatalf("ambiguity message should name both definitions: %s", msg)
				}
			}
		})
	}
}

func TestValidRecord(t *testing.T) {
	v := testValidator(t, Options{})
	out := validate(t, v, inputRecord("galaxy", "1.2", "level_up", validLevelUp))
	if len(out) != 1 {
		t.Fatalf("%d records", len(out))
	}
	r := out[0]
	if got := sortedKeys(r); !reflect.DeepEqual(got, []string{"columns", "definition_version", "destinations", "event", "expand_index", "fired_ts", "game", "uuid", "version"}) {
		t.Fatalf("keys %v", got)
	}
	want := map[string]any{
		"uuid": testUUID, "fired_ts": testFired, "game": "galaxy", "version": "1.2", "event": "level_up",
		"definition_version": "v1", "expand_index": int64(-1), "destinations": []any{"events.level_up"},
		"columns": map[string]any{
			"player_id":  "p-1",
			"session_id": "5f0e9a7c-1b2d-4e3f-8a9b-0c1d2e3f4a5b",
			"level":      int64(5),
			"score":      int64(-12),
			"xp":         10.5,
			"won":        true,
			"client_ts":  "2026-11-21T21:00:00.500000Z", // converted to UTC, microseconds
			"device":     `{"os":"android"}`,
			"tags":       `["a","b"]`,
		},
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("got  %#v\nwant %#v", r, want)
	}
	// Absent optional fields are nil columns; every column is present.
	out = validate(t, v, inputRecord("galaxy", "1.2", "level_up", `{"player":{"id":"p"},"level":1}`))
	cols := out[0]["columns"].(map[string]any)
	if len(cols) != 9 || cols["score"] != nil || cols["device"] != nil {
		t.Fatalf("columns %v", cols)
	}
	if StatusOf(decodeOne(t, v.AppendValidated(nil, decodeOne(t, inputRecord("galaxy", "1.2", "level_up", validLevelUp)))).Body) != Valid {
		t.Fatal("StatusOf(valid) != Valid")
	}
	if StatusOf(decodeOne(t, inputRecord("galaxy", "1.2", "level_up", validLevelUp)).Body) != Unvalidated {
		t.Fatal("StatusOf(input) != Unvalidated")
	}
}

// Checks of values, one table: each row an event body and the errors
// (code and path) it must produce; no errors means valid.
func TestFieldChecks(t *testing.T) {
	v := testValidator(t, Options{})
	type e struct{ code, path string }
	long := strings.Repeat("x", 65)
	for _, tc := range []struct {
		name, version, body string
		want                []e
		cols                map[string]any // expected columns, when valid
	}{
		{name: "integer written 1e2 and 5.0", version: "1.0", body: `{"player":{"id":"p"},"level":1e2,"score":5.0}`,
			cols: map[string]any{"level": int64(100), "score": int64(5)}},
		{name: "fraction is not an integer", version: "1.0", body: `{"player":{"id":"p"},"level":2.5}`, want: []e{{"FIELD_TYPE_MISMATCH", "level"}}},
		{name: "string for integer", version: "1.0", body: `{"player":{"id":"p"},"level":"5"}`, want: []e{{"FIELD_TYPE_MISMATCH", "level"}}},
		{name: "number for string", version: "1.0", body: `{"player":{"id":42},"level":5}`, want: []e{{"FIELD_TYPE_MISMATCH", "player.id"}}},
		{name: "string for boolean", version: "1.0", body: `{"player":{"id":"p"},"level":5,"won":"yes"}`, want: []e{{"FIELD_TYPE_MISMATCH", "won"}}},
		{name: "array for object", version: "1.0", body: `{"player":{"id":"p"},"level":5,"device":[]}`, want: []e{{"FIELD_TYPE_MISMATCH", "device"}}},
		{name: "below min", version: "1.0", body: `{"player":{"id":"p"},"level":0}`, want: []e{{"FIELD_OUT_OF_RANGE", "level"}}},
		{name: "above max", version: "1.0", body: `{"player":{"id":"p"},"level":1001}`, want: []e{{"FIELD_OUT_OF_RANGE", "level"}}},
		{name: "beyond BIGINT", version: "1.0", body: `{"player":{"id":"p"},"level":1,"score":9223372036854775808}`, want: []e{{"FIELD_OUT_OF_RANGE", "score"}}},
		{name: "BIGINT max fits", version: "1.0", body: `{"player":{"id":"p"},"level":1,"score":9223372036854775807}`,
			cols: map[string]any{"score": int64(9223372036854775807)}},
		{name: "number below min", version: "1.0", body: `{"player":{"id":"p"},"level":1,"xp":-0.5}`, want: []e{{"FIELD_OUT_OF_RANGE", "xp"}}},
		{name: "number beyond double", version: "1.0", body: `{"player":{"id":"p"},"level":1,"xp":1e400}`, want: []e{{"FIELD_OUT_OF_RANGE", "xp"}}},
		{name: "string too long", version: "1.0", body: `{"player":{"id":"` + long + `"},"level":1}`, want: []e{{"FIELD_TOO_LONG", "player.id"}}},
		{name: "multibyte counted in bytes", version: "1.0", body: `{"player":{"id":"` + strings.Repeat("é", 33) + `"},"level":1}`, want: []e{{"FIELD_TOO_LONG", "player.id"}}},
		{name: "escapes decoded", version: "1.0", body: `{"player":{"id":"a\"b\u00e9"},"level":1}`, cols: map[string]any{"player_id": `a"bé`}},
		{name: "object JSON too long", version: "1.0", body: `{"player":{"id":"p"},"level":1,"device":{"k":"` + strings.Repeat("y", 1100) + `"}}`, want: []e{{"FIELD_TOO_LONG", "device"}}},
		{name: "uuid format", version: "1.0", body: `{"player":{"id":"p"},"level":1,"session":"not-a-uuid"}`, want: []e{{"FIELD_FORMAT_INVALID", "session"}}},
		{name: "pattern format", version: "1.5", body: `{"player":{"id":"p"},"level":1,"ts":"2026-11-21T00:00:00Z","mode":"ranked-x"}`, want: []e{{"FIELD_FORMAT_INVALID", "mode"}}},
		{name: "timestamp not RFC 3339", version: "1.0", body: `{"player":{"id":"p"},"level":1,"ts":"21/11/2026"}`, want: []e{{"FIELD_FORMAT_INVALID", "ts"}}},
		{name: "timestamp without zone", version: "1.0", body: `{"player":{"id":"p"},"level":1,"ts":"2026-11-21T10:00:00"}`, want: []e{{"FIELD_FORMAT_INVALID", "ts"}}},
		{name: "timestamp as number", version: "1.0", body: `{"player":{"id":"p"},"level":1,"ts":1763768727}`, want: []e{{"FIELD_TYPE_MISMATCH", "ts"}}},
		{name: "timestamp before 2000", version: "1.0", body: `{"player":{"id":"p"},"level":1,"ts":"1999-12-31T23:59:59Z"}`, want: []e{{"TIMESTAMP_OUT_OF_RANGE", "ts"}}},
		{name: "timestamp over a day after fired_ts", version: "1.0", body: `{"player":{"id":"p"},"level":1,"ts":"2026-11-23T00:00:00Z"}`, want: []e{{"TIMESTAMP_OUT_OF_RANGE", "ts"}}},
		{name: "timestamp hours after fired_ts", version: "1.0", body: `{"player":{"id":"p"},"level":1,"ts":"2026-11-22T10:00:00.123456789Z"}`,
			cols: map[string]any{"client_ts": "2026-11-22T10:00:00.123456Z"}},
		{name: "missing mandatory", version: "1.0", body: `{"level":1}`, want: []e{{"MANDATORY_FIELD_MISSING", "player.id"}}},
		{name: "null mandatory", version: "1.0", body: `{"player":{"id":"p"},"level":null}`, want: []e{{"MANDATORY_FIELD_NULL", "level"}}},
		{name: "null optional is nil", version: "1.0", body: `{"player":{"id":"p"},"level":1,"score":null}`, cols: map[string]any{"score": nil}},
		{name: "additional fields ignored by v1", version: "1.0", body: `{"player":{"id":"p","x":1},"level":1,"extra":true}`, cols: map[string]any{"level": int64(1)}},
		{name: "additional fields rejected by v2", version: "1.5", body: `{"player":{"id":"p","rank":3},"level":1,"ts":"2026-11-21T00:00:00Z","cheat":true}`,
			want: []e{{"UNEXPECTED_FIELD", "player.rank"}, {"UNEXPECTED_FIELD", "cheat"}}},
		{name: "every error is reported", version: "1.0", body: `{"player":{},"level":"high","xp":-1,"won":1,"ts":"soon"}`,
			want: []e{{"MANDATORY_FIELD_MISSING", "player.id"}, {"FIELD_TYPE_MISMATCH", "level"}, {"FIELD_OUT_OF_RANGE", "xp"}, {"FIELD_TYPE_MISMATCH", "won"}, {"FIELD_FORMAT_INVALID", "ts"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := validate(t, v, inputRecord("galaxy", tc.version, "level_up", tc.body))
			if len(out) != 1 {
				t.Fatalf("%d records", len(out))
			}
			r := out[0]
			var got []e
			for _, er := range errorsOf(r) {
				got = append(got, e{er["code"].(string), er["path"].(string)})
				for _, k := range []string{"rule", "expected", "actual", "message"} {
					if _, ok := er[k].(string); !ok {
						t.Errorf("error key %s missing: %v", k, er)
					}
				}
				if er["message"] == "" {
					t.Errorf("empty message: %v", er)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("errors %v, want %v\n%v", got, tc.want, r["errors"])
			}
			if tc.want == nil {
				cols := r["columns"].(map[string]any)
				for k, want := range tc.cols {
					if !reflect.DeepEqual(cols[k], want) {
						t.Errorf("column %s = %#v, want %#v", k, cols[k], want)
					}
				}
			}
		})
	}
}

func TestFailureRecord(t *testing.T) {
	v := testValidator(t, Options{})
	// the raw event is kept byte for byte, whitespace and escapes included
	raw := "{ \"player\" : {\"id\": \"\\u00e9\"},\n\"level\": 0 }"
	out := validate(t, v, inputRecord("galaxy", "1.4", "level_up", raw))
	r := out[0]
	if got := sortedKeys(r); !reflect.DeepEqual(got, []string{"body", "definition_version", "errors", "event", "fired_ts", "game", "uuid", "version"}) {
		t.Fatalf("keys %v", got)
	}
	if r["body"] != raw || r["uuid"] != testUUID || r["fired_ts"] != testFired || r["game"] != "galaxy" || r["version"] != "1.4" || r["event"] != "level_up" || r["definition_version"] != "v1" {
		t.Fatalf("failure %v", r)
	}
	er := errorsOf(r)[0]
	want := map[string]any{"code": "FIELD_OUT_OF_RANGE", "path": "level", "rule": "range", "expected": "from 1 to 1000", "actual": "0",
		"message": "field level (level) is 0, outside from 1 to 1000"}
	if !reflect.DeepEqual(er, want) {
		t.Fatalf("error %v", er)
	}
	if StatusOf(decodeOne(t, v.AppendValidated(nil, decodeOne(t, inputRecord("galaxy", "1.4", "level_up", raw)))).Body) != Failure {
		t.Fatal("StatusOf(failure) != Failure")
	}
	// actual is capped
	out = validate(t, v, inputRecord("galaxy", "1.4", "level_up", `{"player":{"id":"`+strings.Repeat("é", 600)+`"},"level":1}`))
	act := errorsOf(out[0])[0]["actual"].(string)
	if len(act) > MaxActual || len(act) < MaxActual-1 || !strings.HasPrefix(act, "éé") || strings.ToValidUTF8(act, "?") != act {
		t.Fatalf("actual not capped at a character boundary: %d bytes", len(act))
	}
}

func TestTooManyErrors(t *testing.T) {
	v := testValidator(t, Options{})
	var items []string
	for i := 0; i < 60; i++ {
		items = append(items, `{"qty":0}`) // two errors each: sku missing, qty below min
	}
	out := validate(t, v, inputRecord("galaxy", "1.0", "purchase", `{"order":"o","items":[`+strings.Join(items, ",")+`]}`))
	errs := errorsOf(out[0])
	if len(errs) != MaxErrors {
		t.Fatalf("%d errors, want %d", len(errs), MaxErrors)
	}
	if msg := errs[len(errs)-1]["message"].(string); !strings.Contains(msg, "and 20 more errors not listed") {
		t.Fatalf("last message %q", msg)
	}
}

func TestIngestResolveFailures(t *testing.T) {
	v := testValidator(t, Options{MaxEventSize: 4096, ExpandLimit: 5})
	big := `{"player":{"id":"p"},"level":1,"pad":"` + strings.Repeat("z", 5000) + `"}`
	for _, tc := range []struct {
		name, game, version, event, body string
		want                             []string
		def                              any
	}{
		{"not JSON", "galaxy", "1.0", "level_up", `{"player":`, []string{"PAYLOAD_NOT_JSON"}, "v1"},
		{"trailing garbage", "galaxy", "1.0", "level_up", `{"level":1} x`, []string{"PAYLOAD_NOT_JSON"}, "v1"},
		// fastjson's parser reads these; RFC 8259, and so the validator, does not
		{"a number with a leading zero", "galaxy", "1.0", "level_up", `{"player":{"id":"p"},"level":03}`, []string{"PAYLOAD_NOT_JSON"}, "v1"},
		{"nan", "galaxy", "1.0", "level_up", `{"player":{"id":"p"},"level":nan}`, []string{"PAYLOAD_NOT_JSON"}, "v1"},
		{"a control byte in a string", "galaxy", "1.0", "level_up", "{\"player\":{\"id\":\"p\x01\"},\"level\":1}", []string{"PAYLOAD_NOT_JSON"}, "v1"},
		{"an unknown escape", "galaxy", "1.0", "level_up", `{"player":{"id":"p\x"},"level":1}`, []string{"PAYLOAD_NOT_JSON"}, "v1"},
		{"a bad number in a field not in the model", "galaxy", "1.0", "level_up", `{"player":{"id":"p"},"level":1,"extra":[1.]}`, []string{"PAYLOAD_NOT_JSON"}, "v1"},
		{"empty", "galaxy", "1.0", "level_up", "", []string{"PAYLOAD_EMPTY"}, "v1"},
		{"blank", "galaxy", "1.0", "level_up", " \n\t", []string{"PAYLOAD_EMPTY"}, "v1"},
		{"array", "galaxy", "1.0", "level_up", `[{"level":1}]`, []string{"PAYLOAD_NOT_OBJECT"}, "v1"},
		{"string", "galaxy", "1.0", "level_up", `"hello"`, []string{"PAYLOAD_NOT_OBJECT"}, "v1"},
		{"too large", "galaxy", "1.0", "level_up", big, []string{"PAYLOAD_TOO_LARGE"}, "v1"},
		{"unknown game", "nebula", "1.0", "level_up", `{}`, []string{"UNKNOWN_GAME"}, nil},
		{"unknown event", "galaxy", "1.0", "boss_fight", `{}`, []string{"UNKNOWN_EVENT"}, nil},
		{"unknown event and unmapped version", "galaxy", "0.1", "boss_fight", `{}`, []string{"UNKNOWN_EVENT", "VERSION_UNMAPPED"}, nil},
		{"not JSON and unknown game", "nebula", "1.0", "x", `nope`, []string{"PAYLOAD_NOT_JSON", "UNKNOWN_GAME"}, nil},
		{"definition not found", "galaxy", "1.5", "tutorial_step", `{"step":1}`, []string{"DEFINITION_NOT_FOUND"}, nil},
		{"definition invalid", "galaxy", "1.0", "tutorial_step", `{"step":1}`, []string{"DEFINITION_INVALID"}, "v1"},
		{"expand not array", "galaxy", "1.0", "purchase", `{"order":"o","items":{"sku":"a"}}`, []string{"EXPAND_NOT_ARRAY"}, "v1"},
		{"expand empty", "galaxy", "1.0", "purchase", `{"order":"o","items":[]}`, []string{"EXPAND_EMPTY"}, "v1"},
		{"expand over limit", "galaxy", "1.0", "purchase", `{"order":"o","items":[{},{},{},{},{},{}]}`, []string{"EXPAND_LIMIT_EXCEEDED"}, "v1"},
		{"expand missing", "galaxy", "1.0", "purchase", `{"order":"o"}`, []string{"MANDATORY_FIELD_MISSING"}, "v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := validate(t, v, inputRecord(tc.game, tc.version, tc.event, tc.body))
			if len(out) != 1 {
				t.Fatalf("%d records", len(out))
			}
			if got := codes(out[0]); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("codes %v, want %v: %v", got, tc.want, out[0]["errors"])
			}
			if len(tc.body) <= 4096 && out[0]["body"] != tc.body { // a larger one is cut (TestFailuresKeepAtMostMaxEventSize)
				t.Fatalf("body not kept")
			}
			if out[0]["definition_version"] != tc.def {
				t.Fatalf("definition_version %v, want %v", out[0]["definition_version"], tc.def)
			}
		})
	}
}

func TestEndpointInvalid(t *testing.T) {
	v := testValidator(t, Options{})
	build := func(kvs ...any) []byte {
		b := msgp.AppendMapHeader(nil, uint32(len(kvs)/2))
		for i := 0; i < len(kvs); i += 2 {
			b = msgp.AppendString(b, kvs[i].(string))
			b, _ = msgp.AppendIntf(b, kvs[i+1])
		}
		return record.AppendRecord(nil, testTime, nil, b)
	}
	for _, tc := range []struct {
		name  string
		in    []byte
		paths []string
	}{
		{"game missing", build("uuid", testUUID, "fired_ts", testFired, "version", "1.0", "event", "level_up", "body", "{}"), []string{"game"}},
		{"body not a string", build("uuid", testUUID, "fired_ts", testFired, "game", "galaxy", "version", "1.0", "event", "level_up", "body", 5), []string{"body"}},
		{"bad fired_ts", build("uuid", testUUID, "fired_ts", "yesterday", "game", "galaxy", "version", "1.0", "event", "level_up", "body", "{}"), []string{"fired_ts"}},
		{"empty event, no uuid", build("fired_ts", testFired, "game", "galaxy", "version", "1.0", "event", "", "body", "{}"), []string{"uuid", "event"}},
		{"a log line, not an event", build("log", "hello"), []string{"uuid", "fired_ts", "game", "version", "event", "body"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := validate(t, v, tc.in)
			var paths []string
			for _, e := range errorsOf(out[0]) {
				if e["code"] != string(failcode.EndpointInvalid) {
					t.Fatalf("code %v", e["code"])
				}
				paths = append(paths, e["path"].(string))
			}
			if !reflect.DeepEqual(paths, tc.paths) {
				t.Fatalf("paths %v, want %v", paths, tc.paths)
			}
		})
	}
}

func TestExpand(t *testing.T) {
	v := testValidator(t, Options{})
	body := `{"order":"o-7","paid_at":1763768727123,"items":[{"sku":"sword","qty":1,"price":{"amount":9.99}},{"sku":"shield","qty":2},{"sku":"gem","qty":30,"price":{"amount":0.5}}]}`
	out := validate(t, v, inputRecord("galaxy", "1.1", "purchase", body))
	if len(out) != 3 {
		t.Fatalf("%d records, want 3", len(out))
	}
	wantCols := []map[string]any{
		{"order_id": "o-7", "sku": "sword", "quantity": int64(1), "price": 9.99, "paid_ts": "2025-11-21T23:45:27.123000Z"},
		{"order_id": "o-7", "sku": "shield", "quantity": int64(2), "price": nil, "paid_ts": "2025-11-21T23:45:27.123000Z"},
		{"order_id": "o-7", "sku": "gem", "quantity": int64(30), "price": 0.5, "paid_ts": "2025-11-21T23:45:27.123000Z"},
	}
	for i, r := range out {
		if r["uuid"] != testUUID || r["expand_index"] != int64(i) || r["definition_version"] != "v1" {
			t.Fatalf("record %d: %v", i, r)
		}
		if !reflect.DeepEqual(r["columns"], wantCols[i]) {
			t.Fatalf("record %d columns %v, want %v", i, r["columns"], wantCols[i])
		}
	}
	// Errors inside elements name the element; one failure for the event.
	out = validate(t, v, inputRecord("galaxy", "1.1", "purchase", `{"order":"o","items":[{"sku":"a","qty":1},{"sku":"b","qty":0},{"qty":1,"price":{"amount":"1"}}]}`))
	if len(out) != 1 {
		t.Fatalf("%d records, want 1 failure", len(out))
	}
	var got []string
	for _, e := range errorsOf(out[0]) {
		got = append(got, e["code"].(string)+" "+e["path"].(string))
	}
	want := []string{"FIELD_OUT_OF_RANGE items.1.qty", "MANDATORY_FIELD_MISSING items.2.sku", "FIELD_TYPE_MISMATCH items.2.price.amount"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("errors %v, want %v", got, want)
	}
	// "@" is the element itself (v2, game version 1.5+)
	out = validate(t, v, inputRecord("galaxy", "1.6", "purchase", `{"order":"o","items":["a","b"]}`))
	if len(out) != 2 || out[1]["columns"].(map[string]any)["sku"] != "b" || out[1]["expand_index"] != int64(1) {
		t.Fatalf("got %v", out)
	}
}

func TestInternalError(t *testing.T) {
	log := &testenv.Log{}
	v := testValidator(t, Options{Log: log})
	testHookValidate = func() { panic("boom") }
	defer func() { testHookValidate = nil }()
	dst := []byte("prefix")
	out := v.AppendValidated(dst, decodeOne(t, inputRecord("galaxy", "1.0", "level_up", validLevelUp)))
	if string(out[:6]) != "prefix" {
		t.Fatal("earlier output damaged")
	}
	recs := decodeAll(t, out[6:])
	if len(recs) != 1 || !reflect.DeepEqual(codes(recs[0]), []string{"INTERNAL_ERROR"}) || recs[0]["body"] != validLevelUp || recs[0]["uuid"] != testUUID {
		t.Fatalf("got %v", recs)
	}
	if log.Count("internal error") != 1 {
		t.Fatalf("log: %s", log)
	}
}

func TestUndecodable(t *testing.T) {
	msg := []byte("\x00\x01 not msgpack")
	recs := decodeAll(t, AppendUndecodable(nil, testTime, "0190d6b4-7c2a-7c3e-8f00-000000000009", msg, "message is not a msgpack chunk"))
	if len(recs) != 1 {
		t.Fatal(len(recs))
	}
	r := recs[0]
	if !reflect.DeepEqual(codes(r), []string{"UNDECODABLE_MESSAGE"}) || r["body"] != string(msg) || r["game"] != nil || r["uuid"] != "0190d6b4-7c2a-7c3e-8f00-000000000009" || r["fired_ts"] != enrich.FiredTS(testTime) {
		t.Fatalf("got %v", r)
	}
	if errorsOf(r)[0]["message"] != "message is not a msgpack chunk" {
		t.Fatalf("message %v", errorsOf(r)[0]["message"])
	}
}

// A record outside the contract still becomes a failure with an identity:
// a uuid derived from the record (the same on a retry) and fired_ts from
// the record time, so the loader can deduplicate it.
func TestFailureWithoutUUIDGetsADerivedOne(t *testing.T) {
	v := testValidator(t, Options{})
	body := msgp.AppendMapHeader(nil, 1)
	body = msgp.AppendString(body, "hello")
	body = msgp.AppendInt(body, 1)
	rec := record.Record{Time: testTime, Body: record.Map(body)}
	first := decodeAll(t, v.AppendValidated(nil, rec))
	again := decodeAll(t, v.AppendValidated(nil, rec))
	if len(first) != 1 || codes(first[0])[0] != "ENDPOINT_INVALID" {
		t.Fatalf("got %v", first)
	}
	u, _ := first[0]["uuid"].(string)
	if len(u) != 36 || again[0]["uuid"] != u || first[0]["fired_ts"] != enrich.FiredTS(testTime) {
		t.Errorf("uuid %v / %v, fired_ts %v", first[0]["uuid"], again[0]["uuid"], first[0]["fired_ts"])
	}
}
