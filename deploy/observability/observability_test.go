// Package observability_test checks the shipped dashboard, alerting rules
// and runbook against the metrics the plugins declare, so that none of
// them can name a metric that does not exist or an alert without a
// runbook.
package observability_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const runbookURL = "https://github.com/whirlpool-events/whirlpool/blob/main/docs/runbook.md"

// declaredMetrics returns the exposed names of every metric the plugins
// declare in their metrics.Func tables (inputs/, outputs/), read from the
// source: Register prefixes each Name with whirlpool_, and a Histogram
// is exposed as _bucket, _sum and _count series. It also returns the base
// names (a histogram's without suffix) for the dashboard's coverage check.
func declaredMetrics(t *testing.T) (series map[string]string, base []string) {
	t.Helper()
	series = map[string]string{}
	fset := token.NewFileSet()
	for _, root := range []string{"../../inputs", "../../outputs"} {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.CompositeLit)
				if !ok || !isFuncTable(lit.Type) {
					return true
				}
				for _, e := range lit.Elts {
					name, histogram := funcEntry(t, fset, e)
					full := "whirlpool_" + name
					base = append(base, full)
					if histogram {
						for _, s := range []string{"_bucket", "_sum", "_count"} {
							series[full+s] = path
						}
					} else {
						series[full] = path
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// The four plugins declare 34 metrics today; far fewer means the
	// parsing above stopped finding the tables.
	if len(base) < 30 {
		t.Fatalf("found only %d declared metrics in inputs/ and outputs/: %v", len(base), base)
	}
	return series, base
}

// isFuncTable reports whether t is []metrics.Func.
func isFuncTable(t ast.Expr) bool {
	arr, ok := t.(*ast.ArrayType)
	if !ok {
		return false
	}
	sel, ok := arr.Elt.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "metrics" && sel.Sel.Name == "Func"
}

// funcEntry reads one metrics.Func literal: its Name and whether it sets
// Histogram.
func funcEntry(t *testing.T, fset *token.FileSet, e ast.Expr) (name string, histogram bool) {
	t.Helper()
	lit, ok := e.(*ast.CompositeLit)
	if !ok {
		t.Fatalf("%s: a metrics.Func table entry that is not a literal", fset.Position(e.Pos()))
	}
	for _, el := range lit.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		switch kv.Key.(*ast.Ident).Name {
		case "Name":
			bl, ok := kv.Value.(*ast.BasicLit)
			if !ok {
				t.Fatalf("%s: a metric Name that is not a string literal", fset.Position(kv.Pos()))
			}
			name, _ = strconv.Unquote(bl.Value)
		case "Histogram":
			histogram = true
		}
	}
	if name == "" {
		t.Fatalf("%s: a metrics.Func without Name", fset.Position(lit.Pos()))
	}
	return name, histogram
}

var metricName = regexp.MustCompile(`whirlpool_[a-z0-9_]+`)

type dashboard struct {
	Panels []struct {
		Title   string
		Targets []struct{ Expr string }
	}
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard.json: %v", err)
	}
	return d
}

type ruleFile struct {
	Groups []struct {
		Name  string
		Rules []struct {
			Alert       string
			Expr        string
			Labels      map[string]string
			Annotations map[string]string
		}
	}
}

func readRules(t *testing.T) ruleFile {
	t.Helper()
	b, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var r ruleFile
	if err := yaml.Unmarshal(b, &r); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	return r
}

// Every whirlpool_ metric the dashboard's queries, the alerting rules and
// the rules' unit tests name is one a plugin declares.
func TestDashboardAndAlertsUseDeclaredMetrics(t *testing.T) {
	declared, _ := declaredMetrics(t)
	check := func(where, text string) {
		for _, m := range metricName.FindAllString(text, -1) {
			if _, ok := declared[m]; !ok {
				t.Errorf("%s: %s is not a metric any plugin declares (inputs/, outputs/: metrics.Func tables)", where, m)
			}
		}
	}
	d := readDashboard(t)
	if len(d.Panels) == 0 {
		t.Fatal("dashboard.json has no panels")
	}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard.json: panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if !metricName.MatchString(q.Expr) {
				t.Errorf("dashboard.json: panel %q: query %q names no whirlpool_ metric", p.Title, q.Expr)
			}
			check("dashboard.json panel "+strconv.Quote(p.Title), q.Expr)
		}
	}
	for _, g := range readRules(t).Groups {
		for _, r := range g.Rules {
			check("alerts.yml alert "+r.Alert, r.Expr)
		}
	}
	tests, err := os.ReadFile("alerts_test.yml")
	if err != nil {
		t.Fatal(err)
	}
	check("alerts_test.yml", string(tests))
}

