package studio

import (
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

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
// clicked through the studio in Chromium while the pipeline runs. The
// team's editor (an account `whirlpool-model user add` made) signs in,
// drafts starfall/boss_defeated v1 (three fields, one destination) and
// publishes it through the review page with a reason, maps game versions
// 1.x to v1 and asks which definition 1.2.0 and 2.0.1 get, then tries a
// bad sample (its failure codes) and a good one (its row). A game client's
// events then land through the edge and the processor, which re-reads the
// store the studio wrote without a restart: two rows in the new table, the
// bad event as a failure row, counted on the violations page, whose sample
// links to its definition. A second revision (a new field, a field made
// mandatory) is tried against its draft, reviewed (diff, breaking change
// confirmed, DDL) and published: an event without the field now fails.
// Rolled back, the definition shows revision 3 with revision 1's fields and
// a history of who did what and why, the same event lands as a row again,
// and replay turns the failure revision 2 caused into its row. The audit
// log has every write.
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

	// Try a bad sample and a good one: the pipeline's own path, nothing sent.
	b.click(`//a[text()="Try an event"]`)
	trySample(b, "", `{"boss":"wyrm","turns":"many"}`)
	b.sees("try, a bad sample", "Failure MANDATORY_FIELD_MISSING, FIELD_TYPE_MISMATCH")
	if got, want := triedErrors(b), "MANDATORY_FIELD_MISSING at player_id; FIELD_TYPE_MISMATCH at turns"; got != want {
		t.Fatalf("try shows the errors %q, want %q", got, want)
	}
	b.screenshot("try-failure")
	trySample(b, "", `{"player_id":"p-17","boss":"hydra","turns":12}`)
	b.sees("try, a good sample", "Rows for "+table)
	tried := b.table(`//h2[contains(., "Rows for")]/following-sibling::table[1]`)
	if len(tried) != 1 || len(tried[0]) != 10 || tried[0][2] != game || tried[0][3] != "1.2.0" || tried[0][5] != "v1" ||
		strings.Join(tried[0][7:], " ") != "p-17 hydra 12" {
		t.Fatalf("try shows the rows %q, want one row of starfall 1.2.0 v1 with p-17 hydra 12", tried)
	}
	b.lacks("try, a good sample", `//main`, "Failure")
	b.screenshot("try")
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

	// The violations dashboard counts the bad event; its sample links to
	// its definition.
	b.visit("/violations")
	b.sees("violations", "Violations")
	var counts []string
	for _, row := range b.table(`//h1[text()="Violations"]/following-sibling::table[1]`) {
		if len(row) >= 5 && row[0] == game {
			counts = append(counts, strings.Join(row[:5], " "))
		}
	}
	if want := []string{"starfall boss_defeated FIELD_TYPE_MISMATCH 1 1", "starfall boss_defeated MANDATORY_FIELD_MISSING 1 1"}; !reflect.DeepEqual(counts, want) {
		t.Fatalf("violations of starfall: %q, want %q", counts, want)
	}
	b.screenshot("violations")
	b.click(`//tr[td[3]="MANDATORY_FIELD_MISSING" and td[2]="` + event + `"]//a[text()="samples"]`)
	b.sees("failed samples", "Failed events starfall boss_defeated MANDATORY_FIELD_MISSING", `"boss":"wyrm"`, "version 1.2.0", "FIELD_TYPE_MISMATCH")
	b.screenshot("samples")
	b.click(`//a[text()="boss_defeated v1"]`)
	b.sees("definition from a sample", "starfall / boss_defeated v1", "revision 1")

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
	b.click(`//button[@value="edit"]`)
	draft := b.path()
	// Against the draft, an event without turns now fails; live, it passes.
	b.click(`//a[text()="Try an event against this draft"]`)
	trySample(b, "1.2.0", `{"player_id":"p-19","boss":"golem"}`)
	b.sees("try against the draft", "with draft", "Failure MANDATORY_FIELD_MISSING")
	if got, want := triedErrors(b), "MANDATORY_FIELD_MISSING at turns"; got != want {
		t.Fatalf("try against the draft shows the errors %q, want %q", got, want)
	}
	b.visit(draft)
	b.click(`//button[@value="review"]`)
	b.sees("review", "Review draft", "The model passes its checks with this draft.",
		"Breaking changes", "field turns: mandatory false → true", "Changes against the live revision", "field damage added",
		"DDL auto_create will run", `ADD COLUMN "damage"`)
	b.screenshot("review")
	b.typeInto(`//input[@name="reason"]`, "track damage; clients always send turns")
	b.do("confirm the breaking change", chromedp.Click(`//input[@name="confirm_breaking"]`))
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
	wantFields := [][]string{ // name, path, type, mandatory, expand, format, min, max, max length
		{"player_id", "player_id", "string", "yes", "", "", "", "", "64"},
		{"boss", "boss", "string", "yes", "", "", "", "", "32"},
		{"turns", "turns", "integer", "", "", "", "1", "999", ""},
	}
	if got := b.table(`//h2[text()="Fields"]/following-sibling::table[1]`); !reflect.DeepEqual(got, wantFields) {
		t.Fatalf("after the rollback the fields are %q, want revision 1's %q", got, wantFields)
	}
	wantHistory := [][]string{ // revision, who, why, change
		{"3", user, "damage is not sent yet", "rollback to revision 1"},
		{"2", user, "track damage; clients always send turns", "changed"},
		{"1", user, "boss fights: the first cut", "new"},
	}
	var history [][]string
	for _, row := range b.table(`//h2[text()="History"]/following-sibling::table[1]`) {
		if len(row) < 5 {
			t.Fatalf("history row %q: want at least 5 cells", row)
		}
		history = append(history, []string{row[0], row[2], row[3], row[4]})
	}
	if !reflect.DeepEqual(history, wantHistory) {
		t.Fatalf("the history is %q, want %q", history, wantHistory)
	}
	b.screenshot("definition")
	time.Sleep(3 * reloadIntervalDuration(t))
	pipe.send(t, game, "1.2.0", event, `{"player_id":"p-20","boss":"golem"}`)
	waitRows(t, db, 30*time.Second, "rows of the event without turns after the rollback",
		"SELECT count(*) FROM "+table+" WHERE player_id = 'p-20' AND turns IS NULL", 1)
	phase("rollback live")

	// Replay: the event that failed under revision 2 validates again; the
	// plan says so before anything runs, then it lands with its uuid.
	b.visit("/violations/replay?game=" + game + "&event=" + event + "&code=MANDATORY_FIELD_MISSING")
	b.sees("replay plan", "1 failures would validate and load as 1 rows", "1 still fail")
	b.screenshot("replay")
	b.click(`//button[starts-with(text(), "Replay 1 failures")]`)
	b.sees("replay done", "Replayed: 1 failures loaded as 1 rows, 1 marked replayed")
	waitRows(t, db, 10*time.Second, "the replayed event's row, with its failure's uuid, the failure marked replayed",
		"SELECT count(*) FROM "+table+" r JOIN failures.events f ON f.uuid = r.uuid WHERE r.player_id = 'p-19' AND f.replayed_at IS NOT NULL", 1)
	phase("replayed")

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

// trySample submits body (for version, when not empty, and the event)
// on the try page.
func trySample(b *browser, version, body string) {
	b.t.Helper()
	if version != "" {
		b.replace(`//input[@name="version"]`, version)
	} else {
		b.replace(`//input[@name="version"]`, "1.2.0")
	}
	b.replace(`//input[@name="event"]`, event)
	b.replace(`//textarea[@name="body"]`, body)
	b.click(`//button[text()="Try"]`)
}

// triedErrors returns the try page's failure errors as "CODE at path; ...".
func triedErrors(b *browser) string {
	b.t.Helper()
	var errs []string
	for _, row := range b.table(`//h2[starts-with(., "Failure")]/following-sibling::table[1]`) {
		if len(row) != 3 {
			b.t.Fatalf("failure row %q: want code, path, message", row)
		}
		errs = append(errs, row[0]+" at "+row[1])
	}
	return strings.Join(errs, "; ")
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
	var out []string
	for _, vals := range testenv.QueryNullable(t, db, q) {
		var cells []string
		for _, v := range vals {
			cells = append(cells, v.String)
		}
		out = append(out, strings.Join(cells, " "))
	}
	return strings.Join(out, "; ")
}
