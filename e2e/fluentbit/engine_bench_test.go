package fluentbit

import (
	"io"
	"net/http"
	"strconv"
	"strings"
)

// metricValue sums every sample of a metric (all its label sets) on a
// /metrics page; -1 when the page cannot be read.
func metricValue(url, name string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	total := 0.0
	for _, line := range strings.Split(string(body), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(rest)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			total += v
		}
	}
	return total
}

// accepted is how many events the load had answered 2xx.
func (l *load) accepted() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, b := range l.batches {
		if b.ok {
			n += int64(len(b.exp))
		}
	}
	return n
}

// offered is how many events the load had sent, counting every attempt
// (503s and resends included).
func (l *load) offered() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, b := range l.batches {
		n += int64(b.attempts * len(b.exp))
	}
	return n
}
