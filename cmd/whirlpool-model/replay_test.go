package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
	"github.com/whirlpool-events/whirlpool/internal/testmodel"
	"github.com/whirlpool-events/whirlpool/internal/trial"
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
)

type conf map[string]string

func (c conf) Get(k string) string { return c[k] }

// TestReplayCommand: an event the model lacks fails (UNKNOWN_EVENT); once
// the event is applied to the store, replay --dry-run counts it, replay
// loads it with its uuid and marks its failure row, and a second replay
// does nothing.
func TestReplayCommand(t *testing.T) {
	store, target := testenv.Postgres(t), testenv.Postgres(t)
	m := testmodel.Sample(t)
	v := testmodel.Validator(t, m)
	var e enrich.Enricher
	now := time.Now()
	validated, err := trial.Validated(v, e.AppendRecord(nil, enrich.Key{Game: "galaxy", Version: "1.2", Event: "dance"}, []byte(`{"move":"spin"}`), now), now)
	if err != nil {
		t.Fatal(err)
	}
	out, err := redshift.New(plugin.Env{Config: conf{"dsn": target, "dialect": "postgres", "load_method": "pg_copy", "auto_create": "on"}, Log: plugin.NopLogger{}},
		redshift.WithModel(v))
	if err != nil {
		t.Fatal(err)
	}
	if r := out.Flush(validated, "t"); r != plugin.OK {
		t.Fatalf("flush %v", r)
	}
	out.Close()

	m.Games[0].Events = append(m.Games[0].Events, validate.Event{Name: "dance", Definitions: []validate.Definition{{Version: "v1",
		Destinations: []string{"events.dance"}, Fields: []validate.Field{{Name: "move", Path: "move", Type: "string", Mandatory: true}}}}})
	data, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	fixed := filepath.Join(t.TempDir(), "fixed.yaml")
	if err := os.WriteFile(fixed, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCmd("apply", fixed, "--dsn", store); code != 0 {
		t.Fatalf("apply: %s", errOut)
	}

	code, stdout, errOut := runCmd("replay", "--dsn", store, "--target", target, "--auto-create", "--dry-run")
	if code != 0 || !regexp.MustCompile(`would replay +galaxy +dance +UNKNOWN_EVENT +1\n`).MatchString(stdout) ||
		!regexp.MustCompile(`1 rows would be loaded`).MatchString(stdout) {
		t.Fatalf("dry run: %d %q %q", code, stdout, errOut)
	}
	code, stdout, errOut = runCmd("replay", "--dsn", store, "--target", target, "--auto-create", "--game", "galaxy", "--since", "1h")
	if code != 0 || !regexp.MustCompile(`1 failure rows marked replayed`).MatchString(stdout) {
		t.Fatalf("replay: %d %q %q", code, stdout, errOut)
	}
	db, err := sql.Open("postgres", target)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var loaded, marked int
	if err := db.QueryRow(`SELECT count(*) FROM events.dance d JOIN failures.events f USING (uuid) WHERE d.move = 'spin'`).Scan(&loaded); err != nil || loaded != 1 {
		t.Errorf("rows with the failure's uuid: %d %v", loaded, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM failures.events WHERE replayed_at IS NOT NULL`).Scan(&marked); err != nil || marked != 1 {
		t.Errorf("marked: %d %v", marked, err)
	}
	code, stdout, _ = runCmd("replay", "--dsn", store, "--target", target, "--auto-create")
	if code != 0 || !regexp.MustCompile(`0 rows loaded .*; 0 failure rows marked`).MatchString(stdout) {
		t.Errorf("second replay: %d %q", code, stdout)
	}
	for _, bad := range [][]string{{"replay", "--dsn", store}, {"replay", "--dsn", store, "--target", target, "--since", "soon"}, {"replay", "--dsn", store, "--target", target, "extra"}} {
		if code, _, _ := runCmd(bad...); code != 2 {
			t.Errorf("%q: exit %d, want 2", bad, code)
		}
	}
	if code, _, errOut := runCmd("replay", "--dsn", store, "--target", target, "--code", "NOT_A_CODE"); code != 1 {
		t.Errorf("unknown code: exit %d %q", code, errOut)
	}
}
