package validate

import (
	"strconv"
	"testing"
)

// parseSmallInt reads exactly what strconv.ParseInt reads, where it reads
// anything.
func checkSmallInt(t *testing.T, s string) {
	t.Helper()
	got, ok := parseSmallInt([]byte(s))
	want, err := strconv.ParseInt(s, 10, 64)
	if ok && (err != nil || got != want) {
		t.Fatalf("parseSmallInt(%q) = %d; strconv.ParseInt reads %d, %v", s, got, want, err)
	}
}

var smallIntCases = []string{
	"0", "-0", "7", "-7", "00012", "123456789012345678", "-123456789012345678",
	"999999999999999999", "9223372036854775807", "-9223372036854775808",
	"", "-", "+5", "1.0", "1e3", "12a", "--1", "1-", " 1",
}

func TestParseSmallIntMatchesParseInt(t *testing.T) {
	for _, s := range smallIntCases {
		checkSmallInt(t, s)
	}
	for _, c := range []struct {
		in string
		ok bool
	}{{"42", true}, {"-42", true}, {"123456789012345678", true}, {"1234567890123456789", false}, {"+5", false}, {"", false}, {"-", false}} {
		if _, ok := parseSmallInt([]byte(c.in)); ok != c.ok {
			t.Errorf("parseSmallInt(%q) ok = %v, want %v", c.in, ok, c.ok)
		}
	}
}

func FuzzParseSmallInt(f *testing.F) {
	for _, s := range smallIntCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkSmallInt(t, s) })
}
