package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/filters/validate"
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

// check prints the warning for a mapping to a label an event lacks and
// still exits 0.
func TestCheckWarnsMissingLabel(t *testing.T) {
	code, out, errOut := runCmd("check", sample)
	if code != 0 || !strings.Contains(out, "OK") ||
		!strings.Contains(errOut, `warning: game "galaxy" mapping #3 ("1\\.3\\.7"): names definition "v2", but event "tutorial_step" has no definition "v2"`) {
		t.Fatalf("check: %d %q %q", code, out, errOut)
	}
}

// retire takes a definition (or every definition of an event) out of use
// with who and why; rollback restores it; export prints the store's model,
// which applies as no change and parses to the model applied.
func TestRetireExport(t *testing.T) {
	dsn := testenv.Postgres(t)
	t.Setenv("USER", "ann")
	if code, _, errOut := runCmd("apply", "../../conf/model.yaml", "--dsn", dsn); code != 0 {
		t.Fatalf("apply: %s", errOut)
	}
	code, out, _ := runCmd("export", "--dsn", dsn)
	if code != 0 {
		t.Fatalf("export: %d", code)
	}
	exported, err := validate.ParseModel([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	file, err := validate.LoadFile("../../conf/model.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := canonical(t, exported), canonical(t, file); got != want {
		t.Fatalf("export differs from conf/model.yaml:\n%s\nwant\n%s", got, want)
	}
	path := filepath.Join(t.TempDir(), "exported.yaml")
	os.WriteFile(path, []byte(out), 0o644)
	if code, out, _ := runCmd("apply", path, "--dsn", dsn); code != 0 || !strings.Contains(out, "no change") {
		t.Fatalf("apply the export: %d %q", code, out)
	}

	code, out, _ = runCmd("retire", "--dsn", dsn, "pixel_quest", "session_start", "v1", "--reason", "v1 clients gone")
	if code != 0 || strings.TrimSpace(out) != "pixel_quest/session_start v1: revision 2 (retired)" {
		t.Fatalf("retire: %d %q", code, out)
	}
	code, out, _ = runCmd("retire", "--dsn", dsn, "pixel_quest", "session_start", "--author=bob")
	if code != 0 || strings.TrimSpace(out) != "pixel_quest/session_start v2: revision 2 (retired)" {
		t.Fatalf("retire the event: %d %q", code, out)
	}
	if code, _, errOut := runCmd("retire", "--dsn", dsn, "pixel_quest", "boss_fight"); code != 1 || !strings.Contains(errOut, "no event boss_fight") {
		t.Fatalf("retire unknown: %d %q", code, errOut)
	}
	if code, _, _ := runCmd("retire", "pixel_quest", "session_start"); code != 2 {
		t.Fatalf("retire without --dsn: %d", code)
	}
	_, out, _ = runCmd("export", "--dsn", dsn)
	if strings.Count(out, "retired: true") != 2 {
		t.Fatalf("export after retire:\n%s", out)
	}
	code, out, _ = runCmd("rollback", "--dsn", dsn, "pixel_quest", "session_start", "v1@1", "--reason", "too early")
	if code != 0 || strings.TrimSpace(out) != "pixel_quest/session_start v1: revision 3 (rollback to revision 1)" {
		t.Fatalf("rollback: %d %q", code, out)
	}
	st, err := validate.OpenStore(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hist, err := st.History(context.Background(), "pixel_quest", "session_start", "v1")
	if err != nil {
		t.Fatal(err)
	}
	var hs []string
	for _, h := range hist {
		hs = append(hs, h.Change+" by "+h.Author+": "+h.Reason)
	}
	if want := []string{"new by ann: ", "retired by ann: v1 clients gone", "rollback to revision 1 by ann: too early"}; !reflect.DeepEqual(hs, want) {
		t.Fatalf("history %q", hs)
	}
	if hist, _ := st.History(context.Background(), "pixel_quest", "session_start", "v2"); hist[1].Author != "bob" {
		t.Fatalf("v2 history %+v", hist)
	}
}

// canonical is a model as JSON with events and definitions sorted (the
// store keeps no order of them) and defaults made explicit.
func canonical(t *testing.T, m *validate.Model) string {
	t.Helper()
	for gi := range m.Games {
		g := &m.Games[gi]
		sort.Slice(g.Events, func(i, j int) bool { return g.Events[i].Name < g.Events[j].Name })
		for ei := range g.Events {
			e := &g.Events[ei]
			sort.Slice(e.Definitions, func(i, j int) bool { return e.Definitions[i].Version < e.Definitions[j].Version })
			for di := range e.Definitions {
				if e.Definitions[di].AdditionalFields == "ignore" {
					e.Definitions[di].AdditionalFields = ""
				}
			}
		}
	}
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
