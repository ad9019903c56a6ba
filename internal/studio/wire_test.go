package studio

// Tests of the pages over validate's richer API, trial, failures and
// replay: each drives the studio over HTTP against a real PostgreSQL, and
// the target's failures come from the pipeline's own validation and load.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/trial"
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
)

type outConf map[string]string

func (c outConf) Get(k string) string { return c[k] }

type sent struct{ game, version, event, body string }

// send validates events against the live model as the sqs input does and
// loads them into the target with the redshift output (auto_create on):
// valid ones as rows, the others as failure rows.
func (h *harness) send(events ...sent) {
	h.t.Helper()
	v := h.validator()
	var e enrich.Enricher
	var chunk []byte
	for _, ev := range events {
		now := time.Now()
		b, err := trial.Validated(v, e.AppendRecord(nil, enrich.Key{Game: ev.game, Version: ev.version, Event: ev.event}, []byte(ev.body), now), now)
		if err != nil {
			h.t.Fatal(err)
		}
		chunk = append(chunk, b...)
	}
	out, err := redshift.New(plugin.Env{Config: outConf{"dsn": h.dsn, "dialect": "postgres", "load_method": "pg_copy", "auto_create": "on"}, Log: plugin.NopLogger{}},
		redshift.WithModel(v))
	if err != nil {
		h.t.Fatal(err)
	}
	defer out.Close()
	if r := out.Flush(chunk, "t"); r != plugin.OK {
		h.t.Fatalf("flush: %v", r)
	}
}

