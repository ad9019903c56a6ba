// Package conf_test checks the ready pipelines under conf/. Without a Fluent
// Bit, the tests parse every classic (.conf) and YAML (.yaml) file here and
// check that
//
//   - every key of a section of one of our plugins is a Fluent Bit core
//     property or a property the plugin declares;
//   - every ${VAR} is exported by scripts/demo (the classic format has no
//     default syntax, so an unset variable breaks the pipeline);
//   - the classic and YAML twins of a pipeline set the same plugins with the
//     same properties;
//   - the pipelines are the lose-nothing kind (filesystem buffering,
//     unlimited retries);
//   - every forward input sets tag_prefix, and no sqs output's
//     contract_match trusts a tag it can produce;
//   - conf/model.yaml is a valid data model.
package conf_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/inputs/eventing"
	insqs "github.com/whirlpool-events/whirlpool/inputs/sqs"
	"github.com/whirlpool-events/whirlpool/internal/flbconf"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/props"
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
	outsqs "github.com/whirlpool-events/whirlpool/outputs/sqs"
)

// ourPlugins maps "input/NAME" and "output/NAME" to the plugin's declared
// properties.
var ourPlugins = map[string]props.Set{
	"input/eventing":  eventing.Properties,
	"input/sqs":       insqs.Properties,
	"output/sqs":      outsqs.Properties,
	"output/redshift": redshift.PluginProperties,
}

// sectionKeys are keys of every section that are not properties.
var sectionKeys = []string{"name", "processors"}

// isCore reports whether Fluent Bit keeps key for itself: a section key, or a
// core property of the kind (plugin.IsCoreKey, the one list of them).
func isCore(kind, key string) bool {
	for _, k := range sectionKeys {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return plugin.IsCoreKey(kind == "input", key)
}

// The files are read by internal/flbconf; these names keep the tests short.
type (
	kv       = flbconf.Prop
	instance = flbconf.Instance
	pipeline = flbconf.Pipeline
)

var (
	parseClassic = flbconf.ParseClassic
	parseYAML    = flbconf.ParseYAML
	parseFile    = flbconf.Parse
	get          = flbconf.Get
)

// --- loading every file ------------------------------------------------------

// confFiles lists the configuration files under conf/ (the directory of
// this test), model files and plugin lists aside.
func confFiles(t *testing.T) (classic, yamls []string) {
	t.Helper()
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case filepath.Base(path) == "model.yaml":
		case strings.HasSuffix(path, ".conf"):
			classic = append(classic, path)
		case strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml"):
			yamls = append(yamls, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(classic) == 0 || len(yamls) == 0 {
		t.Fatalf("no configuration files found (classic %v, yaml %v)", classic, yamls)
	}
	return classic, yamls
}

func loadAll(t *testing.T) []*pipeline {
	t.Helper()
	classic, yamls := confFiles(t)
	var all []*pipeline
	for _, f := range classic {
		p, err := parseClassic(f)
		if err != nil {
			t.Fatalf("classic parse: %v", err)
		}
		all = append(all, p)
	}
	for _, f := range yamls {
		p, err := parseYAML(f)
		if err != nil {
			t.Fatalf("yaml parse: %v", err)
		}
		all = append(all, p)
	}
	return all
}

// --- the checks --------------------------------------------------------------

func TestPluginPropertyNames(t *testing.T) {
	checked := map[string]int{}
	for _, p := range loadAll(t) {
		for _, problem := range propertyProblems(p, checked) {
			t.Error(problem)
		}
	}
	for name := range ourPlugins {
		if checked[name] == 0 {
			t.Errorf("no pipeline under conf/ uses the %s plugin", name)
		}
	}
}

// propertyProblems is the property check: every property set on an
// instance of our plugins is set once and is either Fluent Bit's own or
// one the plugin declares (Fluent Bit refuses to start on any other). It
// counts the instances it checked per kind/name in checked.
func propertyProblems(p *pipeline, checked map[string]int) []string {
	var problems []string
	for _, in := range p.Instances {
		set, ours := ourPlugins[in.Kind+"/"+in.Name]
		if !ours {
			continue
		}
		checked[in.Kind+"/"+in.Name]++
		seen := map[string]string{}
		for _, e := range in.Props {
			if prev, dup := seen[e.Key]; dup {
				problems = append(problems, fmt.Sprintf("%s: %s set again (first at %s)", e.Where, e.Key, prev))
			}
			seen[e.Key] = e.Where
			if isCore(in.Kind, e.Key) {
				continue
			}
			if _, ok := set.Lookup(e.Key); !ok {
				problems = append(problems, fmt.Sprintf("%s: %q is neither a Fluent Bit %s property nor a property of the %s %s plugin (a typo? Fluent Bit refuses to start)",
					e.Where, e.Key, in.Kind, in.Name, in.Kind))
			}
		}
	}
	return problems
}

var varRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}`)

// demoExports returns the variables scripts/demo exports.
func demoExports(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../scripts/demo")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s*export\s+([A-Za-z_][A-Za-z0-9_]*)=`).FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = true
	}
	if len(out) == 0 {
		t.Fatal("scripts/demo exports no variable")
	}
	return out
}

