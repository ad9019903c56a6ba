package validate

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/internal/record"
)

func TestFormatTimestamp(t *testing.T) {
	for _, c := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 21, 23, 45, 27, 123456789, time.UTC), "2026-11-21T23:45:27.123456Z"},
		{time.Date(2026, 11, 22, 1, 45, 27, 5000, time.FixedZone("", 2*3600)), "2026-11-21T23:45:27.000005Z"},
		{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), "0001-01-01T00:00:00.000000Z"},
		{time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), "9999-12-31T23:59:59.999999Z"},
		{time.Date(12026, 3, 4, 5, 6, 7, 0, time.UTC), "9999-03-04T05:06:07.000000Z"}, // year clamped
		{time.Date(-5, 3, 4, 5, 6, 7, 0, time.UTC), "0000-03-04T05:06:07.000000Z"},
	} {
		if got := FormatTimestamp(c.in); got != c.want {
			t.Errorf("FormatTimestamp(%v) = %s, want %s", c.in, got, c.want)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		tm := time.Unix(r.Int64N(400*365*86400)-200*365*86400, r.Int64N(1e9)).UTC()
		if got, want := FormatTimestamp(tm), tm.Format("2006-01-02T15:04:05.000000Z"); got != want {
			t.Fatalf("FormatTimestamp(%v) = %s, want %s", tm, got, want)
		}
	}
}

func TestAppendRFC3339NanoMatchesAppendFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for i := range 200000 {
		tm := time.Unix(r.Int64N(400*365*86400)-200*365*86400, r.Int64N(1e9)).UTC()
		switch i % 4 {
		case 0:
			tm = tm.Truncate(time.Second)
		case 1:
			tm = tm.Truncate(time.Millisecond)
		case 2:
			tm = tm.In(time.FixedZone("", 3600)) // not UTC: AppendFormat's way
		}
		if got, want := appendRFC3339Nano([]byte("x"), tm), tm.AppendFormat([]byte("x"), time.RFC3339Nano); string(got) != string(want) {
			t.Fatalf("appendRFC3339Nano(%v) = %s, want %s", tm, got, want)
		}
	}
	for _, tm := range []time.Time{time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 5, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 100, time.UTC)} {
		if got, want := appendRFC3339Nano(nil, tm), tm.AppendFormat(nil, time.RFC3339Nano); string(got) != string(want) {
			t.Fatalf("appendRFC3339Nano(%v) = %s, want %s", tm, got, want)
		}
	}
}

// Each event's timestamps are checked against its own fired_ts, also when
// the worker remembers the one before (events of one request share it).
func TestTimestampsAgainstEachFiredTS(t *testing.T) {
	v := testValidator(t, Options{})
	body := `{"player":{"id":"p1"},"level":7,"ts":"2026-11-21T20:00:00Z"}`
	for i, c := range []struct {
		fired string
		valid bool
	}{
		{"2026-11-21T21:00:00.000Z", true},
		{"2026-11-21T21:00:00.000Z", true},
		{"2026-11-19T20:00:00.000Z", false}, // ts two days after fired_ts
		{"2026-11-21T21:00:00.000Z", true},
		{"2026-11-21T21:00:00.00Z", true},
		{"not a time", false},
		{"2026-11-19T20:00:00.000Z", false},
		{"2026-11-19T20:00:00.000Z", false},
	} {
		b := msgp.AppendMapHeader(nil, 6)
		for _, kv := range [][2]string{{"uuid", testUUID}, {"fired_ts", c.fired}, {"game", "galaxy"}, {"version", "1.2"}, {"event", "level_up"}, {"body", body}} {
			b = msgp.AppendString(msgp.AppendString(b, kv[0]), kv[1])
		}
		out := v.AppendValidated(nil, decodeOne(t, record.AppendRecord(nil, testTime, nil, b)))
		if got := StatusOf(decodeOne(t, out).Body) == Valid; got != c.valid {
			t.Errorf("event %d, fired_ts %s: valid %v, want %v: %q", i, c.fired, got, c.valid, out)
		}
	}
}