// validator is the store's live model as the pipeline compiles it.
func (h *harness) validator() *validate.Validator {
	h.t.Helper()
	m, err := h.store.Load(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	v, err := validate.NewWithModel(m, validate.Options{})
	if err != nil {
		h.t.Fatal(err)
	}
	return v
}

func TestEditorShowsMissingLabelWarningBesideMapping(t *testing.T) {
	h := newHarness(t)
	c := h.login("edit_a")
	draft := c.follow("/drafts", url.Values{"kind": {"mappings"}, "game": {"a"}})
	c.follow(draft, url.Values{"mapping-version": {`1\..*`, `3\..*`}, "mapping-definition": {"v1", "v9"}, "mapping-priority": {"", ""}})
	page := c.get(draft)
	var row string
	for _, r := range strings.Split(page.body, "<tr>") {
		if strings.Contains(r, `value="v9"`) {
			row = r
		}
	}
	if !strings.Contains(row, `class="warning"`) || !strings.Contains(row, "v9") {
		t.Errorf("the missing-label warning is not beside the mapping to v9:\n%s", row)
	}
	if strings.Contains(page.body, "would not pass") {
		t.Error("a warning made the draft unpublishable")
	}
}

func TestResolveBoxMatchesValidatorResolve(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	m, _ := h.store.Load(ctx)
	m.Games[0].Mappings = append(m.Games[0].Mappings, validate.Mapping{Version: `4\..*`, Definition: "v9"},
		validate.Mapping{Version: `5\.1`, Definition: "v1"}, validate.Mapping{Version: `5\.1`, Definition: "v2"})
	if _, err := h.store.Apply(ctx, m); err != nil {
		t.Fatal(err)
	}
	v := h.validator()
	c := h.login("viewer")
	for _, version := range []string{"1.4.2", "2.0", "3.0", "4.0", "5.1"} {
		label, err := v.Resolve("a", version)
		want := "definition <strong>" + label + "</strong>"
		var rerr *validate.ResolveError
		if errors.As(err, &rerr) {
			want = "<strong>" + string(rerr.Code) + "</strong>"
		} else if err != nil {
			t.Fatal(err)
		}
		if page := c.get("/games/a?version=" + url.QueryEscape(version)); !strings.Contains(page.body, want) {
			t.Errorf("resolve %s: Validator.Resolve says %q, %v; the page lacks %q:\n%s", version, label, err, want, page.body)
		}
	}
}

func TestReviewShowsDiffBreakingAndDDL(t *testing.T) {
	h := newTargetHarness(t)
	c := h.login("edit_a")
	draft := c.follow("/drafts", url.Values{"kind": {"definition"}, "game": {"a"}, "event": {"login"}, "label": {"v1"}})
	c.follow(draft, fieldForm(c, [][]string{{"user_id", "user.id", "string", "yes"}, {"score", "score", "integer"}}, "events.a_login"))
	review := c.get(draft + "/review")
	for _, want := range []string{"Breaking changes", "field level removed", "field score added", "CREATE TABLE", "score", `name="confirm_breaking"`} {
		if !strings.Contains(review.body, want) {
			t.Errorf("the review lacks %q:\n%s", want, review.body)
		}
	}
	before := h.live()
	if res := c.post(draft+"/publish", url.Values{"reason": {"score"}}); res.status != http.StatusBadRequest || !strings.Contains(res.body, "breaking") {
		t.Errorf("publishing a breaking change unconfirmed: %d %s", res.status, res.body)
	}
	if h.live() != before {
		t.Error("an unconfirmed breaking change was published")
	}
	if res := c.post(draft+"/publish", url.Values{"reason": {"score"}, "confirm_breaking": {"yes"}}); res.status != http.StatusSeeOther {
		t.Errorf("publishing a confirmed breaking change: %d %s", res.status, res.body)
	}
	// A change that breaks nothing needs no confirmation.
	d2 := c.follow("/drafts", url.Values{"kind": {"definition"}, "game": {"a"}, "event": {"login"}, "label": {"v2"}})
	c.follow(d2, fieldForm(c, [][]string{{"user_id", "user.id", "string", "yes"}, {"combo", "combo", "integer"}}, "events.a_login"))
	if review := c.get(d2 + "/review"); strings.Contains(review.body, "confirm_breaking") || !strings.Contains(review.body, "field combo added") {
		t.Errorf("the review of an added optional field:\n%s", review.body)
	}
	if res := c.post(d2+"/publish", url.Values{"reason": {"combo"}}); res.status != http.StatusSeeOther {
		t.Errorf("publishing an added optional field: %d %s", res.status, res.body)
	}
}

func TestTryEventShowsRowsOrTheSameFailureCodes(t *testing.T) {
	h := newHarness(t)
	v := h.validator()
	c := h.login("viewer")
	good := c.post("/games/a/try", url.Values{"version": {"1.2"}, "event": {"login"}, "body": {`{"user":{"id":"u7"},"level":4}`}})
	if good.status != http.StatusOK || !strings.Contains(good.body, "Rows for <code>events.a_login</code>") || !strings.Contains(good.body, "<td>u7</td>") || !strings.Contains(good.body, "<th>level</th>") {
		t.Errorf("a good event: %d\n%s", good.status, good.body)
	}
	bodies := []string{`{"level":"x"}`, `{"user":{"id":"u"},"level":500}`, `not json`}
	for _, body := range bodies {
		want, err := trial.Run(v, "a", "1.2", "login", []byte(body), time.Now())
		if err != nil || len(want.Failures) != 1 {
			t.Fatalf("trial.Run %s: %+v %v", body, want, err)
		}
		page := c.post("/games/a/try", url.Values{"version": {"1.2"}, "event": {"login"}, "body": {body}})
		if !strings.Contains(page.body, "Failure "+strings.Join(want.Failures[0].Codes, ", ")+"</h2>") {
			t.Errorf("%s: trial.Run gives %v; the page:\n%s", body, want.Failures[0].Codes, page.body)
		}
		for _, e := range want.Failures[0].Errors {
			if !strings.Contains(page.body, "<td>"+e.Code+"</td><td><code>"+e.Path+"</code>") {
				t.Errorf("%s: the page lacks the error %s at %q", body, e.Code, e.Path)
			}
		}
	}
	if res := c.post("/games/a/try", url.Values{"version": {""}, "event": {"login"}, "body": {"{}"}}); res.status != http.StatusBadRequest || !strings.Contains(res.body, "version: required") {
		t.Errorf("no version: %d", res.status)
	}
}

func TestTryEventWithDraft(t *testing.T) {
	h := newHarness(t)
	c := h.login("edit_a")
	draft := c.follow("/drafts", url.Values{"kind": {"definition"}, "game": {"a"}, "event": {"login"}, "label": {"v1"}})
	c.follow(draft, fieldForm(c, [][]string{{"user_id", "user.id", "string", "yes"}, {"combo", "combo", "integer"}}, "events.a_login"))
	id := strings.TrimPrefix(draft, "/drafts/")
	body := `{"user":{"id":"u1"},"combo":12}`
	withDraft := c.post("/games/a/try", url.Values{"version": {"1.0"}, "event": {"login"}, "body": {body}, "draft": {id}})
	if !strings.Contains(withDraft.body, "<th>combo</th>") || !strings.Contains(withDraft.body, "<td>12</td>") {
		t.Errorf("trying with the draft does not load combo:\n%s", withDraft.body)
	}
	live := c.post("/games/a/try", url.Values{"version": {"1.0"}, "event": {"login"}, "body": {body}})
	if strings.Contains(live.body, "<th>combo</th>") {
		t.Error("trying against the live model shows the draft's column")
	}
}

func TestViolationsSamplesAndDraftFromObserved(t *testing.T) {
	h := newTargetHarness(t)
	if res := h.login("viewer").get("/violations"); res.status != http.StatusNotFound || !strings.Contains(res.body, "no failures table failures.events") {
		t.Errorf("violations before the failures table exists: %d %s", res.status, res.body)
	}
	h.send(
		sent{"a", "1.0", "login", `{"level":3}`},
		sent{"a", "1.0", "dance", `{"move":"spin","beats":4}`},
		sent{"a", "1.0", "dance", `{"move":"twirl","beats":8,"partner":true}`},
		sent{"a", "1.0", "login", `{"user":{"id":"ok"}}`},
	)
	v := h.login("viewer")
	page := v.get("/violations")
	for _, want := range []string{"<td>MANDATORY_FIELD_MISSING</td><td>1</td><td>1</td>", "<td>UNKNOWN_EVENT</td><td>2</td><td>2</td>"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the violations lack %q:\n%s", want, page.body)
		}
	}
	if strings.Contains(page.body, "Draft a definition") {
		t.Error("a viewer is offered to draft a definition")
	}
	samples := v.get("/violations/samples?game=a&event=login&code=MANDATORY_FIELD_MISSING")
	if !strings.Contains(samples.body, `href="/games/a/events/login/v1"`) || !strings.Contains(samples.body, "<code>user.id</code>") || !strings.Contains(samples.body, "{&#34;level&#34;:3}") {
		t.Errorf("the samples lack the definition link, the error path or the raw event:\n%s", samples.body)
	}
	if res := v.get("/violations/samples?code=NOPE"); res.status != http.StatusBadRequest {
		t.Errorf("an unknown code: %d", res.status)
	}
	if res := v.post("/drafts", url.Values{"kind": {"definition"}, "observed": {"yes"}, "game": {"a"}, "event": {"dance"}, "label": {"v1"}}); res.status != http.StatusForbidden {
		t.Errorf("a viewer drafting from observed: %d", res.status)
	}
	e := h.login("edit_a")
	if page := e.get("/violations"); !strings.Contains(page.body, "Draft a definition") {
		t.Errorf("an editor of a is not offered a draft from UNKNOWN_EVENT:\n%s", page.body)
	}
	draft := e.follow("/drafts", url.Values{"kind": {"definition"}, "observed": {"yes"}, "game": {"a"}, "event": {"dance"}, "label": {"v1"}})
	editor := e.get(draft)
	for _, name := range []string{"move", "beats", "partner"} {
		if !strings.Contains(editor.body, `value="`+name+`"`) {
			t.Errorf("the draft from observed lacks field %s:\n%s", name, editor.body)
		}
	}
}

