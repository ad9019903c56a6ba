package validate

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

const retireModel = `
games:
  - name: galaxy
    mappings: [{version: '.*', definition: v1}]
    events:
      - name: level_up
        definitions:
          - version: v1
            destinations: [events.level_up]
            fields: [{name: level, path: level, type: integer}]
          - version: v2
            destinations: [events.level_up]
            fields: [{name: level, path: level, type: integer}]
`

// Retiring is a revision like any change, with who and why: events
// resolving to the retired definition fail DEFINITION_NOT_FOUND; rollback
// and apply bring it back.
func TestStoreRetire(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, testenv.Postgres(t))
	m, err := ParseModel([]byte(retireModel))
	if err != nil {
		t.Fatal(err)
	}
	ann := ApplyOptions{Author: "ann", Reason: "first version"}
	if _, err := st.ApplyWith(ctx, m, ann); err != nil {
		t.Fatal(err)
	}
	bob := ApplyOptions{Author: "bob", Reason: "clients on v1 are gone"}
	changes, err := st.Retire(ctx, "galaxy", "level_up", "v1", bob)
	if err != nil || !reflect.DeepEqual(changeStrings(changes), []string{"galaxy/level_up v1: revision 2 (retired)"}) {
		t.Fatalf("retire: %q, %v", changeStrings(changes), err)
	}
	if changes, err := st.Retire(ctx, "galaxy", "level_up", "v1", bob); err != nil || len(changes) != 0 {
		t.Fatalf("retire again: %q, %v", changeStrings(changes), err)
	}
	// who and why come from users: bounded, and no control characters
	for _, o := range []ApplyOptions{
		{Author: "ann\x1b[2J"},
		{Author: strings.Repeat("a", MaxAuthorBytes+1)},
		{Reason: strings.Repeat("r", MaxReasonBytes+1)},
		{Reason: "bad\xffutf8"},
	} {
		if _, err := st.Retire(ctx, "galaxy", "level_up", "v2", o); err == nil {
			t.Errorf("retire with %q accepted", o)
		}
		if _, err := st.ApplyWith(ctx, m, o); err == nil {
			t.Errorf("apply with %q accepted", o)
		}
	}
	for _, tc := range []struct{ event, label, want string }{
		{"level_up", "v9", "has no definition version v9"},
		{"boss", "", "has no event boss"},
	} {
		if _, err := st.Retire(ctx, "galaxy", tc.event, tc.label, bob); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("retire %s %s: %v", tc.event, tc.label, err)
		}
	}
	loaded, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defs := loaded.Games[0].Events[0].Definitions
	if !defs[0].Retired || defs[1].Retired || defs[0].Revision != 2 {
		t.Fatalf("after retire: %+v", defs)
	}
	// the validator treats it as absent, and Check warns about the mapping
	v, err := NewWithModel(loaded, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	out := validate(t, v, inputRecord("galaxy", "1.0", "level_up", `{"level":1}`))
	if !reflect.DeepEqual(codes(out[0]), []string{"DEFINITION_NOT_FOUND"}) || !strings.Contains(errorsOf(out[0])[0]["message"].(string), "retired") {
		t.Fatalf("retired definition: %v", out)
	}
	if warnings, _ := loaded.Check(); len(warnings) != 1 || !strings.Contains(warnings[0], `has retired it`) {
		t.Fatalf("warnings %q", warnings)
	}
	// rollback undoes it
	c, err := st.RollbackWith(ctx, "galaxy", "level_up", "v1", 0, ApplyOptions{Author: "cy", Reason: "too early"})
	if err != nil || c.String() != "galaxy/level_up v1: revision 3 (rollback to revision 1)" {
		t.Fatalf("rollback: %v %v", c, err)
	}
	// retiring the event retires each definition; applying the file restores them
	changes, _ = st.Retire(ctx, "galaxy", "level_up", "", bob)
	if got := changeStrings(changes); !reflect.DeepEqual(got, []string{"galaxy/level_up v1: revision 4 (retired)", "galaxy/level_up v2: revision 2 (retired)"}) {
		t.Fatalf("retire the event: %q", got)
	}
	changes, _ = st.ApplyWith(ctx, m, ann)
	if got := changeStrings(changes); !reflect.DeepEqual(got, []string{"galaxy/level_up v1: revision 5 (restored)", "galaxy/level_up v2: revision 3 (restored)"}) {
		t.Fatalf("apply restores: %q", got)
	}
	hist, err := st.History(ctx, "galaxy", "level_up", "v1")
	if err != nil {
		t.Fatal(err)
	}
	var hs []string
	for _, h := range hist {
		hs = append(hs, fmt.Sprintf("%d %s by %s: %s", h.Revision, h.Change, h.Author, h.Reason))
	}
	want := []string{
		"1 new by ann: first version",
		"2 retired by bob: clients on v1 are gone",
		"3 rollback to revision 1 by cy: too early",
		"4 retired by bob: clients on v1 are gone",
		"5 restored by ann: first version",
	}
	if !reflect.DeepEqual(hs, want) {
		t.Fatalf("history\n%s", strings.Join(hs, "\n"))
	}
	m.Games[0].Mappings[0].Definition = "v2"
	if _, err := st.ApplyWith(ctx, m, ApplyOptions{Author: "dee", Reason: "move to v2"}); err != nil {
		t.Fatal(err)
	}
	mh, err := st.MappingHistory(ctx, "galaxy")
	if err != nil || len(mh) != 2 || mh[0].Author != "ann" || mh[1].Change != "changed" || mh[1].Author != "dee" || mh[1].Reason != "move to v2" {
		t.Fatalf("mapping history %+v, %v", mh, err)
	}
}

// A store made before retired, author and reason existed is upgraded by
// Init and keeps its content.
func TestStoreUpgrade(t *testing.T) {
	ctx := context.Background()
	dsn := testenv.Postgres(t)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var old []string
	for _, q := range storeDDL {
		if !strings.HasPrefix(q, "ALTER TABLE") {
			old = append(old, q)
		}
	}
	old = append(old,
		`INSERT INTO whirlpool_model.games (name) VALUES ('galaxy')`,
		`INSERT INTO whirlpool_model.events (game, name) VALUES ('galaxy', 'level_up')`,
		`INSERT INTO whirlpool_model.definition_versions (game, event, label, revision, change) VALUES ('galaxy', 'level_up', 'v1', 1, 'new')`,
		`INSERT INTO whirlpool_model.definition_destinations VALUES (1, 0, 'events.level_up')`,
		`INSERT INTO whirlpool_model.mapping_versions (game, revision, change) VALUES ('galaxy', 1, 'new')`,
		`INSERT INTO whirlpool_model.mappings VALUES (1, 0, '.*', 'v1', 0)`)
	for _, q := range old {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	st := openStore(t, dsn) // Init
	m, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := m.Games[0].Events[0].Definitions[0]; d.Retired || d.Version != "v1" || d.Destinations[0] != "events.level_up" {
		t.Fatalf("upgraded store: %+v", d)
	}
	if _, err := st.Retire(ctx, "galaxy", "level_up", "v1", ApplyOptions{Author: "ann"}); err != nil {
		t.Fatal(err)
	}
	hist, _ := st.History(ctx, "galaxy", "level_up", "v1")
	if len(hist) != 2 || hist[0].Author != "" || hist[1].Author != "ann" {
		t.Fatalf("history %+v", hist)
	}
}
