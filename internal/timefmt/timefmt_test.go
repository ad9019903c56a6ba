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