func TestReplayShowsPlanThenRunsWhenConfirmed(t *testing.T) {
	h := newTargetHarness(t)
	h.send(sent{"a", "1.0", "dance", `{"move":"spin"}`}, sent{"a", "1.0", "dance", `{"move":"twirl"}`})
	ctx := context.Background()
	m, _ := h.store.Load(ctx)
	m.Games[0].Events = append(m.Games[0].Events, validate.Event{Name: "dance", Definitions: []validate.Definition{{Version: "v1",
		Destinations: []string{"events.a_dance"}, Fields: []validate.Field{{Name: "move", Path: "move", Type: "string"}}}}})
	if _, err := h.store.Apply(ctx, m); err != nil {
		t.Fatal(err)
	}
	plan := "/violations/replay?game=a&event=dance&code=UNKNOWN_EVENT"
	filter := func() url.Values { return url.Values{"game": {"a"}, "event": {"dance"}, "code": {"UNKNOWN_EVENT"}} }
	confirmed := func() url.Values { f := filter(); f.Set("confirm", "yes"); return f }
	v := h.login("viewer")
	if page := v.get(plan); !strings.Contains(page.body, "2 failures would validate and load as 2 rows") || strings.Contains(page.body, "<button>Replay") {
		t.Errorf("the plan for a viewer:\n%s", page.body)
	}
	if res := v.post("/violations/replay", confirmed()); res.status != http.StatusForbidden {
		t.Errorf("a viewer replaying: %d", res.status)
	}
	e := h.login("edit_a")
	if page := e.get(plan); !strings.Contains(page.body, `name="confirm" value="yes"`) {
		t.Errorf("the plan offers an editor no confirmed replay:\n%s", page.body)
	}
	if res := e.post("/violations/replay", filter()); res.status != http.StatusBadRequest {
		t.Errorf("an unconfirmed replay: %d", res.status)
	}
	if n := h.count(`SELECT COUNT(*) FROM failures.events WHERE replayed_at IS NOT NULL`); n != 0 {
		t.Fatalf("replayed before the confirmed POST: %d", n)
	}
	res := e.post("/violations/replay", confirmed())
	if res.status != http.StatusOK || !strings.Contains(res.body, "2 failures loaded as 2 rows, 2 marked replayed") {
		t.Errorf("the replay: %d %s", res.status, res.body)
	}
	if n := h.count(`SELECT COUNT(*) FROM events.a_dance`); n != 2 {
		t.Errorf("rows loaded: %d, want 2", n)
	}
	if n := h.count(`SELECT COUNT(*) FROM failures.events WHERE replayed_at IS NOT NULL`); n != 2 {
		t.Errorf("failure rows marked: %d, want 2", n)
	}
	audit := strings.Join(h.audit("replay"), "\n")
	if !strings.Contains(audit, "viewer refused a dance UNKNOWN_EVENT") || !strings.Contains(audit, "edit_a done a dance UNKNOWN_EVENT") {
		t.Errorf("the audit of replay:\n%s", audit)
	}
}

