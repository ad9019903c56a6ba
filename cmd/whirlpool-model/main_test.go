package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

const sample = "../../filters/validate/testdata/model.yaml"

func runCmd(args ...string) (code int, out, errOut string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestCheck(t *testing.T) {
	code, out, warn := runCmd("check", sample)
	if code != 0 || !strings.Contains(out, "OK (1 games)") || !strings.Contains(warn, `warning: game "galaxy" event "tutorial_step"`) {
		t.Fatalf("check sample: %d %q", code, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	data, _ := os.ReadFile(sample)
	os.WriteFile(bad, bytes.Replace(data, []byte("name: player_id"), []byte("name: PlayerId"), 1), 0o644)
	code, _, errOut := runCmd("check", bad)
	if code != 1 || !strings.Contains(errOut, `game "galaxy" event "level_up" definition "v1" field "PlayerId": column name`) {
		t.Fatalf("check bad: %d %q", code, errOut)
	}
	if code, _, _ := runCmd("apply", sample); code != 2 {
		t.Fatalf("apply without --dsn: %d", code)
	}
}

func TestApplyRollback(t *testing.T) {
	dsn := testenv.Postgres(t)
	code, out, errOut := runCmd("apply", sample, "--dsn", dsn)
	if code != 0 || !strings.Contains(out, "galaxy/level_up v1: revision 1 (new)") {
		t.Fatalf("apply: %d %q %q", code, out, errOut)
	}
	code, out, _ = runCmd("apply", sample, "--dsn="+dsn)
	if code != 0 || !strings.Contains(out, "no change") {
		t.Fatalf("apply again: %d %q", code, out)
	}
	edited := filepath.Join(t.TempDir(), "model.yaml")
	data, _ := os.ReadFile(sample)
	os.WriteFile(edited, bytes.Replace(data, []byte("max_length: 64"), []byte("max_length: 80"), 1), 0o644)
	code, out, _ = runCmd("apply", edited, "--dsn", dsn)
	if code != 0 || strings.TrimSpace(out) != "galaxy/level_up v1: revision 2 (changed)" {
		t.Fatalf("apply edited: %d %q", code, out)
	}
	code, out, _ = runCmd("rollback", "--dsn", dsn, "galaxy", "level_up", "v1@1")
	if code != 0 || strings.TrimSpace(out) != "galaxy/level_up v1: revision 3 (rollback to revision 1)" {
		t.Fatalf("rollback: %d %q", code, out)
	}
	code, out, _ = runCmd("rollback", "--dsn", dsn, "galaxy", "level_up", "v1@1")
	if code != 0 || !strings.Contains(out, "no change") {
		t.Fatalf("rollback again: %d %q", code, out)
	}
	if code, _, _ := runCmd("rollback", "--dsn", dsn, "galaxy", "level_up", "v1@x"); code != 2 {
		t.Fatalf("bad VERSION: %d", code)
	}
}
