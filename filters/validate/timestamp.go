package validate

// This file holds how the validator reads and writes times. Every event
// carries at least two (its fired_ts and, mostly, a client time), so the
// common shape, UTC with 'Z', is read and written without the time
// package's general parser and formatter; anything else takes
// time.Parse, and FuzzParseRFC3339 holds the two equal.

import (
	"time"

	"github.com/whirlpool-events/whirlpool/internal/timefmt"
)

// parseRFC3339 parses an RFC 3339 time (a 'T' between date and time, an
// optional fraction of up to 9 digits, and Z or a ±hh:mm offset).
func parseRFC3339(s []byte) (time.Time, bool) {
	if len(s) < 20 || len(s) > 35 {
		return time.Time{}, false
	}
	if t, ok := parseUTC(s); ok {
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, unsafeString(s))
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// parseUTC reads YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z exactly as time.Parse does,
// and reports false for any other text, which may still be a time
// time.Parse reads.
func parseUTC(s []byte) (time.Time, bool) {
	n := len(s)
	if n < 20 || s[n-1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	ok := true
	num := func(i, width int) int {
		v := 0
		for _, c := range s[i : i+width] {
			c -= '0'
			if c > 9 {
				ok = false
			}
			v = v*10 + int(c)
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, min, sec := num(11, 2), num(14, 2), num(17, 2)
	nsec := 0
	switch {
	case n == 20:
	case n >= 22 && n <= 30 && s[19] == '.':
		digits := n - 21
		nsec = num(20, digits)
		for ; digits < 9; digits++ {
			nsec *= 10
		}
	default:
		return time.Time{}, false
	}
	if !ok || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || min > 59 || sec > 59 {
		return time.Time{}, false
	}
	unix := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+min*60+sec)
	return time.Unix(unix, int64(nsec)).UTC(), true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch is the number of days from 1970-01-01 to the date, in
// the proleptic Gregorian calendar, for years 0 to 9999 (Howard Hinnant's
// days_from_civil).
func daysSinceEpoch(year, month, day int) int64 {
	if month <= 2 {
		year-- // count March as the first month, so a leap day ends the year
	}
	era := (year+400)/400 - 1 // year ≥ -1: floor division
	yoe := year - era*400
	mp := (month + 9) % 12
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

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
