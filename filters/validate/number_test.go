package validate

import (
	"math"
	"math/rand/v2"
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

// parseShortDecimal reads exactly what strconv.ParseFloat reads, where it
// reads anything, and only JSON numbers.
func checkShortDecimal(t *testing.T, s string) {
	t.Helper()
	got, ok := parseShortDecimal([]byte(s))
	if !ok {
		return
	}
	want, err := strconv.ParseFloat(s, 64)
	if err != nil || math.Float64bits(got) != math.Float64bits(want) || !validNumber([]byte(s)) {
		t.Fatalf("parseShortDecimal(%q) = %v; strconv.ParseFloat reads %v, %v; JSON number: %v", s, got, want, err, validNumber([]byte(s)))
	}
}

var shortDecimalCases = []string{
	"0", "-0", "0.0", "-0.0", "9876.5", "0.1", "0.3", "1.7976931348623157", "123456789012345", "12345678901234.5",
	"999999999999999", "9007199254740993", "0.000000000000001", "1234567890123456", "01.5", "1.", ".5", "-.5",
	"1.2.3", "1e5", "-", "", "00", "-01", "1.5e-3", "+1", "0.", "-0.",
}

func TestParseShortDecimalMatchesParseFloat(t *testing.T) {
	for _, s := range shortDecimalCases {
		checkShortDecimal(t, s)
	}
	for _, c := range []struct {
		in string
		ok bool
	}{{"9876.5", true}, {"-0.25", true}, {"123456789012345", true}, {"1234567890123456", false}, {"1e3", false}, {"01.5", false}, {"1.", false}, {".5", false}} {
		if _, ok := parseShortDecimal([]byte(c.in)); ok != c.ok {
			t.Errorf("parseShortDecimal(%q) ok = %v, want %v", c.in, ok, c.ok)
		}
	}
	r := rand.New(rand.NewPCG(7, 8))
	for range 200000 {
		s := strconv.FormatFloat(r.NormFloat64()*math.Pow(10, float64(r.IntN(12))), 'f', r.IntN(8), 64)
		checkShortDecimal(t, s)
	}
}

func FuzzParseShortDecimal(f *testing.F) {
	for _, s := range shortDecimalCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkShortDecimal(t, s) })
}