// The dashboard shows every metric a plugin declares, so a new metric
// gets a panel.
func TestDashboardShowsEveryMetric(t *testing.T) {
	_, base := declaredMetrics(t)
	var all strings.Builder
	for _, p := range readDashboard(t).Panels {
		for _, q := range p.Targets {
			all.WriteString(q.Expr + "\n")
		}
	}
	used := metricName.FindAllString(all.String(), -1)
	for _, m := range base {
		if !slices.ContainsFunc(used, func(u string) bool {
			return u == m || strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(u, "_bucket"), "_sum"), "_count") == m
		}) {
			t.Errorf("dashboard.json shows no panel of %s", m)
		}
	}
}

// Every alert has a severity, a summary, and a runbook_url pointing at its
// own section of docs/runbook.md; every alert section of the runbook is an
// alert.
func TestEveryAlertHasARunbookSection(t *testing.T) {
	b, err := os.ReadFile("../../docs/runbook.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			sections[strings.TrimSpace(h)] = true
		}
	}
	alerts := map[string]bool{}
	for _, g := range readRules(t).Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts[r.Alert] = true
			if s := r.Labels["severity"]; s != "warning" && s != "critical" {
				t.Errorf("alert %s: severity %q, want warning or critical", r.Alert, s)
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("alert %s has no summary annotation", r.Alert)
			}
			if !sections[r.Alert] {
				t.Errorf("alert %s has no section \"## %s\" in docs/runbook.md", r.Alert, r.Alert)
			}
			if want := runbookURL + "#" + strings.ToLower(r.Alert); r.Annotations["runbook_url"] != want {
				t.Errorf("alert %s: runbook_url %q, want %q", r.Alert, r.Annotations["runbook_url"], want)
			}
		}
	}
	if len(alerts) == 0 {
		t.Fatal("alerts.yml has no alerts")
	}
	for s := range sections {
		if strings.HasPrefix(s, "Whirlpool") && !alerts[s] {
			t.Errorf("docs/runbook.md has a section %q for an alert alerts.yml does not have", s)
		}
	}
}

// Every alert is expected to fire in at least one case of alerts_test.yml
// (promtool then proves it does, in TestPromtool).
func TestEveryAlertIsUnitTested(t *testing.T) {
	b, err := os.ReadFile("alerts_test.yml")
	if err != nil {
		t.Fatal(err)
	}
	var tf struct {
		RuleFiles []string `yaml:"rule_files"`
		Tests     []struct {
			AlertRuleTest []struct {
				Alertname string
				ExpAlerts []map[string]any `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		}
	}
	if err := yaml.Unmarshal(b, &tf); err != nil {
		t.Fatalf("alerts_test.yml: %v", err)
	}
	if !slices.Equal(tf.RuleFiles, []string{"alerts.yml"}) {
		t.Errorf("alerts_test.yml tests %v, want [alerts.yml]", tf.RuleFiles)
	}
	fires := map[string]bool{}
	for _, c := range tf.Tests {
		for _, a := range c.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			}
		}
	}
	for _, g := range readRules(t).Groups {
		for _, r := range g.Rules {
			if r.Alert != "" && !fires[r.Alert] {
				t.Errorf("alert %s: no case of alerts_test.yml expects it to fire", r.Alert)
			}
		}
	}
}

// promtool checks the rules and the sample Prometheus configuration and
// runs the rules' unit tests. Without promtool the test skips, unless
// WHIRLPOOL_REQUIRE_PROMTOOL is set (.ci/run sets it after installing
// Debian's prometheus package).
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		msg := "promtool not found on PATH: install it (Debian/Ubuntu: apt-get install prometheus; .ci/run does)"
		if os.Getenv("WHIRLPOOL_REQUIRE_PROMTOOL") != "" {
			t.Fatal(msg + "; WHIRLPOOL_REQUIRE_PROMTOOL is set")
		}
		t.Skip(msg)
	}
	for _, args := range [][]string{
		{"check", "rules", "alerts.yml"},
		{"test", "rules", "alerts_test.yml"},
		{"check", "config", "prometheus.yml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// docs/dashboard.svg, the picture of the dashboard over a real run, shows
// every panel the dashboard has under its current title (redraw it with
// render when the panels change).
func TestDashboardPictureShowsEveryPanel(t *testing.T) {
	b, err := os.ReadFile("../../docs/dashboard.svg")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range readDashboard(t).Panels {
		if !strings.Contains(string(b), ">"+html.EscapeString(p.Title)+"<") {
			t.Errorf("docs/dashboard.svg has no panel %q: redraw it (go run ./deploy/observability/render)", p.Title)
		}
	}
}
