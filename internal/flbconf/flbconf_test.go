package flbconf

import (
	"os"
	"path/filepath"
	"testing"
)

// --- the parser's own tests ------------------------------------------------

func TestParseClassic(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("inc.conf", "[OUTPUT]\n    Name  sqs\n    Match *\n")
	main := write("main.conf", "@SET A=1\n# comment\n[SERVICE]\n    Flush 1\n\n[INPUT]\n    # indented comment\n    Name eventing\n    Port ${A}\n@INCLUDE inc.conf\n")
	p, err := ParseClassic(main)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Instances) != 2 || p.Instances[0].Name != "eventing" || p.Instances[1].Name != "sqs" || p.Instances[1].Kind != "output" {
		t.Fatalf("instances %+v", p.Instances)
	}
	if Get(p.Instances[0].Props, "port") != "${A}" || Get(p.Service, "flush") != "1" || len(p.Defined) != 1 {
		t.Fatalf("parsed %+v", p)
	}
	for name, bad := range map[string]string{
		"outside.conf":  "Name x\n",
		"tab.conf":      "[INPUT]\n\tName x\n",
		"mixed.conf":    "[INPUT]\n    Name x\n  Tag y\n",
		"noval.conf":    "[INPUT]\n    Name\n",
		"unknown.conf":  "[INPUTS]\n    Name x\n",
		"noname.conf":   "[INPUT]\n    Tag x\n",
		"noinc.conf":    "@INCLUDE missing.conf\n",
		"loop.conf":     "@INCLUDE loop.conf\n",
		"indented.conf": "  [INPUT]\n    Name x\n",
	} {
		if _, err := ParseClassic(write(name, bad)); err == nil {
			t.Errorf("%s: no error for %q", name, bad)
		}
	}
}

func TestParseYAML(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.yaml")
	os.WriteFile(p, []byte("env:\n  A: 1\nservice:\n  flush: 1\npipeline:\n  inputs:\n    - name: eventing\n      port: ${A}\n      processors:\n        logs:\n          - name: content_modifier\n"), 0o644)
	got, err := ParseYAML(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Instances) != 1 || Get(got.Instances[0].Props, "port") != "${A}" || got.Defined[0] != "A" {
		t.Fatalf("parsed %+v", got)
	}
	os.WriteFile(p, []byte("pipline:\n  inputs: []\n"), 0o644)
	if _, err := ParseYAML(p); err == nil {
		t.Error("no error for a misspelt top-level section")
	}
}
