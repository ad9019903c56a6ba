// Command render draws the panels of deploy/observability/dashboard.json as
// one SVG picture from a Prometheus server that scraped a real run: the
// same queries as the Grafana dashboard, evaluated over a time range. It
// is how docs/dashboard.svg was made (README: Metrics); Grafana itself is
// not needed.
//
//	go run ./deploy/observability/render -prometheus http://127.0.0.1:9090 \
//	    -start 2026-12-01T02:41:00Z -end 2026-12-01T02:47:00Z -out docs/dashboard.svg
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"log"
	"math"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

type target struct {
	Expr         string
	LegendFormat string
}

type panel struct {
	Title       string
	FieldConfig struct {
		Defaults struct{ Unit string }
	}
	GridPos struct{ H, W, X, Y int }
	Targets []target
}

type series struct {
	name   string
	ts     []float64
	values []float64
}

func main() {
	prom := flag.String("prometheus", "http://127.0.0.1:9090", "Prometheus base URL")
	dash := flag.String("dashboard", "deploy/observability/dashboard.json", "Grafana dashboard JSON")
	out := flag.String("out", "docs/dashboard.svg", "SVG file to write")
	startS := flag.String("start", "", "start of the range (RFC 3339; default: end - 10m)")
	endS := flag.String("end", "", "end of the range (RFC 3339; default: now)")
	step := flag.Duration("step", 5*time.Second, "query resolution")
	rateInterval := flag.String("rate-interval", "20s", "what $__rate_interval stands for (at least 4 scrape intervals)")
	title := flag.String("title", "Whirlpool", "picture title")
	flag.Parse()

	end := time.Now()
	if *endS != "" {
		end = mustTime(*endS)
	}
	start := end.Add(-10 * time.Minute)
	if *startS != "" {
		start = mustTime(*startS)
	}
	b, err := os.ReadFile(*dash)
	if err != nil {
		log.Fatal(err)
	}
	var d struct{ Panels []panel }
	if err := json.Unmarshal(b, &d); err != nil {
		log.Fatalf("%s: %v", *dash, err)
	}
	var svg strings.Builder
	const unitW, unitH, top = 50, 34, 40
	maxY := 0
	for _, p := range d.Panels {
		maxY = max(maxY, p.GridPos.Y+p.GridPos.H)
	}
	width, height := 24*unitW, maxY*unitH+top+10
	fmt.Fprintf(&svg, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&svg, `<rect width="100%%" height="100%%" fill="#111217"/>`+"\n")
	fmt.Fprintf(&svg, `<text x="10" y="26" fill="#d8d9da" font-size="16">%s — %s to %s UTC, from a real run's scraped metrics (deploy/observability/render)</text>`+"\n",
		html.EscapeString(*title), start.UTC().Format("2006-01-02 15:04:05"), end.UTC().Format("15:04:05"))
	for _, p := range d.Panels {
		var all []series
		for _, t := range p.Targets {
			q := strings.ReplaceAll(t.Expr, "$__rate_interval", *rateInterval)
			ss, err := queryRange(*prom, q, start, end, *step)
			if err != nil {
				log.Fatalf("panel %q: %s: %v", p.Title, q, err)
			}
			for i := range ss {
				ss[i].name = legend(t.LegendFormat, ss[i].name)
			}
			all = append(all, ss...)
		}
		x0, y0 := p.GridPos.X*unitW+5, p.GridPos.Y*unitH+top
		drawPanel(&svg, p, all, float64(x0), float64(y0), float64(p.GridPos.W*unitW-10), float64(p.GridPos.H*unitH-10), start, end)
	}
	svg.WriteString("</svg>\n")
	if err := os.WriteFile(*out, []byte(svg.String()), 0o644); err != nil {
		log.Fatal(err)
	}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		log.Fatal(err)
	}
	return t
}

