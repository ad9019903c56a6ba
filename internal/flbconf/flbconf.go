// Package flbconf reads Fluent Bit pipeline files, classic (.conf) and
// YAML, as the engine lays them out: the [SERVICE] entries, each input,
// filter and output with its properties as written (variables left
// unexpanded), includes resolved. The conf tests check the shipped files
// with it, and the engine tests read from it what the shipped files set.
package flbconf

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Prop is one property as written.
type Prop struct {
	Key, Value string
	Where      string // file:line
}

// Instance is one [INPUT] / [OUTPUT] / [FILTER] section or pipeline entry.
type Instance struct {
	Kind  string // input, output, filter
	Name  string // lower case
	Props []Prop // without Name
	Where string
}

// Pipeline is one configuration file, its includes resolved.
type Pipeline struct {
	File      string
	Service   []Prop
	Instances []Instance
	Plugins   []string // [PLUGINS] Path / plugins:
	Defined   []string // variables defined by the file itself (@SET, env:)
}

// --- classic format --------------------------------------------------------

var sectionRe = regexp.MustCompile(`^\[([A-Za-z_]+)\]$`)

// ParseClassic reads a classic-format file: [SECTION] headers, indented
// "Key value" lines, comment lines starting with #, @INCLUDE FILE (relative
// to the including file, wildcards allowed) and @SET KEY=VALUE.
func ParseClassic(path string) (*Pipeline, error) {
	p := &Pipeline{File: path}
	if err := parseClassicInto(p, path, map[string]bool{}); err != nil {
		return nil, err
	}
	return p, nil
}

// openOnce opens a configuration file unless seen holds it already: a file
// included twice is an include loop.
func openOnce(path string, seen map[string]bool) (*os.File, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if seen[abs] {
		return nil, fmt.Errorf("%s: included twice (an include loop?)", path)
	}
	seen[abs] = true
	return os.Open(path)
}

func parseClassicInto(p *Pipeline, path string, seen map[string]bool) error {
	f, err := openOnce(path, seen)
	if err != nil {
		return err
	}
	defer f.Close()

	var section string // upper case, "" before the first header
	var inst *Instance
	var svc *[]Prop
	indent := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		where := fmt.Sprintf("%s:%d", path, n)
		raw := strings.TrimRight(sc.Text(), " \t\r")
		line := strings.TrimLeft(raw, " \t")
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "@INCLUDE "):
			pattern := strings.TrimSpace(strings.TrimPrefix(line, "@INCLUDE "))
			if !filepath.IsAbs(pattern) {
				pattern = filepath.Join(filepath.Dir(path), pattern)
			}
			files, err := filepath.Glob(pattern)
			if err != nil || len(files) == 0 {
				return fmt.Errorf("%s: @INCLUDE %s: no such file", where, pattern)
			}
			for _, inc := range files {
				if err := parseClassicInto(p, inc, seen); err != nil {
					return err
				}
			}
			inst, svc, section = nil, nil, ""
			continue
		case strings.HasPrefix(line, "@SET "):
			k, _, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "@SET ")), "=")
			if !ok {
				return fmt.Errorf("%s: @SET wants KEY=VALUE", where)
			}
			p.Defined = append(p.Defined, strings.TrimSpace(k))
			continue
		}
		if m := sectionRe.FindStringSubmatch(line); m != nil {
			if line != raw {
				return fmt.Errorf("%s: a section header must not be indented", where)
			}
			section = strings.ToUpper(m[1])
			inst, svc = nil, nil
			switch section {
			case "SERVICE":
				svc = &p.Service
			case "INPUT", "OUTPUT", "FILTER":
				p.Instances = append(p.Instances, Instance{Kind: strings.ToLower(section), Where: where})
				inst = &p.Instances[len(p.Instances)-1]
			case "PLUGINS", "PARSER", "MULTILINE_PARSER", "UPSTREAM", "NODE", "CUSTOM":
			default:
				return fmt.Errorf("%s: unknown section [%s]", where, m[1])
			}
			continue
		}
		if section == "" {
			return fmt.Errorf("%s: %q is outside any section", where, line)
		}
		ind := raw[:len(raw)-len(line)]
		if ind == "" || strings.Contains(ind, "\t") {
			return fmt.Errorf("%s: an entry must be indented with spaces", where)
		}
		if indent == "" {
			indent = ind
		} else if ind != indent {
			return fmt.Errorf("%s: indentation %d differs from the file's %d spaces", where, len(ind), len(indent))
		}
		key, value, _ := strings.Cut(line, " ")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if value == "" {
			return fmt.Errorf("%s: key %q has no value", where, key)
		}
		e := Prop{Key: strings.ToLower(key), Value: value, Where: where}
		switch {
		case svc != nil:
			*svc = append(*svc, e)
		case inst != nil && e.Key == "name":
			if inst.Name != "" {
				return fmt.Errorf("%s: Name set twice", where)
			}
			inst.Name = strings.ToLower(value)
		case inst != nil:
			inst.Props = append(inst.Props, e)
		case section == "PLUGINS" && e.Key == "path":
			p.Plugins = append(p.Plugins, value)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	for _, in := range p.Instances {
		if in.Name == "" {
			return fmt.Errorf("%s: section without Name", in.Where)
		}
	}
	return nil
}