func TestEnvVarsExportedByDemo(t *testing.T) {
	exported := demoExports(t)
	for _, p := range loadAll(t) {
		defined := map[string]bool{"HOSTNAME": true} // predefined by Fluent Bit
		for _, d := range p.Defined {
			defined[d] = true
		}
		var all []kv
		all = append(all, p.Service...)
		for _, in := range p.Instances {
			all = append(all, in.Props...)
		}
		for _, pl := range p.Plugins {
			if varRe.MatchString(pl) {
				t.Errorf("%s: plugin path %q: Fluent Bit does not expand variables in plugin paths", p.File, pl)
			}
		}
		for _, e := range all {
			for _, m := range varRe.FindAllStringSubmatch(e.Value, -1) {
				if !exported[m[1]] && !defined[m[1]] {
					t.Errorf("%s: ${%s} is not exported by scripts/demo", e.Where, m[1])
				}
			}
			// password_env names a variable the plugin reads itself.
			if e.Key == "password_env" && !exported[e.Value] {
				t.Errorf("%s: password_env %s is not exported by scripts/demo", e.Where, e.Value)
			}
		}
	}
}

func TestClassicAndYAMLAgree(t *testing.T) {
	classic, yamls := confFiles(t)
	pairs := 0
	for _, c := range classic {
		y := strings.TrimSuffix(c, ".conf") + ".yaml"
		if _, err := os.Stat(y); err != nil {
			continue
		}
		pairs++
		pc, err := parseClassic(c)
		if err != nil {
			t.Fatal(err)
		}
		py, err := parseYAML(y)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := propMap(pc.Service), propMap(py.Service); a != b {
			t.Errorf("service of %s and %s differ:%s", c, y, diff(a, b))
		}
		if len(pc.Instances) != len(py.Instances) {
			t.Errorf("%s has %d plugin instances, %s has %d", c, len(pc.Instances), y, len(py.Instances))
			continue
		}
		for i := range pc.Instances {
			a, b := pc.Instances[i], py.Instances[i]
			if a.Kind != b.Kind || a.Name != b.Name {
				t.Errorf("%s is %s %s, %s is %s %s", a.Where, a.Kind, a.Name, b.Where, b.Kind, b.Name)
				continue
			}
			if pa, pb := propMap(a.Props), propMap(b.Props); pa != pb {
				t.Errorf("%s %s: %s and %s set different properties:%s", a.Kind, a.Name, a.Where, b.Where, diff(pa, pb))
			}
		}
	}
	for _, want := range []string{"edge", "processor", "processor-redshift"} {
		if !contains(classic, want+".conf") || !contains(yamls, want+".yaml") {
			t.Errorf("want both %s.conf and %s.yaml", want, want)
		}
	}
	if pairs < 2 {
		t.Errorf("found %d classic/YAML pairs, want at least 2", pairs)
	}
}

