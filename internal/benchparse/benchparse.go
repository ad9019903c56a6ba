// Package benchparse reads `go test -bench` output into the values of each
// benchmark's metrics, run by run: the one reader behind the summaries
// scripts/bench prints (scripts/benchreport, scripts/benchengine).
package benchparse

import (
	"bufio"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Results maps a benchmark to each unit it reported to the value of every
// run, in order. A benchmark is keyed "pkg Name": pkg relative to the
// module, from the "pkg:" line before it ("" before any), and Name without
// "Benchmark" and without the -N GOMAXPROCS suffix.
type Results map[string]map[string][]float64

var (
	pkgLine   = regexp.MustCompile(`^pkg: github\.com/whirlpool-events/whirlpool/(.+)$`)
	benchLine = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)
)

// Parse reads go test -bench output (other lines are skipped).
func Parse(r io.Reader) (Results, error) {
	res := Results{}
	pkg := ""
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		line := s.Text()
		if m := pkgLine.FindStringSubmatch(line); m != nil {
			pkg = m[1]
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		key := pkg + " " + m[1]
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			if res[key] == nil {
				res[key] = map[string][]float64{}
			}
			res[key][f[i+1]] = append(res[key][f[i+1]], v)
		}
	}
	return res, s.Err()
}

// Median is the median of vs (the mean of the two middle values of an even
// count), or false when vs is empty. vs is left as it is.
func Median(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Sorted(slices.Values(vs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}
