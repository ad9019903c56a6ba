package validate

import (
	"bytes"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/record"
)

// FuzzAppendContract holds AppendContract to what it replaces: for any
// six fields and time, its output is byte for byte AppendValidated's of
// the record that holds them (valid records, every kind of failure,
// expansion).
func FuzzAppendContract(f *testing.F) {
	for _, s := range []struct{ uuid, fired, game, version, event, body string }{
		{testUUID, testFired, "galaxy", "1.2", "level_up", `{"player":{"id":"p1"},"level":3,"score":10,"won":true,"ts":"2026-11-21T23:45:27Z"}`},
		{testUUID, testFired, "galaxy", "1.7.2", "level_up", `{"player":{"id":"p1"},"level":3,"score":10,"won":true,"ts":"2026-11-21T23:45:27Z"}`},
		{testUUID, testFired, "galaxy", "1.7.2", "level_up", `{"player":{"id":"p1"},"level":0}`},
		{testUUID, testFired, "galaxy", "1.2", "purchase", `{"order":"o1","items":[{"sku":"a","qty":1},{"sku":"b","qty":2,"price":{"amount":1.5}}]}`},
		{testUUID, "yesterday", "galaxy", "1.7.2", "level_up", `{}`},
		{"", "", "", "", "", ""},
		{testUUID, testFired, "nope", "1", "x", `[1,2]`},
		{testUUID, testFired, "galaxy", "9.9", "level_up", `{"a":`},
		{"u\xff", testFired, "galaxy", "1.7.2", "tutorial_step", "{\"step\":\"\xff\"}"},
	} {
		f.Add(s.uuid, s.fired, s.game, s.version, s.event, s.body, int64(1764000000123456789))
	}
	v := testValidator(f, Options{})
	f.Fuzz(func(t *testing.T, uuid, fired, game, version, event, body string, nanos int64) {
		at := time.Unix(0, nanos).UTC()
		m := msgp.AppendMapHeader(nil, 6)
		for _, kv := range [][2]string{{"uuid", uuid}, {"fired_ts", fired}, {"game", game}, {"version", version}, {"event", event}, {"body", body}} {
			m = msgp.AppendString(msgp.AppendString(m, kv[0]), kv[1])
		}
		want := v.AppendValidated([]byte("prefix"), record.Record{Time: at, Body: m})
		got := v.AppendContract([]byte("prefix"), Contract{Time: at, UUID: []byte(uuid), FiredTS: []byte(fired), Game: []byte(game),
			Version: []byte(version), Event: []byte(event), Body: []byte(body)})
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendContract differs from AppendValidated:\n got  %q\n want %q", got, want)
		}
	})
}