// propMap renders properties as sorted key=value lines; values compare
// case-insensitively for on/off-like words only.
func propMap(kvs []kv) string {
	var lines []string
	for _, e := range kvs {
		v := e.Value
		switch strings.ToLower(v) {
		case "on", "off", "true", "false", "yes", "no":
			v = strings.ToLower(v)
		}
		lines = append(lines, e.Key+"="+v)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// diff lists the lines only in a (classic) or only in b (YAML).
func diff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for _, l := range strings.Split(a, "\n") {
		if !mb[l] {
			out = append(out, "\n  only in classic: "+l)
		}
	}
	for _, l := range strings.Split(b, "\n") {
		if !ma[l] {
			out = append(out, "\n  only in YAML:    "+l)
		}
	}
	return strings.Join(out, "")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestPipelinesLoseNothing: the edge and processor pipelines buffer on disk,
// run our inputs non-threaded (threaded, the engine's cleanup, and so a 200
// or an SQS delete, comes before the records are in a chunk) and never give
// up retrying (Retry_Limit defaults to 1 for every output).
func TestPipelinesLoseNothing(t *testing.T) {
	for _, f := range []string{"edge.conf", "edge.yaml", "processor.conf", "processor.yaml", "processor-redshift.conf", "processor-redshift.yaml"} {
		p, err := parseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if get(p.Service, "storage.path") == "" {
			t.Errorf("%s: no storage.path in the service section", f)
		}
		for _, in := range p.Instances {
			switch in.Kind {
			case "input":
				if v := get(in.Props, "storage.type"); !strings.EqualFold(v, "filesystem") {
					t.Errorf("%s: input %s: storage.type %q, want filesystem", in.Where, in.Name, v)
				}
				if _, ours := ourPlugins["input/"+in.Name]; ours && !strings.EqualFold(get(in.Props, "threaded"), "off") {
					t.Errorf("%s: input %s: threaded %q, want off", in.Where, in.Name, get(in.Props, "threaded"))
				}
			case "output":
				if v := strings.ToLower(get(in.Props, "retry_limit")); v != "no_limits" && v != "false" {
					t.Errorf("%s: output %s: Retry_Limit %q, want no_limits", in.Where, in.Name, v)
				}
				if get(in.Props, "workers") == "" {
					t.Errorf("%s: output %s: no Workers", in.Where, in.Name)
				}
			}
			if _, ours := ourPlugins[in.Kind+"/"+in.Name]; ours && get(in.Props, "metrics_port") == "" {
				t.Errorf("%s: %s %s: no metrics_port", in.Where, in.Kind, in.Name)
			}
		}
	}
}

// TestPluginLists: plugins.conf and plugins.yaml name every plugin the
// Makefile builds (plugins/in_* and plugins/out_*), once.
func TestPluginLists(t *testing.T) {
	var want []string
	for _, pat := range []string{"../plugins/in_*", "../plugins/out_*"} {
		dirs, _ := filepath.Glob(pat)
		for _, d := range dirs {
			want = append(want, filepath.Base(d)+".so")
		}
	}
	sort.Strings(want)
	if len(want) != 4 {
		t.Fatalf("plugins/ has %v, want the four plugins", want)
	}
	pc, err := parseClassic("plugins.conf")
	if err != nil {
		t.Fatal(err)
	}
	py, err := parseYAML("plugins.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*pipeline{pc, py} {
		var got []string
		for _, path := range p.Plugins {
			if !filepath.IsAbs(path) {
				t.Errorf("%s: %s is relative: dlopen would resolve it against Fluent Bit's working directory", p.File, path)
			}
			got = append(got, filepath.Base(path))
		}
		sort.Strings(got)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s lists %v, want %v", p.File, got, want)
		}
	}
}

func TestModel(t *testing.T) {
	m, err := validate.LoadFile("model.yaml")
	if err != nil {
		t.Fatal(err)
	}
	warnings, err := m.Check()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warnings {
		t.Errorf("model.yaml: warning: %s", w)
	}
	// What the demo relies on: two definition versions, an expand field,
	// an event with two destinations.
	var expand, twoDest bool
	for _, g := range m.Games {
		for _, e := range g.Events {
			for _, d := range e.Definitions {
				if len(d.Destinations) >= 2 {
					twoDest = true
				}
				for _, f := range d.Fields {
					if f.Expand {
						expand = true
					}
				}
			}
		}
	}
	if !expand || !twoDest {
		t.Errorf("model.yaml: expand field %v, event with two destinations %v; want both", expand, twoDest)
	}
}

// TestTypoIsCaught feeds configurations through the property check
// TestPluginPropertyNames runs on conf/ (propertyProblems), in both formats,
// and asserts it reports a misspelt property and nothing else: property
// names are matched case-insensitively, and Fluent Bit's own properties are
// known per kind (retry_limit is an output's, not an input's).
func TestTypoIsCaught(t *testing.T) {
	for _, tc := range []struct {
		name    string
		kind    string // input or output
		plugin  string
		key     string
		flagged bool
	}{
		{"misspelt", "output", "sqs", "queue_ulr", true},
		{"spelt right", "output", "sqs", "queue_url", false},
		{"other case", "output", "sqs", "QUEUE_URL", false},
		{"core of outputs", "output", "sqs", "retry_limit", false},
		{"core of outputs on an input", "input", "sqs", "retry_limit", true},
		{"misspelt on an input", "input", "eventing", "prot", true},
	} {
		for _, format := range []string{"classic", "yaml"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				p, err := parseFile(writeOneInstance(t, format, tc.kind, tc.plugin, tc.key))
				if err != nil {
					t.Fatal(err)
				}
				checked := map[string]int{}
				problems := propertyProblems(p, checked)
				if checked[tc.kind+"/"+tc.plugin] != 1 {
					t.Fatalf("the check saw %v, want one %s/%s", checked, tc.kind, tc.plugin)
				}
				flagged := len(problems) == 1 && strings.Contains(problems[0], strconv.Quote(tc.key))
				if flagged != tc.flagged || len(problems) > 1 {
					t.Errorf("%s %q on the %s %s: problems %q, want flagged=%v", format, tc.key, tc.plugin, tc.kind, problems, tc.flagged)
				}
			})
		}
	}
}

