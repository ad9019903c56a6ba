package validate

import (
	"regexp"
	"slices"
	"testing"
)

// A pattern read as literals accepts exactly what the pattern does.
func TestLiteralAlternativesAgreeWithPattern(t *testing.T) {
	for _, c := range []struct {
		pattern string
		want    []string
	}{
		{"casual|ranked", []string{"casual", "ranked"}},
		{"(casual|ranked)", []string{"casual", "ranked"}},
		{"casual", []string{"casual"}},
		{"a|b", nil},         // a character class
		{"rank|ranked", nil}, // factored: rank(?:ed)?
		{"(?i)abc", nil},
		{"ab*", nil},
		{"", nil},
		{"a.b|c", nil},
	} {
		got := literalAlternatives(c.pattern)
		if !slices.Equal(got, c.want) {
			t.Errorf("%q: literals %q, want %q", c.pattern, got, c.want)
		}
		re := regexp.MustCompile(`^(?:` + c.pattern + `)$`)
		f := &cfield{format: fmtPattern, re: re, literals: got}
		for _, s := range append([]string{"", "x", "abc", "ABC", "a.b", "aXb", "casualx", "Casual", "rank"}, got...) {
			if formatOK(f, []byte(s)) != re.MatchString(s) {
				t.Errorf("%q on %q: %v, the pattern says %v", c.pattern, s, !re.MatchString(s), re.MatchString(s))
			}
		}
	}
}
