package studio

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/validate"
)

func TestLogin(t *testing.T) {
	h := newHarness(t)
	anon := h.client()
	if res := anon.get("/"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/login") {
		t.Fatalf("anonymous catalogue: %d %q, want a redirect to /login", res.status, res.location)
	}
	bad := anon.post("/login", url.Values{"name": {"admin"}, "password": {"wrong password!"}})
	if bad.status != http.StatusUnauthorized || !strings.Contains(bad.body, "Wrong user name or password") {
		t.Fatalf("wrong password: %d\n%s", bad.status, bad.body)
	}
	if got := anon.get("/"); got.status != http.StatusSeeOther {
		t.Fatalf("after a failed login the catalogue answered %d", got.status)
	}
	res := anon.post("/login", url.Values{"name": {"admin"}, "password": {password}, "next": {"/games/a"}})
	if res.status != http.StatusSeeOther || res.location != "/games/a" {
		t.Fatalf("login: %d to %q", res.status, res.location)
	}
	cookie := res.header.Get("Set-Cookie")
	for _, want := range []string{cookieName + "=", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("cookie %q is Secure over plain HTTP without --secure-cookies", cookie)
	}
	page := anon.get("/games/a")
	if page.status != http.StatusOK || !strings.Contains(page.body, "admin (admin)") {
		t.Fatalf("game page after login: %d\n%s", page.status, page.body)
	}
	// An open redirect is refused.
	c := h.client()
	if res := c.post("/login", url.Values{"name": {"admin"}, "password": {password}, "next": {"//evil.example/"}}); res.location != "/" {
		t.Errorf("next=//evil.example/ redirected to %q", res.location)
	}
	anon.csrf = csrfOf(t, page.body)
	if res := anon.post("/logout", nil); res.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", res.status)
	}
	if res := anon.get("/"); res.status != http.StatusSeeOther {
		t.Fatalf("after logout the catalogue answered %d", res.status)
	}
}

func TestSessionExpiry(t *testing.T) {
	h := newHarness(t)
	c := h.login("viewer")
	h.advance(29 * time.Minute)
	if res := c.get("/"); res.status != http.StatusOK {
		t.Fatalf("29 minutes idle: %d, want the page", res.status)
	}
	h.advance(31 * time.Minute)
	if res := c.get("/"); res.status != http.StatusSeeOther {
		t.Fatalf("31 minutes idle: %d, want a redirect to sign in", res.status)
	}
	// Used every 20 minutes, a session still ends 12 hours after sign-in.
	c = h.login("viewer")
	for elapsed := time.Duration(0); elapsed < 11*time.Hour+40*time.Minute; elapsed += 20 * time.Minute {
		h.advance(20 * time.Minute)
		if res := c.get("/"); res.status != http.StatusOK {
			t.Fatalf("active session after %v: %d", elapsed+20*time.Minute, res.status)
		}
	}
	h.advance(21 * time.Minute)
	if res := c.get("/"); res.status != http.StatusSeeOther {
		t.Fatalf("12 hours after sign-in: %d, want a redirect to sign in", res.status)
	}
}

