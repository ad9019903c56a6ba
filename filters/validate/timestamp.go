package validate

// This file holds how the validator writes times. Every event carries at
// least two (its fired_ts and, mostly, a client time), so the common
// shape, UTC with 'Z', is written without the time package's general
// formatter (and read by timefmt.ParseRFC3339 without its parser).

import (
	"time"

	"github.com/whirlpool-events/whirlpool/internal/timefmt"
)

// formatMicros writes t (UTC) as YYYY-MM-DDTHH:MM:SS.ffffffZ, truncated to
// microseconds (the precision of a Redshift TIMESTAMP); a year outside 0
// to 9999 is written as the nearer of the two.
func formatMicros(b *[27]byte, t time.Time) {
	timefmt.PutDateTime(b[:19], t)
	b[19] = '.'
	us := t.Nanosecond() / 1000
	timefmt.Put2(b[20:22], us/10000)
	timefmt.Put2(b[22:24], us/100%100)
	timefmt.Put2(b[24:26], us%100)
	b[26] = 'Z'
}

// appendRFC3339Nano appends t as t.AppendFormat(dst, time.RFC3339Nano)
// does, with the validator's own digits for a UTC time of years 0 to 9999
// (every time it reads), which are most of an error's cost.
func appendRFC3339Nano(dst []byte, t time.Time) []byte {
	if t.Location() != time.UTC || t.Year() < 0 || t.Year() > 9999 {
		return t.AppendFormat(dst, time.RFC3339Nano)
	}
	var b [30]byte
	timefmt.PutDateTime(b[:19], t)
	n := 19
	if ns := t.Nanosecond(); ns != 0 {
		b[19] = '.'
		timefmt.Put2(b[20:22], ns/1e7)
		timefmt.Put2(b[22:24], ns/1e5%100)
		timefmt.Put2(b[24:26], ns/1e3%100)
		timefmt.Put2(b[26:28], ns/10%100)
		b[28] = byte('0' + ns%10)
		n = 29
		for b[n-1] == '0' {
			n--
		}
	}
	b[n] = 'Z'
	return append(dst, b[:n+1]...)
}

// FormatTimestamp formats t as the validator writes timestamp columns: RFC
// 3339 in UTC with microseconds, e.g. 2026-11-21T23:45:27.123000Z.
func FormatTimestamp(t time.Time) string {
	var b [27]byte
	formatMicros(&b, t)
	return string(b[:])
}
