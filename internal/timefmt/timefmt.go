// Package timefmt writes the UTC date and time that fired_ts values and
// timestamp columns share, YYYY-MM-DDTHH:MM:SS, with a two-digit table
// rather than time.Format's layout machinery, and reads RFC 3339 times in
// UTC without time.Parse: it runs for every event at the edge, for every
// fired_ts the sqs input reads and for every timestamp the validator
// reads and writes.
package timefmt

import (
	"time"
	"unsafe"
)

// PutDateTime writes t, in UTC, as YYYY-MM-DDTHH:MM:SS into b[:19]. A year
// outside 0-9999 is written as the nearer of the two.
func PutDateTime(b []byte, t time.Time) {
	_ = b[18]
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	if y < 0 {
		y = 0
	} else if y > 9999 {
		y = 9999
	}
	Put2(b[0:2], y/100)
	Put2(b[2:4], y%100)
	b[4] = '-'
	Put2(b[5:7], int(mo))
	b[7] = '-'
	Put2(b[8:10], d)
	b[10] = 'T'
	Put2(b[11:13], h)
	b[13] = ':'
	Put2(b[14:16], mi)
	b[16] = ':'
	Put2(b[17:19], s)
}

// Put2 writes v (0 to 99) as two digits into b[:2].
func Put2(b []byte, v int) {
	const digits = "0001020304050607080910111213141516171819" +
		"2021222324252627282930313233343536373839" +
		"4041424344454647484950515253545556575859" +
		"6061626364656667686970717273747576777879" +
		"8081828384858687888990919293949596979899"
	b[0], b[1] = digits[2*v], digits[2*v+1]
}

// ParseRFC3339 parses an RFC 3339 time (a 'T' between date and time, an
// optional fraction of up to 9 digits, and Z or a ±hh:mm offset) of 20 to
// 35 bytes, in UTC, as time.Parse(time.RFC3339Nano, s) reads it
// (FuzzParseRFC3339). The common shape, UTC with 'Z', is read without the
// time package's general parser, which cost the sqs input and the
// validator a few hundred instructions for each fired_ts; anything else
// takes time.Parse.
func ParseRFC3339(s []byte) (time.Time, bool) {
	if len(s) < 20 || len(s) > 35 {
		return time.Time{}, false
	}
	if t, ok := parseUTC(s); ok {
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, unsafe.String(unsafe.SliceData(s), len(s)))
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