func TestCSRFRefusal(t *testing.T) {
	h := newHarness(t)
	c := h.login("admin")
	before := h.live()
	form := func() url.Values {
		return url.Values{"kind": {"definition"}, "game": {"a"}, "event": {"signup"}, "label": {"v1"}}
	}
	cases := []struct {
		name   string
		mutate func(*http.Request, url.Values)
	}{
		{"no token", func(_ *http.Request, f url.Values) { f.Del("csrf") }},
		{"wrong token", func(_ *http.Request, f url.Values) { f.Set("csrf", c.csrf[:len(c.csrf)-1]+"x") }},
		{"other site's origin", func(r *http.Request, _ url.Values) { r.Header.Set("Origin", "http://evil.example") }},
		{"no origin or referer", func(r *http.Request, _ url.Values) { r.Header.Del("Origin") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := form()
			f.Set("csrf", c.csrf)
			req, _ := http.NewRequest("POST", h.ts.URL+"/drafts", nil)
			req.Header.Set("Origin", h.ts.URL)
			tc.mutate(req, f)
			req.Body = ioNopCloser(f.Encode())
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if res := c.do(req); res.status != http.StatusForbidden {
				t.Fatalf("status %d, want 403:\n%s", res.status, res.body)
			}
		})
	}
	if n := h.count(`SELECT count(*) FROM whirlpool_studio.drafts`); n != 0 {
		t.Errorf("%d drafts made by refused requests", n)
	}
	if got := h.audit("csrf"); len(got) != 2 || got[0] != "admin refused /drafts" {
		t.Errorf("audit of CSRF refusals: %q, want 2 (the origin refusals come before the session is known)", got)
	}
	// A Referer of this site stands in for a missing Origin.
	f := form()
	f.Set("csrf", c.csrf)
	req, _ := http.NewRequest("POST", h.ts.URL+"/drafts", ioNopCloser(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", h.ts.URL+"/games/a")
	if res := c.do(req); res.status != http.StatusSeeOther {
		t.Fatalf("same-site Referer: %d\n%s", res.status, res.body)
	}
	if h.live() != before {
		t.Error("the live model changed")
	}
}

func TestViewerCannotWrite(t *testing.T) {
	h := newHarness(t)
	admin := h.login("admin")
	draft := admin.follow("/drafts", url.Values{"kind": {"definition"}, "game": {"a"}, "event": {"login"}, "label": {"v1"}})
	v := h.login("viewer")
	before := h.live()
	writes := []struct{ path string }{
		{"/drafts"},
		{draft},
		{draft + "/publish"},
		{draft + "/delete"},
		{"/games/a/events/login/v1/rollback"},
	}
	for _, w := range writes {
		res := v.post(w.path, url.Values{"kind": {"definition"}, "game": {"a"}, "event": {"x"}, "label": {"v1"}, "reason": {"r"}, "revision": {"1"}, "field-name": {"x"}})
		if res.status != http.StatusForbidden {
			t.Errorf("viewer POST %s: %d, want 403", w.path, res.status)
		}
	}
	if page := v.get("/games/a/events/login/v1"); strings.Contains(page.body, "Roll back") || strings.Contains(page.body, "Edit (draft)") {
		t.Error("the definition page offers a viewer write buttons")
	}
	if h.live() != before {
		t.Error("the live model changed")
	}
	if got := h.audit("publish"); len(got) != 1 || !strings.HasPrefix(got[0], "viewer refused") {
		t.Errorf("publish audit: %q", got)
	}
}

func TestEditorOfOtherGameCannotWrite(t *testing.T) {
	h := newHarness(t)
	eb := h.login("edit_b")
	draftB := eb.follow("/drafts", url.Values{"kind": {"definition"}, "game": {"b"}, "event": {"purchase"}, "label": {"v1"}})
	ea := h.login("edit_a")
	before := h.live()
	for _, path := range []string{draftB, draftB + "/publish", "/games/b/events/purchase/v1/rollback"} {
		if res := ea.post(path, url.Values{"reason": {"r"}, "revision": {"1"}}); res.status != http.StatusForbidden {
			t.Errorf("editor of a POST %s: %d, want 403", path, res.status)
		}
	}
	if res := ea.post("/drafts", url.Values{"kind": {"mappings"}, "game": {"b"}}); res.status != http.StatusForbidden {
		t.Errorf("editor of a drafting b's mappings: %d, want 403", res.status)
	}
	// An imported file that names b as well as a is refused as a whole.
	if res := ea.upload(strings.Replace(baseModel, "a_login", "a_login2", 1)); res.status != http.StatusForbidden {
		t.Errorf("editor of a importing a file with game b: %d, want 403", res.status)
	}
	// Their own game works.
	ea.follow("/drafts", url.Values{"kind": {"mappings"}, "game": {"a"}})
	if h.live() != before {
		t.Error("the live model changed")
	}
}

// rowOf returns the editor's table row whose name input has value name.
func rowOf(t *testing.T, body, name string) string {
	t.Helper()
	for _, row := range strings.Split(body, "<tr>") {
		if strings.Contains(row, `name="field-name" value="`+name+`"`) {
			return row
		}
	}
	t.Fatalf("no editor row for field %s in:\n%s", name, body)
	return ""
}

func fieldForm(c *client, rows [][]string, dests string) url.Values {
	f := url.Values{"csrf": {c.csrf}, "destinations": {dests}, "additional_fields": {"ignore"}}
	cols := []string{"name", "path", "type", "mandatory", "expand", "format", "min", "max", "max_length"}
	for _, r := range rows {
		for i, col := range cols {
			v := ""
			if i < len(r) {
				v = r[i]
			}
			f.Add("field-"+col, v)
		}
	}
	return f
}

func TestBadDefinitionRejected(t *testing.T) {
	h := newHarness(t)
	c := h.login("edit_a")
	draft := c.follow("/drafts", url.Values{"kind": {"definition"}, "game": {"a"}, "event": {"signup"}, "label": {"v1"}})
	before := h.live()
	// Checks: an unknown type, and min on a string, each beside its field.
	loc := c.follow(draft, fieldForm(c, [][]string{
		{"user_id", "user.id", "strnig", "yes"},
		{"nick", "nick", "string", "no", "no", "", "3"},
		{"age", "age", "integer"},
	}, "events.a_signup"))
	page := c.get(loc)
	if !strings.Contains(rowOf(t, page.body, "user_id"), `class="problem"`) || !strings.Contains(rowOf(t, page.body, "user_id"), "strnig") {
		t.Errorf("the type problem is not beside user_id:\n%s", rowOf(t, page.body, "user_id"))
	}
	if !strings.Contains(rowOf(t, page.body, "nick"), "min and max apply to") {
		t.Errorf("the min problem is not beside nick:\n%s", rowOf(t, page.body, "nick"))
	}
	if strings.Contains(rowOf(t, page.body, "age"), `class="problem"`) {
		t.Errorf("a problem shown beside the valid field age:\n%s", rowOf(t, page.body, "age"))
	}
	review := c.get(draft + "/review")
	if strings.Contains(review.body, `action="`+draft+`/publish"`) {
		t.Error("the review of a failing draft offers publishing")
	}
	if res := c.post(draft+"/publish", url.Values{"reason": {"try"}}); res.status != http.StatusBadRequest || !strings.Contains(res.body, "strnig") {
		t.Errorf("publishing a failing draft: %d\n%s", res.status, res.body)
	}
	// Input the editor cannot read: the message names the field and the
	// draft keeps its saved content.
	res := c.post(draft, fieldForm(c, [][]string{{"user_id", "user.id", "string", "yes", "no", "", "", "", "ten"}}, "events.a_signup"))
	if res.status != http.StatusBadRequest || !strings.Contains(res.body, `max_length &#34;ten&#34;: must be a whole number`) {
		t.Fatalf("bad max_length: %d\n%s", res.status, res.body)
	}
	if !strings.Contains(rowOf(t, res.body, "user_id"), "max_length") {
		t.Error("the max_length message is not beside user_id")
	}
	if saved := c.get(draft); !strings.Contains(saved.body, `value="strnig"`) {
		t.Error("the draft changed on unreadable input")
	}
	if h.live() != before {
		t.Errorf("the live model changed:\n%s\nwas\n%s", h.live(), before)
	}
	if got := h.audit("publish"); len(got) != 1 || !strings.HasPrefix(got[0], "edit_a refused") {
		t.Errorf("publish audit: %q", got)
	}
}

func TestPublishCreatesRevision(t *testing.T) {
	h := newHarness(t)
	c := h.login("edit_a")
	draft := c.follow("/drafts", url.Values{"kind": {"definition"}, "game": {"a"}, "event": {"login"}, "label": {"v1"}})
	c.follow(draft, fieldForm(c, [][]string{
		{"user_id", "user.id", "string", "yes"},
		{"level", "level", "integer", "no", "no", "", "1", "99"},
		{"country", "geo.country", "string", "no", "no", "", "", "", "2"},
	}, "events.a_login"))
	if review := c.get(draft + "/review"); !strings.Contains(review.body, "passes its checks") {
		t.Fatalf("review:\n%s", review.body)
	}
	loc := c.follow(draft+"/publish", url.Values{"reason": {"add country"}})
	if loc != "/games/a/events/login/v1" {
		t.Errorf("publish redirected to %q", loc)
	}
	ctx := context.Background()
	hist, err := h.store.History(ctx, "a", "login", "v1")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[1].Change != "changed" {
		t.Fatalf("history %+v, want revision 2 changed", hist)
	}
	m, _ := h.store.Load(ctx)
	var got []string
	for _, f := range m.Games[0].Events[0].Definitions[0].Fields {
		got = append(got, f.Name)
	}
	if !slices.Equal(got, []string{"user_id", "level", "country"}) {
		t.Errorf("published fields %q", got)
	}
	if len(m.Games[0].Mappings) != 2 || len(m.Games[1].Mappings) != 1 {
		t.Errorf("publishing a definition changed mappings: %+v", m.Games)
	}
	page := c.get(loc)
	if !regexp.MustCompile(`<td>2</td><td>[^<]+</td><td>edit_a</td><td>add country</td>`).MatchString(page.body) {
		t.Errorf("the history does not show revision 2 by edit_a with its reason:\n%s", page.body)
	}
	if got := h.audit("publish"); len(got) != 1 || got[0] != "edit_a done a/login v1" {
		t.Errorf("publish audit: %q", got)
	}
	if n := h.count(`SELECT count(*) FROM whirlpool_studio.drafts`); n != 0 {
		t.Errorf("%d drafts left after publishing", n)
	}
	// A second draft started from revision 1 is stale now.
	stale := h.login("admin")
	d2 := stale.follow("/drafts", url.Values{"kind": {"mappings"}, "game": {"a"}})
	stale.follow(d2, url.Values{"mapping-version": {`1\..*`, `2\..*`, `3\..*`}, "mapping-definition": {"v1", "v2", "v2"}, "mapping-priority": {"", "", ""}})
	stale.follow(d2+"/publish", url.Values{"reason": {"map 3.x"}})
	m, _ = h.store.Load(ctx)
	if len(m.Games[0].Mappings) != 3 || len(m.Games[0].Events[0].Definitions[0].Fields) != 3 {
		t.Errorf("after publishing mappings: %+v", m.Games[0])
	}
}

func TestRollback(t *testing.T) {
	h := newHarness(t)
	c := h.login("edit_a")
	draft := c.follow("/drafts", url.Values{"kind": {"definition"}, "game": {"a"}, "event": {"login"}, "label": {"v2"}})
	c.follow(draft, fieldForm(c, [][]string{{"user_id", "user.id", "string", "no"}}, "events.a_login"))
	c.follow(draft+"/publish", url.Values{"reason": {"optional user"}})
	if res := c.post("/games/a/events/login/v2/rollback", url.Values{"revision": {"1"}}); res.status != http.StatusBadRequest || !strings.Contains(res.body, "reason") {
		t.Errorf("rollback without a reason: %d %s", res.status, res.body)
	}
	c.follow("/games/a/events/login/v2/rollback", url.Values{"revision": {"1"}, "reason": {"clients broke"}})
	ctx := context.Background()
	hist, _ := h.store.History(ctx, "a", "login", "v2")
	if len(hist) != 3 || hist[2].Change != "rollback to revision 1" {
		t.Fatalf("history %+v", hist)
	}
	m, _ := h.store.Load(ctx)
	if !m.Games[0].Events[0].Definitions[1].Fields[0].Mandatory {
		t.Error("after rollback user_id is not mandatory again")
	}
	if page := c.get("/games/a/events/login/v2"); !strings.Contains(page.body, "clients broke") {
		t.Error("the history does not show the rollback's reason")
	}
	if got := h.audit("rollback"); len(got) != 2 || got[0] != "edit_a refused a/login v2" || got[1] != "edit_a done a/login v2" {
		t.Errorf("rollback audit: %q", got)
	}
}

func (c *client) upload(content string) response {
	c.h.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	mw.WriteField("csrf", c.csrf)
	fw, _ := mw.CreateFormFile("model", "model.yaml")
	fw.Write([]byte(content))
	mw.Close()
	req, _ := http.NewRequest("POST", c.h.ts.URL+"/import", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", c.h.ts.URL)
	return c.do(req)
}

func TestImportExportRoundTrip(t *testing.T) {
	h := newHarness(t)
	c := h.login("admin")
	exp := c.get("/export")
	if exp.status != http.StatusOK || !strings.Contains(exp.header.Get("Content-Disposition"), "model.yaml") {
		t.Fatalf("export: %d %v", exp.status, exp.header)
	}
	exported, err := validate.ParseModel([]byte(exp.body))
	if err != nil {
		t.Fatalf("the export does not parse: %v\n%s", err, exp.body)
	}
	live, _ := h.store.Load(context.Background())
	if !sameModel(exported, live) {
		t.Errorf("export differs from the store:\n%s", exp.body)
	}
	// Importing the export changes nothing.
	res := c.upload(exp.body)
	if res.status != http.StatusSeeOther {
		t.Fatalf("import: %d %s", res.status, res.body)
	}
	before := h.live()
	c.follow(strings.TrimSuffix(res.location, "/review")+"/publish", url.Values{"reason": {"round trip"}})
	if h.live() != before {
		t.Errorf("importing the export changed the store:\n%s\nwas\n%s", h.live(), before)
	}
	// A file naming game a without mappings adds its event and keeps the
	// mappings.
	res = c.upload(`
games:
  - name: a
    events:
      - name: logout
        definitions:
          - version: v1
            destinations: [events.a_logout]
            fields: [{name: user_id, path: user.id, type: string}]
`)
	review := c.get(res.location)
	if !strings.Contains(review.body, "passes its checks") {
		t.Fatalf("review of the import:\n%s", review.body)
	}
	c.follow(strings.TrimSuffix(res.location, "/review")+"/publish", url.Values{"reason": {"add logout"}})
	m, _ := h.store.Load(context.Background())
	if len(m.Games[0].Mappings) != 2 || len(m.Games[0].Events) != 2 {
		t.Errorf("after import: %+v", m.Games[0])
	}
	again, err := validate.ParseModel([]byte(c.get("/export").body))
	if err != nil || !sameModel(again, m) {
		t.Errorf("second export differs from the store (%v)", err)
	}
	// A file that fails its checks is shown, not applied.
	res = c.upload("games:\n  - name: a\n    mappings: [{version: '(', definition: v1}]\n")
	review = c.get(res.location)
	if !strings.Contains(review.body, "would not pass") || !strings.Contains(review.body, "mapping #1") {
		t.Errorf("review of a bad import:\n%s", review.body)
	}
	if r := c.post(strings.TrimSuffix(res.location, "/review")+"/publish", url.Values{"reason": {"x"}}); r.status != http.StatusBadRequest {
		t.Errorf("publishing a bad import: %d", r.status)
	}
	// So is a file that names a game twice (laid over the live model, the
	// two would merge).
	res = c.upload("games:\n  - name: b\n  - name: b\n")
	if review := c.get(res.location); !strings.Contains(review.body, "defined twice") {
		t.Errorf("review of an import naming b twice:\n%s", review.body)
	}
	if r := c.post(strings.TrimSuffix(res.location, "/review")+"/publish", url.Values{"reason": {"x"}}); r.status != http.StatusBadRequest {
		t.Errorf("publishing an import naming b twice: %d", r.status)
	}
	if got := h.audit("import"); len(got) != 4 {
		t.Errorf("import audit: %q", got)
	}
}

func sameModel(a, b *validate.Model) bool {
	ja, _ := yamlOf(a)
	jb, _ := yamlOf(b)
	return ja == jb
}

func TestAuditRowsForEachWrite(t *testing.T) {
	h := newHarness(t)
	c := h.login("edit_a")
	draft := c.follow("/drafts", url.Values{"kind": {"definition"}, "game": {"a"}, "event": {"login"}, "label": {"v3"}, "from": {"v2"}})
	c.follow(draft, fieldForm(c, [][]string{{"user_id", "user.id", "string", "yes"}}, "events.a_login"))
	c.follow(draft+"/publish", url.Values{"reason": {"v3"}})
	d2 := c.follow("/drafts", url.Values{"kind": {"mappings"}, "game": {"a"}})
	c.follow(d2+"/delete", nil)
	c.follow("/games/a/events/login/v1/rollback", url.Values{"revision": {"1"}, "reason": {"noop"}})
	c.follow("/logout", nil)
	want := map[string][]string{
		"login":        {"edit_a done "},
		"new draft":    {"edit_a done a/login v3", "edit_a done a"},
		"save draft":   {"edit_a done " + strings.TrimPrefix(draft, "/drafts/")},
		"publish":      {"edit_a done a/login v3"},
		"delete draft": {"edit_a done " + strings.TrimPrefix(d2, "/drafts/")},
		"rollback":     {"edit_a done a/login v1"},
		"logout":       {"edit_a done "},
	}
	for action, rows := range want {
		got := h.audit(action)
		for i := range got {
			got[i] = strings.Replace(got[i], "draft ", "", 1)
		}
		if !slices.Equal(got, rows) {
			t.Errorf("audit %s: %q, want %q", action, got, rows)
		}
	}
	admin := h.login("admin")
	if page := admin.get("/audit"); !strings.Contains(page.body, "reason: v3") {
		t.Errorf("the audit page lacks the publish:\n%s", page.body)
	}
}

func TestMappingsEditorShowsProblemBesideMapping(t *testing.T) {
	h := newHarness(t)
	c := h.login("edit_a")
	draft := c.follow("/drafts", url.Values{"kind": {"mappings"}, "game": {"a"}})
	c.follow(draft, url.Values{"mapping-version": {`1\..*`, `(`}, "mapping-definition": {"v1", "v2"}, "mapping-priority": {"", "1"}})
	page := c.get(draft)
	rows := strings.Split(page.body, "<tr>")
	var row string
	for _, r := range rows {
		if strings.Contains(r, `value="("`) {
			row = r
		}
	}
	if !strings.Contains(row, `class="problem"`) || !strings.Contains(row, "version pattern") {
		t.Errorf("the regexp problem is not beside mapping 2:\n%s", row)
	}
	res := c.post(draft, url.Values{"mapping-version": {"1"}, "mapping-definition": {"v1"}, "mapping-priority": {"high"}})
	if res.status != http.StatusBadRequest || !strings.Contains(res.body, "priority &#34;high&#34;") {
		t.Errorf("bad priority: %d\n%s", res.status, res.body)
	}
}

func TestGamePageResolvesVersion(t *testing.T) {
	h := newHarness(t)
	c := h.login("viewer")
	cases := []struct{ version, want string }{
		{"1.4.2", "definition <strong>v1</strong>"},
		{"2.0", "definition <strong>v2</strong>"},
		{"3.0", "VERSION_UNMAPPED"},
	}
	for _, tc := range cases {
		if page := c.get("/games/a?version=" + url.QueryEscape(tc.version)); !strings.Contains(page.body, tc.want) {
			t.Errorf("resolve %s: want %q in\n%s", tc.version, tc.want, page.body)
		}
	}
}

func TestCatalogueSearch(t *testing.T) {
	h := newHarness(t)
	c := h.login("viewer")
	cases := []struct{ q, want string }{
		{"purch", "/games/b#event-purchase"},
		{"user.id", "/games/a/events/login/v2"},
		{"b_purchase", "/games/b/events/purchase/v1"},
	}
	for _, tc := range cases {
		if page := c.get("/?q=" + url.QueryEscape(tc.q)); !strings.Contains(page.body, tc.want) {
			t.Errorf("search %q: no link %s", tc.q, tc.want)
		}
	}
}

func TestSecurityHeadersAndLimits(t *testing.T) {
	h := newHarness(t)
	c := h.login("admin")
	page := c.get("/")
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
	} {
		if !strings.Contains(page.header.Get(k), want) {
			t.Errorf("%s: %q", k, page.header.Get(k))
		}
	}
	if strings.Contains(page.body, "<script") {
		t.Error("a page has a script")
	}
	big := url.Values{"destinations": {strings.Repeat("x", MaxFormBytes)}}
	if res := c.post("/drafts", big); res.status != http.StatusRequestEntityTooLarge {
		t.Errorf("a form over the limit: %d", res.status)
	}
}

func TestLoginThrottled(t *testing.T) {
	h := newHarness(t)
	c := h.client()
	for i := range maxFailures {
		if res := c.post("/login", url.Values{"name": {"viewer"}, "password": {"guess " + strconv.Itoa(i)}}); res.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, res.status)
		}
	}
	if res := c.post("/login", url.Values{"name": {"viewer"}, "password": {password}}); res.status != http.StatusTooManyRequests {
		t.Fatalf("right password after %d wrong ones: %d, want 429", maxFailures, res.status)
	}
	if res := c.post("/login", url.Values{"name": {"admin"}, "password": {password}}); res.status != http.StatusSeeOther {
		t.Errorf("another name is not throttled: %d", res.status)
	}
	h.advance(failureWindow + time.Second)
	if res := c.post("/login", url.Values{"name": {"viewer"}, "password": {password}}); res.status != http.StatusSeeOther {
		t.Errorf("after the window: %d", res.status)
	}
}