// --- YAML format -----------------------------------------------------------

type yamlFile struct {
	Env              map[string]any   `yaml:"env"`
	Includes         []string         `yaml:"includes"`
	Service          yaml.Node        `yaml:"service"`
	Plugins          []string         `yaml:"plugins"`
	Parsers          []map[string]any `yaml:"parsers"`
	MultilineParsers []map[string]any `yaml:"multiline_parsers"`
	Customs          []map[string]any `yaml:"customs"`
	UpstreamServers  []map[string]any `yaml:"upstream_servers"`
	Pipeline         struct {
		Inputs  []yaml.Node `yaml:"inputs"`
		Filters []yaml.Node `yaml:"filters"`
		Outputs []yaml.Node `yaml:"outputs"`
	} `yaml:"pipeline"`
}

// Parse parses a classic (.conf) or YAML pipeline file.
func Parse(path string) (*Pipeline, error) {
	if strings.HasSuffix(path, ".conf") {
		return ParseClassic(path)
	}
	return ParseYAML(path)
}

// ParseYAML reads a YAML pipeline file: env, includes (relative to the
// including file), service, plugins and the pipeline's inputs, filters and
// outputs; a misspelt top-level section is an error.
func ParseYAML(path string) (*Pipeline, error) {
	p := &Pipeline{File: path}
	if err := parseYAMLInto(p, path, map[string]bool{}); err != nil {
		return nil, err
	}
	return p, nil
}

func parseYAMLInto(p *Pipeline, path string, seen map[string]bool) error {
	f, err := openOnce(path, seen)
	if err != nil {
		return err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true) // a misspelt top-level section is an error
	var y yamlFile
	if err := dec.Decode(&y); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	for k := range y.Env {
		p.Defined = append(p.Defined, k)
	}
	p.Plugins = append(p.Plugins, y.Plugins...)
	svc, err := yamlProps(path, &y.Service)
	if err != nil {
		return err
	}
	p.Service = append(p.Service, svc...)
	for _, group := range []struct {
		kind  string
		nodes []yaml.Node
	}{{"input", y.Pipeline.Inputs}, {"filter", y.Pipeline.Filters}, {"output", y.Pipeline.Outputs}} {
		for i := range group.nodes {
			n := &group.nodes[i]
			kvs, err := yamlProps(path, n)
			if err != nil {
				return err
			}
			in := Instance{Kind: group.kind, Where: fmt.Sprintf("%s:%d", path, n.Line)}
			for _, e := range kvs {
				if e.Key == "name" {
					in.Name = strings.ToLower(e.Value)
					continue
				}
				in.Props = append(in.Props, e)
			}
			if in.Name == "" {
				return fmt.Errorf("%s: %s without name", in.Where, group.kind)
			}
			p.Instances = append(p.Instances, in)
		}
	}
	for _, inc := range y.Includes {
		if !filepath.IsAbs(inc) {
			inc = filepath.Join(filepath.Dir(path), inc)
		}
		if err := parseYAMLInto(p, inc, seen); err != nil {
			return err
		}
	}
	return nil
}

// yamlProps returns the scalar entries of a mapping node; the processors
// entry (a nested mapping) is kept as one property with no value.
func yamlProps(path string, n *yaml.Node) ([]Prop, error) {
	if n.Kind == 0 {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping", path, n.Line)
	}
	var out []Prop
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		e := Prop{Key: strings.ToLower(k.Value), Where: fmt.Sprintf("%s:%d", path, k.Line)}
		switch {
		case v.Kind == yaml.ScalarNode:
			e.Value = v.Value
		case e.Key == "processors":
		default:
			return nil, fmt.Errorf("%s: %s is not a scalar", e.Where, k.Value)
		}
		out = append(out, e)
	}
	return out, nil
}

// Get returns the value of key (lower case) among props, "" when unset.
func Get(props []Prop, key string) string {
	for _, p := range props {
		if p.Key == key {
			return p.Value
		}
	}
	return ""
}