func TestRetireAndMappingHistory(t *testing.T) {
	h := newHarness(t)
	retire := "/games/a/events/login/v1/retire"
	before := h.live()
	for _, who := range []string{"viewer", "edit_b"} {
		if res := h.login(who).post(retire, url.Values{"reason": {"old"}}); res.status != http.StatusForbidden {
			t.Errorf("%s retiring: %d", who, res.status)
		}
	}
	if h.live() != before {
		t.Fatal("a refused retire changed the store")
	}
	e := h.login("edit_a")
	if res := e.post(retire, url.Values{"reason": {""}}); res.status != http.StatusBadRequest {
		t.Errorf("retire without a reason: %d", res.status)
	}
	if res := e.post(retire, url.Values{"reason": {"replaced by v2"}}); res.status != http.StatusSeeOther {
		t.Fatalf("retire: %d %s", res.status, res.body)
	}
	revs, err := h.store.History(context.Background(), "a", "login", "v1")
	if err != nil {
		t.Fatal(err)
	}
	last := revs[len(revs)-1]
	if last.Change != "retired" || last.Author != "edit_a" || last.Reason != "replaced by v2" {
		t.Errorf("the retirement's revision: %+v", last)
	}
	if page := e.get("/games/a/events/login/v1"); !strings.Contains(page.body, "Retired:") || strings.Contains(page.body, "Retire v1</button>") {
		t.Errorf("the definition page of a retired definition:\n%s", page.body)
	}
	audit := strings.Join(h.audit("retire"), "\n")
	for _, want := range []string{"viewer refused a/login v1", "edit_b refused a/login v1", "edit_a done a/login v1"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit lacks %q:\n%s", want, audit)
		}
	}

	draft := e.follow("/drafts", url.Values{"kind": {"mappings"}, "game": {"a"}})
	e.follow(draft, url.Values{"mapping-version": {`1\..*`, `2\..*`, `3\..*`}, "mapping-definition": {"v1", "v2", "v2"}, "mapping-priority": {"", "", ""}})
	e.follow(draft+"/publish", url.Values{"reason": {"3.x uses v2"}})
	hist := h.login("viewer").get("/games/a/mappings/history")
	if !strings.Contains(hist.body, "<td>edit_a</td><td>3.x uses v2</td>") || !strings.Contains(hist.body, "<td>1</td>") {
		t.Errorf("the mapping history:\n%s", hist.body)
	}
}