func TestTargetPagesSayTheyNeedTheTarget(t *testing.T) {
	h := newHarness(t)
	c := h.login("admin")
	for _, path := range []string{"/violations", "/violations/samples?game=a", "/violations/replay?game=a"} {
		if res := c.get(path); res.status != http.StatusServiceUnavailable || !strings.Contains(res.body, "--target") {
			t.Errorf("GET %s without a target: %d %s", path, res.status, res.body)
		}
	}
	if res := c.post("/violations/replay", url.Values{"game": {"a"}, "confirm": {"yes"}}); res.status != http.StatusServiceUnavailable {
		t.Errorf("POST /violations/replay without a target: %d", res.status)
	}
	d := c.follow("/drafts", url.Values{"kind": {"definition"}, "game": {"a"}, "event": {"login"}, "label": {"v1"}})
	if page := c.get(d + "/review"); !strings.Contains(page.body, "cannot be shown") {
		t.Errorf("the review without a target does not say the DDL cannot be shown:\n%s", page.body)
	}
}

func TestPublishNewGameAndStaleDraft(t *testing.T) {
	h := newHarness(t)
	admin := h.login("admin")
	d := admin.follow("/drafts", url.Values{"kind": {"definition"}, "game": {"c"}, "event": {"boot"}, "label": {"v1"}})
	admin.follow(d, fieldForm(admin, [][]string{{"device", "device", "string"}}, "events.c_boot"))
	admin.follow(d+"/publish", url.Values{"reason": {"new game"}})
	m, _ := h.store.Load(context.Background())
	if len(m.Games) != 3 || m.Games[2].Name != "c" || m.Games[2].Events[0].Definitions[0].Revision != 1 {
		t.Fatalf("new game c not published: %+v", m.Games)
	}
	// Two drafts of a/login v1 from revision 1: the second to publish is
	// refused, and says why.
	ea := h.login("edit_a")
	first := ea.follow("/drafts", url.Values{"kind": {"definition"}, "game": {"a"}, "event": {"login"}, "label": {"v1"}})
	second := admin.follow("/drafts", url.Values{"kind": {"definition"}, "game": {"a"}, "event": {"login"}, "label": {"v1"}})
	ea.follow(first, fieldForm(ea, [][]string{{"user_id", "user.id", "string", "no"}}, "events.a_login"))
	ea.follow(first+"/publish", url.Values{"reason": {"optional"}, "confirm_breaking": {"yes"}})
	admin.follow(second, fieldForm(admin, [][]string{{"user_id", "user.id", "string", "yes", "no", "", "", "", "64"}}, "events.a_login"))
	if review := admin.get(second + "/review"); !strings.Contains(review.body, "revision 2 now") {
		t.Errorf("the review of a stale draft does not say so:\n%s", review.body)
	}
	before := h.live()
	if res := admin.post(second+"/publish", url.Values{"reason": {"max length"}}); res.status != http.StatusConflict {
		t.Errorf("publishing a stale draft: %d %s", res.status, res.body)
	}
	if h.live() != before {
		t.Error("a stale draft changed the store")
	}
}