// writeOneInstance writes a configuration of one instance of plugin with
// one property, key, in the given format, and returns its path.
func writeOneInstance(t *testing.T, format, kind, plugin, key string) string {
	t.Helper()
	var path, text string
	switch format {
	case "classic":
		path = filepath.Join(t.TempDir(), "typo.conf")
		text = "[" + strings.ToUpper(kind) + "]\n    Name " + plugin + "\n    " + key + " x\n"
	default:
		path = filepath.Join(t.TempDir(), "typo.yaml")
		text = "pipeline:\n  " + kind + "s:\n    - name: " + plugin + "\n      " + key + ": x\n"
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// demoEnv returns the defaults scripts/demo gives the variables, read from
// its export lines, for values that are plain text (no other variable).
func demoDefaults(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../scripts/demo")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	re := regexp.MustCompile(`(?m)^export ([A-Z_][A-Z0-9_]*)="\$\{[A-Z_0-9]+:-([^"$]*)\}"$`)
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = m[2]
	}
	return out
}

type mapConfig map[string]string

func (m mapConfig) Get(k string) string { return m[strings.ToLower(k)] }

// TestEdgeSQSOutputConfig parses the edge's sqs output properties with the
// sqs output's own parser (variables replaced by plausible values), and
// checks that its tag_regex reads the tags scripts/loadgen sends over the
// Forward protocol, whirlpool.<game>.<event>.<version> (ForwardSender.Tag),
// as the forward input passes them on: behind its tag_prefix.
func TestEdgeSQSOutputConfig(t *testing.T) {
	defaults := demoDefaults(t)
	for _, f := range []string{"edge.conf", "edge.yaml"} {
		p, err := parseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range p.Instances {
			if in.Kind != "output" || in.Name != "sqs" {
				continue
			}
			cfg := mapConfig{}
			for _, e := range in.Props {
				cfg[e.Key] = varRe.ReplaceAllStringFunc(e.Value, func(v string) string {
					name := varRe.FindStringSubmatch(v)[1]
					if d, ok := defaults[name]; ok {
						return d
					}
					switch {
					case strings.HasSuffix(name, "_PORT"):
						return "9102"
					case strings.HasSuffix(name, "_QUEUE_URL"):
						return "http://127.0.0.1:4566/123456789012/whirlpool-events"
					case strings.HasSuffix(name, "_ENDPOINT"):
						return "http://127.0.0.1:4566"
					}
					return "x"
				})
			}
			c, err := outsqs.ParseConfig(cfg)
			if err != nil {
				t.Fatalf("%s: %v", in.Where, err)
			}
			if !c.Keys.On || c.Keys.TagRegex == nil {
				t.Fatalf("%s: enrich %v, tag_regex %v", in.Where, c.Keys.On, c.Keys.TagRegex)
			}
			for tag, want := range map[string][3]string{
				"whirlpool.pixel_quest.level_complete.1.4.2": {"pixel_quest", "1.4.2", "level_complete"},
				"whirlpool.pixel_quest.teleport.0.9.3":       {"pixel_quest", "0.9.3", "teleport"},
				"whirlpool.pixel_quest.purchase.2.0.3":       {"pixel_quest", "2.0.3", "purchase"},
			} {
				tag = forwardPrefix(t, p) + tag // what the forward input makes of the client's tag
				m := c.Keys.TagRegex.FindStringSubmatch(tag)
				if m == nil {
					t.Errorf("%s: tag_regex does not match %s", in.Where, tag)
					continue
				}
				got := [3]string{m[c.Keys.TagRegex.SubexpIndex("game")], m[c.Keys.TagRegex.SubexpIndex("version")], m[c.Keys.TagRegex.SubexpIndex("event")]}
				if got != want {
					t.Errorf("%s: tag %s gives game, version, event %v, want %v", in.Where, tag, got, want)
				}
			}
			if c.Keys.TagRegex.MatchString("events") {
				t.Errorf("%s: tag_regex matches the eventing input's tag", in.Where)
			}
			if !c.Trusts("events") {
				t.Errorf("%s: contract_match %q does not trust the eventing input's tag", in.Where, c.ContractMatch)
			}
		}
	}
}

// forwardPrefix returns the tag_prefix of the pipeline's one forward input.
func forwardPrefix(t *testing.T, p *pipeline) string {
	t.Helper()
	var prefixes []string
	for _, in := range p.Instances {
		if in.Kind == "input" && in.Name == "forward" && get(in.Props, "unix_path") == "" {
			prefixes = append(prefixes, get(in.Props, "tag_prefix"))
		}
	}
	if len(prefixes) != 1 {
		t.Fatalf("%s: %d forward inputs for clients (not on a unix socket), want 1", p.File, len(prefixes))
	}
	return prefixes[0]
}

// eventingOnly reports whether forward input in listens on a unix socket
// only (no listen or port of its own), of mode 0600, which an eventing
// input of p names as its forward_unix_path.
func eventingOnly(p *pipeline, in instance) bool {
	path := get(in.Props, "unix_path")
	if path == "" || get(in.Props, "listen") != "" || get(in.Props, "port") != "" || get(in.Props, "unix_perm") != "0600" {
		return false
	}
	for _, other := range p.Instances {
		if other.Kind == "input" && other.Name == "eventing" && get(other.Props, "forward_unix_path") == path {
			return true
		}
	}
	return false
}

// TestForwardTagsAreNeverTrusted: the sqs output lets records of the tags
// in its contract_match keep their own uuid and fired_ts, so no Forward
// client may send under such a tag. Every forward input must set
// tag_prefix (the engine then prefixes every tag a client sends), and no
// contract_match pattern of the pipeline may match any tag starting with
// it; or a Tag of its own (the engine gives every record that tag) that no
// pattern matches (or, for the eventing input's forward path, a unix
// socket only that input writes to). Every eventing input's tag must
// match, or its records would be wrapped a second time.
func TestForwardTagsAreNeverTrusted(t *testing.T) {
	forwards := 0
	for _, p := range loadAll(t) {
		var patterns []string
		for _, in := range p.Instances {
			if in.Kind == "output" && in.Name == "sqs" {
				v := get(in.Props, "contract_match")
				if v == "" {
					v = outsqs.DefaultContractMatch
				}
				patterns = append(patterns, strings.Fields(v)...)
			}
		}
		for _, in := range p.Instances {
			if in.Kind != "input" {
				continue
			}
			switch in.Name {
			case "forward":
				forwards++
				prefix := get(in.Props, "tag_prefix")
				if tag := get(in.Props, "tag"); prefix == "" && tag != "" {
					// A Tag of its own: every record gets it, whatever
					// its client sends (the processor's, fed by its sqs
					// input), so it must not be a tag contract_match
					// trusts, unless only the eventing input can write to
					// it: a unix socket of this user's alone (no TCP
					// listener), the eventing input's forward_unix_path.
					for _, pat := range patterns {
						if outsqs.MatchTag(pat, tag) && !eventingOnly(p, in) {
							t.Errorf("%s: the forward input's Tag %q is in contract_match %q, and it is not a unix socket of mode 0600 only an eventing input's forward_unix_path writes to", in.Where, tag, pat)
						}
					}
					continue
				}
				if prefix == "" {
					t.Errorf("%s: forward input without tag_prefix or a Tag of its own: a client could send under a tag contract_match trusts", in.Where)
					continue
				}
				for _, pat := range patterns {
					if canMatchPrefixed(pat, prefix) {
						t.Errorf("%s: contract_match pattern %q matches tags starting with the forward input's tag_prefix %q", in.Where, pat, prefix)
					}
				}
			case "eventing":
				tag := get(in.Props, "tag")
				if tag == "" {
					tag = "eventing.0" // Fluent Bit's tag for an input without one
				}
				trusted := false
				for _, pat := range patterns {
					trusted = trusted || outsqs.MatchTag(pat, tag)
				}
				if len(patterns) > 0 && !trusted {
					t.Errorf("%s: eventing tag %q is not in the sqs output's contract_match %q", in.Where, tag, patterns)
				}
			}
		}
	}
	if forwards == 0 {
		t.Error("no pipeline under conf/ has a forward input: the test checks nothing")
	}
}

// canMatchPrefixed reports whether pattern matches some tag that starts
// with prefix. In a match of prefix+s, the end of prefix falls between two
// pattern characters or inside a '*'; either way a head of the pattern
// matches prefix exactly. Conversely, if pattern[:k] matches prefix, then
// pattern matches prefix followed by pattern[k:] without its stars.
func canMatchPrefixed(pattern, prefix string) bool {
	for k := 0; k <= len(pattern); k++ {
		if outsqs.MatchTag(pattern[:k], prefix) {
			return true
		}
	}
	return false
}

func TestCanMatchPrefixed(t *testing.T) {
	for _, c := range []struct {
		pattern, prefix string
		want            bool
	}{
		{"events", "forward.", false},
		{"eventing.*", "forward.", false},
		{"*", "forward.", true},
		{"forward.*", "forward.", true},
		{"forw*", "forward.", true},
		{"forward.events", "forward.", true},
		{"*.events", "forward.", true},
		{"f", "forward.", false},
		{"forwardx", "forward.", false},
	} {
		if got := canMatchPrefixed(c.pattern, c.prefix); got != c.want {
			t.Errorf("canMatchPrefixed(%q, %q) = %v, want %v", c.pattern, c.prefix, got, c.want)
		}
	}
}

// TestRedshiftProcessorConfig reads the redshift output of the AWS
// processor pipeline (processor-redshift.*) with the output's own parser,
// variables replaced by plausible values: it loads into Amazon Redshift
// with COPY from S3, verifies the server's certificate (sslmode verify-full,
// the default with dialect redshift), takes every deployment value from a
// WHIRLPOOL_* variable, and points both model_dsn at the same store.
func TestRedshiftProcessorConfig(t *testing.T) {
	t.Setenv("WHIRLPOOL_DB_PASSWORD", "secret")
	for _, f := range []string{"processor-redshift.conf", "processor-redshift.yaml"} {
		p, err := parseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var outputs, modelDSNs []string
		for _, in := range p.Instances {
			if v := get(in.Props, "model_dsn"); v != "" {
				modelDSNs = append(modelDSNs, v)
			}
			if in.Kind != "output" || in.Name != "redshift" {
				continue
			}
			outputs = append(outputs, in.Where)
			for _, key := range []string{"db_host", "database", "user", "s3_bucket", "s3_region", "iam_role"} {
				if v := get(in.Props, key); !regexp.MustCompile(`^\$\{WHIRLPOOL_[A-Z0-9_]+\}$`).MatchString(v) {
					t.Errorf("%s: %s %q, want a ${WHIRLPOOL_*} variable", in.Where, key, v)
				}
			}
			if v := get(in.Props, "sslmode"); v != "" && v != "verify-full" {
				t.Errorf("%s: sslmode %s: leave it (verify-full) for Redshift", in.Where, v)
			}
			cfg := mapConfig{}
			for _, e := range in.Props {
				cfg[e.Key] = varRe.ReplaceAllStringFunc(e.Value, func(v string) string {
					switch name := varRe.FindStringSubmatch(v)[1]; name {
					case "WHIRLPOOL_REDSHIFT_HOST":
						return "analytics.abc123.us-east-1.redshift.amazonaws.com"
					case "WHIRLPOOL_S3_BUCKET":
						return "whirlpool-staging"
					case "WHIRLPOOL_REDSHIFT_IAM_ROLE":
						return "arn:aws:iam::123456789012:role/whirlpool-copy"
					case "WHIRLPOOL_MODEL_DSN":
						return "postgres://reader@models.abc.us-east-1.rds.amazonaws.com/whirlpool"
					default:
						if strings.HasSuffix(name, "_PORT") {
							return "9104"
						}
						if strings.HasSuffix(name, "_REGION") {
							return "us-east-1"
						}
						return "x"
					}
				})
			}
			d, method, dsn, err := redshift.CheckConfig(cfg)
			if err != nil {
				t.Fatalf("%s: %v", in.Where, err)
			}
			if d != redshift.Redshift || method != "copy" {
				t.Errorf("%s: dialect %s, load_method %s, want redshift and copy", in.Where, d, method)
			}
			for _, want := range []string{"sslmode=verify-full", "port=5439", "analytics.abc123.us-east-1.redshift.amazonaws.com"} {
				if !strings.Contains(dsn, want) {
					t.Errorf("%s: connects with %s, want %s", in.Where, dsn, want)
				}
			}
		}
		if len(outputs) != 1 {
			t.Errorf("%s: %d redshift outputs, want 1", f, len(outputs))
		}
		if len(modelDSNs) != 2 || modelDSNs[0] != modelDSNs[1] {
			t.Errorf("%s: model_dsn %v, want the same store for the sqs input and the redshift output", f, modelDSNs)
		}
	}
}
