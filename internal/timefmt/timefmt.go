// Package timefmt writes the UTC date and time that fired_ts values and
// timestamp columns share, YYYY-MM-DDTHH:MM:SS, with a two-digit table
// rather than time.Format's layout machinery, and reads RFC 3339 times in
// UTC without time.Parse: it runs for every event at the edge, for every
// fired_ts the sqs input reads and for every timestamp the validator
// reads and writes.
package timefmt

import (
	"encoding/binary"
	"time"
	"unsafe"

	"github.com/whirlpool-events/whirlpool/internal/swar"
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

// LastRFC3339 is ParseRFC3339 remembering the last time it read: the
// events of one request share their fired_ts, so most records of a
// message cost a compare rather than a parse. The zero value is ready;
// not safe for concurrent use.
type LastRFC3339 struct {
	text []byte
	t    time.Time
	ok   bool
}

// Parse is ParseRFC3339(s), from memory when s is the last time read.
func (c *LastRFC3339) Parse(s []byte) (time.Time, bool) {
	if c.ok && string(s) == string(c.text) {
		return c.t, true
	}
	t, ok := ParseRFC3339(s)
	if ok {
		c.text, c.t, c.ok = append(c.text[:0], s...), t, true
	}
	return t, ok
}

// parseUTC reads YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z exactly as time.Parse does,
// and reports false for any other text, which may still be a time
// time.Parse reads.
func parseUTC(s []byte) (time.Time, bool) {
	n := len(s)
	if n < 20 || s[n-1] != 'Z' || s[10] != 'T' {
		return time.Time{}, false
	}
	// Two words, "YYYY-MM-" and "HH:MM:SS", each XORed with its template:
	// a byte is a digit exactly when it becomes 0-9 (its value), and a
	// separator exactly when it becomes 0.
	const (
		dateTmpl = 0x2d30302d30303030 // "0000-00-", first byte lowest
		timeTmpl = 0x30303a30303a3030 // "00:00:00"
		dateSeps = 0xff0000ff00000000 // its bytes 4 and 7
		timeSeps = 0x0000ff0000ff0000 // its bytes 2 and 5
		below10  = 0x7676767676767676 // + x sets a byte's 0x80 when x >= 10
	)
	d := binary.LittleEndian.Uint64(s[0:8]) ^ dateTmpl
	c := binary.LittleEndian.Uint64(s[11:19]) ^ timeTmpl
	d8, d9 := s[8]-'0', s[9]-'0'
	if ((d+below10)|d|(c+below10)|c)&swar.Highs != 0 || d&dateSeps|c&timeSeps != 0 || d8 > 9 || d9 > 9 {
		return time.Time{}, false
	}
	year := int(d&0xff)*1000 + int(d>>8&0xff)*100 + int(d>>16&0xff)*10 + int(d>>24&0xff)
	month := int(d>>40&0xff)*10 + int(d>>48&0xff)
	day := int(d8)*10 + int(d9)
	hour := int(c&0xff)*10 + int(c>>8&0xff)
	min := int(c>>24&0xff)*10 + int(c>>32&0xff)
	sec := int(c>>48&0xff)*10 + int(c>>56&0xff)
	nsec := 0
	switch {
	case n == 20:
	case n >= 22 && n <= 30 && s[19] == '.':
		for _, x := range s[20 : n-1] {
			if x -= '0'; x > 9 {
				return time.Time{}, false
			}
			nsec = nsec*10 + int(x)
		}
		nsec *= pow10[30-n] // 9 less the n-21 digits
	default:
		return time.Time{}, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || min > 59 || sec > 59 {
		return time.Time{}, false
	}
	unix := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+min*60+sec)
	return time.Unix(unix, int64(nsec)).UTC(), true
}

var pow10 = [...]int{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

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