// queryRange runs a range query; each series' name is its labels as JSON
// (legend turns it into the panel's legend).
func queryRange(base, q string, start, end time.Time, step time.Duration) ([]series, error) {
	v := url.Values{"query": {q}, "start": {strconv.FormatInt(start.Unix(), 10)}, "end": {strconv.FormatInt(end.Unix(), 10)}, "step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}
	resp, err := http.Get(base + "/api/v1/query_range?" + v.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status, Error string
		Data          struct {
			Result []struct {
				Metric map[string]string
				Values [][2]any
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s", r.Error)
	}
	var out []series
	for _, res := range r.Data.Result {
		labels, _ := json.Marshal(res.Metric)
		s := series{name: string(labels)}
		for _, pt := range res.Values {
			f, _ := strconv.ParseFloat(pt[1].(string), 64)
			s.ts = append(s.ts, pt[0].(float64))
			s.values = append(s.values, f)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

var labelRef = regexp.MustCompile(`\{\{\s*(\w+)\s*\}\}`)

func legend(format, labelsJSON string) string {
	var m map[string]string
	_ = json.Unmarshal([]byte(labelsJSON), &m)
	if format == "" {
		return labelsJSON
	}
	return strings.TrimSpace(labelRef.ReplaceAllStringFunc(format, func(ref string) string {
		return m[labelRef.FindStringSubmatch(ref)[1]]
	}))
}

var palette = []string{"#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9", "#705da0", "#37872d", "#fade2a", "#ff9830", "#c4162a"}

func drawPanel(svg *strings.Builder, p panel, all []series, x, y, w, h float64, start, end time.Time) {
	fmt.Fprintf(svg, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="#181b1f" stroke="#2c3235"/>`+"\n", x, y, w, h)
	fmt.Fprintf(svg, `<text x="%.0f" y="%.0f" fill="#d8d9da" font-size="12" font-weight="bold">%s</text>`+"\n", x+8, y+16, html.EscapeString(p.Title))
	legendRows := min(len(all), 4)
	px, py, pw, ph := x+55, y+26, w-65, h-26-18-float64(legendRows)*13
	hi := 0.0
	for _, s := range all {
		for _, v := range s.values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				hi = max(hi, v)
			}
		}
	}
	if hi == 0 {
		hi = 1
	}
	for i := 0; i <= 4; i++ {
		gy := py + ph - ph*float64(i)/4
		fmt.Fprintf(svg, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#2c3235"/>`+"\n", px, gy, px+pw, gy)
		fmt.Fprintf(svg, `<text x="%.0f" y="%.1f" fill="#9fa7b3" text-anchor="end">%s</text>`+"\n", px-4, gy+4, format(hi*float64(i)/4, p.FieldConfig.Defaults.Unit))
	}
	span := end.Sub(start).Seconds()
	for i := 0; i <= 4; i++ {
		t := start.Add(time.Duration(float64(i) / 4 * span * float64(time.Second)))
		anchor := map[int]string{0: "start", 4: "end"}[i]
		if anchor == "" {
			anchor = "middle"
		}
		fmt.Fprintf(svg, `<text x="%.1f" y="%.0f" fill="#9fa7b3" text-anchor="%s">%s</text>`+"\n", px+pw*float64(i)/4, py+ph+14, anchor, t.UTC().Format("15:04:05"))
	}
	if len(all) == 0 {
		fmt.Fprintf(svg, `<text x="%.0f" y="%.0f" fill="#9fa7b3" text-anchor="middle">no data</text>`+"\n", px+pw/2, py+ph/2)
	}
	for i, s := range all {
		color := palette[i%len(palette)]
		var path strings.Builder
		pen := false
		for j, v := range s.values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				pen = false
				continue
			}
			cx := px + pw*(s.ts[j]-float64(start.Unix()))/span
			cy := py + ph - ph*v/hi
			if pen {
				fmt.Fprintf(&path, " L%.1f,%.1f", cx, cy)
			} else {
				fmt.Fprintf(&path, " M%.1f,%.1f", cx, cy)
				pen = true
			}
		}
		fmt.Fprintf(svg, `<path d="%s" fill="none" stroke="%s" stroke-width="1.5"/>`+"\n", strings.TrimSpace(path.String()), color)
		if i < legendRows*2 {
			lx := x + 10 + float64(i%2)*w/2
			ly := py + ph + 28 + float64(i/2)*13
			name := s.name
			if i == legendRows*2-1 && len(all) > legendRows*2 {
				name = fmt.Sprintf("… and %d more", len(all)-i)
				color = "#9fa7b3"
			}
			fmt.Fprintf(svg, `<rect x="%.0f" y="%.0f" width="10" height="3" fill="%s"/><text x="%.0f" y="%.0f" fill="#ccccdc">%s</text>`+"\n", lx, ly-4, color, lx+14, ly, html.EscapeString(trunc(name, 48)))
		}
	}
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// format renders an axis value in the panel's unit.
func format(v float64, unit string) string {
	switch unit {
	case "bytes":
		switch {
		case v >= 1<<20:
			return fmt.Sprintf("%.1f MiB", v/(1<<20))
		case v >= 1<<10:
			return fmt.Sprintf("%.0f KiB", v/(1<<10))
		}
		return fmt.Sprintf("%.0f B", v)
	case "s":
		if v < 1 {
			return fmt.Sprintf("%.0f ms", v*1000)
		}
		return fmt.Sprintf("%.1f s", v)
	case "ops", "reqps":
		return short(v) + "/s"
	}
	return short(v)
}

func short(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v >= 10 || v == 0:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
