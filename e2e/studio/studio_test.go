package studio

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
	"github.com/whirlpool-events/whirlpool/internal/testmodel"
)

const (
	user     = "mira"
	password = "boss fights every friday"
	game     = "starfall"
	event    = "boss_defeated"
	table    = "events.starfall_boss"
)

// field is one row a team fills in the definition editor.
type field struct {
	name, path, typ, mandatory, min, max, maxLength string
}

// TestGameTeamPublishesAnEventInTheBrowser is a game team's first event,
// clicked through the studio in Chromium, with the pipeline running: the
// team's editor signs in, drafts starfall/boss_defeated v1 (three fields,
// one destination) and publishes it through the review page with a
// reason, maps game versions 1.x to v1, sees which definition 1.2.0 gets,
// and the events a game client then sends to the edge land as rows in
// the new table (and a bad one as a failure row) while no tier is
// restarted. Then the team publishes a second revision (a new field, a
// field made mandatory: an event without it now fails) and rolls it back:
// the definition shows revision 3 with the first revision's fields, its
// history says who did what and why, the same event lands as a row again,
// and the audit log has every write.
func TestGameTeamPublishesAnEventInTheBrowser(t *testing.T) {
	engine := testenv.FluentBit(t)
	exe := chromium(t)
	root, err := flbhost.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	shots := ""
	if os.Getenv("WHIRLPOOL_SCREENSHOTS") == "1" {
		shots = filepath.Join(root, "docs", "studio")
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	began := time.Now()
	phase := func(what string) { t.Logf("%5.1fs %s", time.Since(began).Seconds(), what) }
	dsn := testenv.Postgres(t)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	testmodel.ApplyFile(t, dsn, filepath.Join(root, "conf", "model.yaml"))
	model := modelCommand(t, root)
	addUser(t, model, dsn, user, password, "editor", game)
	studio := serveStudio(t, model, dsn)
	pipe := startPipeline(t, engine, root, dsn)
	phase("studio and pipeline up")
	b := newBrowser(t, exe, studio, shots)
	phase("browser up")

	// Sign in: the studio sends an anonymous visitor to its sign-in page.
	b.visit("/")
	b.sees("sign-in page", "Sign in", "User name", "Password")
	b.screenshot("login")
	b.typeInto(`//input[@name="name"]`, user)
	b.typeInto(`//input[@name="password"]`, password)
	b.click(`//button[text()="Sign in"]`)
	b.sees("catalogue", "Catalogue", "pixel_quest", user+" (editor: "+game+")")

	// A new event definition, drafted in the editor.
	newDef := `//form[.//input[@name="kind" and @value="definition"]]`
	b.typeInto(newDef+`//input[@name="game"]`, game)
	b.typeInto(newDef+`//input[@name="event"]`, event)
	b.click(newDef + `//button`)
	b.sees("new draft", "starfall/boss_defeated v1", "New.", "Nothing here reaches the pipeline until it is published.")
	b.typeInto(`//textarea[@name="destinations"]`, table)
	fillFields(b, 1, []field{
		{name: "player_id", path: "player_id", typ: "string", mandatory: "yes", maxLength: "64"},
		{name: "boss", path: "boss", typ: "string", mandatory: "yes", maxLength: "32"},
		{name: "turns", path: "turns", typ: "integer", min: "1", max: "999"},
	})
	b.click(`//button[@value="edit"]`)
	b.sees("saved draft", "The model passes its checks with this draft.")
	if n := b.count(`//input[@name="field-name" and @value!=""]`); n != 3 {
		t.Fatalf("the saved draft shows %d named fields, want 3", n)
	}
	b.screenshot("editor")
	publishFromEditor(b, "boss fights: the first cut")
	phase("definition published")
	b.sees("published definition", "starfall / boss_defeated v1", "revision 1", table, "boss fights: the first cut", user)

	// Map the game's 1.x versions to v1, and ask which definition 1.2.0 gets.
	b.visit("/games/" + game)
	b.sees("game before its mappings", "No mappings: every version is VERSION_UNMAPPED.")
	b.click(`//button[text()="Edit mappings (draft)"]`)
	b.typeInto(`(//input[@name="mapping-version"])[1]`, `1\..*`)
	b.typeInto(`(//input[@name="mapping-definition"])[1]`, "v1")
	b.click(`//button[@value="review"]`)
	b.sees("mappings review", "The model passes its checks with this draft.")
	b.typeInto(`//input[@name="reason"]`, "release 1.x sends boss_defeated")
	b.click(`//button[text()="Publish"]`)
	b.typeInto(`//input[@name="version"]`, "1.2.0")
	b.click(`//button[text()="Resolve"]`)
	b.sees("game", "Game starfall", "1.2.0 → definition v1", `1\..*`, event)
	b.screenshot("game")
	b.replace(`//input[@name="version"]`, "2.0.1")
	b.click(`//button[text()="Resolve"]`)
	b.sees("game", "2.0.1: ", "VERSION_UNMAPPED")
	phase("mappings published")

	// The published model reaches the running processor: the README's
	// "wait for the processors to re-read the model", then a game client
	// sends two good events and a bad one to the edge.
	time.Sleep(3 * reloadIntervalDuration(t))
	pipe.send(t, game, "1.2.0", event,
		`{"player_id":"p-17","boss":"hydra","turns":12}`,
		`{"player_id":"p-18","boss":"kraken","turns":31}`,
		`{"boss":"wyrm","turns":"many"}`)
	waitRows(t, db, 30*time.Second, "rows in "+table, "SELECT count(*) FROM "+table, 2)
	waitRows(t, db, 30*time.Second, "failure rows of "+event,
		"SELECT count(*) FROM failures.events WHERE game = 'starfall' AND event = 'boss_defeated' AND error_codes = 'MANDATORY_FIELD_MISSING,FIELD_TYPE_MISMATCH'", 1)
	phase("rows and failure row landed")
	rows := query(t, db, "SELECT player_id, boss, turns::text, version, definition_version FROM "+table+" ORDER BY turns")
	if want := "p-17 hydra 12 1.2.0 v1; p-18 kraken 31 1.2.0 v1"; rows != want {
		t.Fatalf("%s holds %q, want %q", table, rows, want)
	}

	// The catalogue finds the new event by its table.
	b.visit("/")
	b.typeInto(`//input[@name="q"]`, "starfall_boss")
	b.click(`//button[text()="Search"]`)
	b.sees("catalogue search", `Results for “starfall_boss”`, "table: "+table, game)
	b.screenshot("catalogue")

	// A second revision: a new field, and turns made mandatory.
	b.visit("/games/" + game + "/events/" + event + "/v1")
	b.click(`//button[text()="Edit (draft)"]`)
	b.sees("draft of the live definition", "Started from revision 1.")
	fillFields(b, 4, []field{{name: "damage", path: "damage", typ: "integer", min: "0"}})
	b.choose(`(//select[@name="field-mandatory"])[3]`, "yes")
	b.click(`//button[@value="review"]`)
	b.sees("review", "Review draft", "The model passes its checks with this draft.")
	b.screenshot("review")
	b.typeInto(`//input[@name="reason"]`, "track damage; clients always send turns")
	b.click(`//button[text()="Publish"]`)
	b.sees("second revision", "revision 2", "damage", "track damage; clients always send turns")
	time.Sleep(3 * reloadIntervalDuration(t))
	pipe.send(t, game, "1.2.0", event, `{"player_id":"p-19","boss":"golem"}`)
	waitRows(t, db, 30*time.Second, "failure rows of the event without turns under revision 2",
		"SELECT count(*) FROM failures.events WHERE raw_event LIKE '%p-19%' AND error_codes = 'MANDATORY_FIELD_MISSING'", 1)
	phase("revision 2 published and live")

	// Roll back to revision 1: a new revision with revision 1's content.
	rollback := `//form[contains(@action, "/rollback") and .//input[@name="revision" and @value="1"]]`
	b.typeInto(rollback+`//input[@name="reason"]`, "damage is not sent yet")
	b.click(rollback + `//button`)
	b.sees("rolled back definition", "revision 3", "damage is not sent yet", "track damage; clients always send turns", "boss fights: the first cut")
	b.lacks("rolled back definition's fields", `//h2[text()="Fields"]/following-sibling::table[1]`, "damage")
	if n := b.count(`//h2[text()="History"]/following-sibling::table[1]//tr[td]`); n != 3 {
		t.Fatalf("the history lists %d revisions, want 3:\n%s", n, b.text())
	}
	if got := b.textOf(`//h2[text()="Fields"]/following-sibling::table[1]//tr[td[1]="turns"]/td[4]`); got != "" {
		t.Fatalf("after the rollback turns shows mandatory %q, want not mandatory", got)
	}
	b.screenshot("definition")
	time.Sleep(3 * reloadIntervalDuration(t))
	pipe.send(t, game, "1.2.0", event, `{"player_id":"p-20","boss":"golem"}`)
	waitRows(t, db, 30*time.Second, "rows of the event without turns after the rollback",
		"SELECT count(*) FROM "+table+" WHERE player_id = 'p-20' AND turns IS NULL", 1)
	phase("rollback live")

	// The audit log has every write, by whom.
	b.visit("/audit")
	b.sees("audit log", "Audit log", "new draft", "save draft", "publish", "rollback", "reason: boss fights: the first cut")
	b.screenshot("audit")
	phase("audit log read")
}

// fillFields types fields into the editor's rows from row first (1-based)
// on; those rows must be empty.
func fillFields(b *browser, first int, fields []field) {
	b.t.Helper()
	for i, f := range fields {
		row := func(name string) string {
			return "(//*[@name=" + `"field-` + name + `"` + "])[" + strconv.Itoa(first+i) + "]"
		}
		for name, v := range map[string]string{"name": f.name, "path": f.path, "type": f.typ, "min": f.min, "max": f.max, "max_length": f.maxLength} {
			if v != "" {
				b.typeInto(row(name), v)
			}
		}
		if f.mandatory != "" {
			b.choose(row("mandatory"), f.mandatory)
		}
	}
}

// publishFromEditor saves the draft, reviews it and publishes it.
func publishFromEditor(b *browser, reason string) {
	b.t.Helper()
	b.click(`//button[@value="review"]`)
	b.sees("review", "The model passes its checks with this draft.")
	b.typeInto(`//input[@name="reason"]`, reason)
	b.click(`//button[text()="Publish"]`)
}

func reloadIntervalDuration(t *testing.T) time.Duration {
	d, err := time.ParseDuration(reloadInterval)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// query returns the rows of q, columns space-separated, rows "; "-separated.
func query(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	rs, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	cols, _ := rs.Columns()
	var out []string
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var cells []string
		for _, v := range vals {
			cells = append(cells, v.String)
		}
		out = append(out, strings.Join(cells, " "))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "; ")
}
