package timefmt

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

func TestPutDateTimeMatchesFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 100000 {
		tm := time.Unix(r.Int64N(400*365*86400)-200*365*86400, r.Int64N(1e9)).In(time.FixedZone("", r.IntN(28)*3600-14*3600))
		var b [19]byte
		PutDateTime(b[:], tm)
		if want := tm.UTC().Format("2006-01-02T15:04:05"); string(b[:]) != want {
			t.Fatalf("PutDateTime(%v) = %s, want %s", tm, b[:], want)
		}
	}
	for _, c := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(-5, 3, 4, 5, 6, 7, 0, time.UTC), "0000-03-04T05:06:07"},
		{time.Date(12026, 3, 4, 5, 6, 7, 0, time.UTC), "9999-03-04T05:06:07"},
	} {
		var b [19]byte
		if PutDateTime(b[:], c.in); string(b[:]) != c.want {
			t.Errorf("PutDateTime(%v) = %s, want %s", c.in, b[:], c.want)
		}
	}
}

func ExamplePutDateTime() {
	var b [19]byte
	PutDateTime(b[:], time.Date(2026, 11, 21, 23, 45, 27, 0, time.FixedZone("", 3600)))
	fmt.Println(string(b[:]))
	// Output: 2026-11-21T22:45:27
}

// referenceParse is what ParseRFC3339 promises: time.Parse's reading of
// an RFC 3339 time, in UTC.
func referenceParse(s []byte) (time.Time, bool) {
	if len(s) < 20 || len(s) > 35 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(s))
	return t.UTC(), err == nil
}

func checkParse(t *testing.T, s string) {
	t.Helper()
	want, wantOK := referenceParse([]byte(s))
	got, ok := ParseRFC3339([]byte(s))
	if ok != wantOK || got != want {
		t.Fatalf("ParseRFC3339(%q) = %v, %v; time.Parse reads %v, %v", s, got, ok, want, wantOK)
	}
	if fast, ok := parseUTC([]byte(s)); ok && (!wantOK || fast != want) {
		t.Fatalf("parseUTC(%q) = %v; time.Parse reads %v, %v", s, fast, want, wantOK)
	}
}

var timestampCases = []string{
	"2026-11-21T23:45:20.123Z",
	"2026-11-21T23:45:20Z",
	"2026-11-21T23:45:20.1Z",
	"2026-11-21T23:45:20.123456789Z",
	"2026-11-21T23:45:20.1234567891Z", // ten digits: time.Parse's way
	"2026-11-21T23:45:20.Z",
	"2026-11-21T23:45:20.123+02:00",
	"2026-11-21T23:45:20-07:30",
	"2026-11-21t23:45:20Z",
	"2026-11-21T23:45:20z",
	"2024-02-29T00:00:00Z", // leap day
	"2023-02-29T00:00:00Z",
	"2000-02-29T12:00:00Z",
	"1900-02-29T12:00:00Z",
	"0000-01-01T00:00:00Z",
	"0000-02-29T00:00:00Z",
	"0001-03-01T00:00:00Z",
	"9999-12-31T23:59:59.999999999Z",
	"1969-12-31T23:59:59.5Z",
	"1970-01-01T00:00:00Z",
	"2026-04-31T00:00:00Z",
	"2026-13-01T00:00:00Z",
	"2026-00-10T00:00:00Z",
	"2026-01-00T00:00:00Z",
	"2026-01-01T24:00:00Z",
	"2026-01-01T23:60:00Z",
	"2026-01-01T23:59:60Z",
	"2026-01-01 23:59:59Z",
	"2026-1-01T23:59:59.0Z",
	"+026-01-01T23:59:59Z",
	"2026-01-01T23:59:5aZ",
	"2026-01-01T23:59:59,5Z",
	"2026-01-01T23:59:59.5.5Z",
	"2026-01-01T23:59:59.-5Z",
}

func TestParseRFC3339MatchesTimeParse(t *testing.T) {
	for _, s := range timestampCases {
		checkParse(t, s)
	}
	// every day of four centuries, at random times of day and precisions
	r := rand.New(rand.NewPCG(1, 2))
	for day := time.Date(1899, 1, 1, 0, 0, 0, 0, time.UTC); day.Year() < 2300; day = day.AddDate(0, 0, 1) {
		tm := day.Add(time.Duration(r.Int64N(int64(24 * time.Hour))))
		layout := []string{time.RFC3339, "2006-01-02T15:04:05.000Z07:00", time.RFC3339Nano}[r.IntN(3)]
		s := tm.Format(layout)
		checkParse(t, s)
		if got, ok := parseUTC([]byte(s)); !ok || !got.Equal(tm.Truncate(precisionOf(layout))) {
			t.Fatalf("parseUTC(%q) = %v, %v; want %v", s, got, ok, tm)
		}
	}
}

func precisionOf(layout string) time.Duration {
	switch layout {
	case time.RFC3339:
		return time.Second
	case time.RFC3339Nano:
		return time.Nanosecond
	}
	return time.Millisecond
}

func FuzzParseRFC3339(f *testing.F) {
	for _, s := range timestampCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkParse(t, s) })
}

// TestLastRFC3339 reads a sequence as the sqs input and the validator do
// (the same time again and again, a new one, text that is no time, and a
// buffer the caller overwrites in place): each answer is ParseRFC3339's.
func TestLastRFC3339(t *testing.T) {
	var c LastRFC3339
	buf := []byte("2026-11-21T23:45:27.123Z")
	read := func(s []byte) {
		t.Helper()
		want, wantOK := ParseRFC3339(s)
		if got, ok := c.Parse(s); ok != wantOK || got != want {
			t.Fatalf("Parse(%q) = %v, %v; ParseRFC3339 reads %v, %v", s, got, ok, want, wantOK)
		}
	}
	read(buf)
	read(buf)
	read([]byte("2026-11-21T23:45:27.124Z"))
	read([]byte("not a time at all, 20+ bytes"))
	read([]byte("2026-11-21T23:45:27.124Z"))
	read([]byte("2026-11-21T23:45:27.124+01:00"))
	read(buf)
	copy(buf, "2027-01-02T03:04:05.678Z") // the caller's buffer, reused
	read(buf)
	read([]byte(""))
	read(buf)
}
