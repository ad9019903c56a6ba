// Package timefmt writes the UTC date and time that fired_ts values and
// timestamp columns share, YYYY-MM-DDTHH:MM:SS, with a two-digit table
// rather than time.Format's layout machinery: it runs for every event at
// the edge and for every timestamp the validator writes.
package timefmt

import "time"

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
