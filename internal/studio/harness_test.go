package studio

import (
	"context"
	"database/sql"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"gopkg.in/yaml.v3"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/studio/auth"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// baseModel is the store's content at the start of each test: game a
// (mapped 1.x → v1, 2.x → v2) and game b.
const baseModel = `
games:
  - name: a
    mappings:
      - version: '1\..*'
        definition: v1
      - version: '2\..*'
        definition: v2
    events:
      - name: login
        definitions:
          - version: v1
            destinations: [events.a_login]
            fields:
              - {name: user_id, path: user.id, type: string, mandatory: true}
              - {name: level, path: level, type: integer, min: 1, max: 99}
          - version: v2
            destinations: [events.a_login]
            fields:
              - {name: user_id, path: user.id, type: string, mandatory: true}
  - name: b
    mappings:
      - version: '.*'
        definition: v1
    events:
      - name: purchase
        definitions:
          - version: v1
            destinations: [events.b_purchase]
            fields:
              - {name: amount, path: amount, type: number}
`

const password = "correct horse battery"

// harness is a studio over a fresh database with the base model and
// the accounts admin, viewer, edit_a (editor of a) and edit_b.
type harness struct {
	t     *testing.T
	srv   *Server
	ts    *httptest.Server
	store *validate.Store
	db    *sql.DB
	dsn   string

	mu  sync.Mutex
	now time.Time
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, nil)
}

// newTargetHarness is a harness whose target (event tables, failures
// table) is its own database, with replay's auto_create on.
func newTargetHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, func(c *Config, dsn string, db *sql.DB) {
		c.Target, c.TargetDSN, c.AutoCreate = db, dsn, true
	})
}

func newHarnessWith(t *testing.T, configure func(c *Config, dsn string, db *sql.DB)) *harness {
	t.Helper()
	dsn := testenv.Postgres(t)
	st, err := validate.OpenStore(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(); db.Close() })
	ctx := context.Background()
	h := &harness{t: t, store: st, db: db, dsn: dsn, now: time.Now()}
	cfg := Config{Store: st, DB: db, Now: h.clock, Log: log.New(io.Discard, "", 0)}
	if configure != nil {
		configure(&cfg, dsn, db)
	}
	srv, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m, err := validate.ParseModel([]byte(baseModel))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Apply(ctx, m); err != nil {
		t.Fatal(err)
	}
	users := []struct {
		name  string
		role  auth.Role
		games []string
	}{{"admin", auth.Admin, nil}, {"viewer", auth.Viewer, nil}, {"edit_a", auth.Editor, []string{"a"}}, {"edit_b", auth.Editor, []string{"b"}}}
	for _, u := range users {
		if err := srv.Accounts().AddUser(ctx, u.name, password, u.role, u.games); err != nil {
			t.Fatal(err)
		}
	}
	h.srv = srv
	h.ts = httptest.NewServer(srv)
	t.Cleanup(h.ts.Close)
	return h
}

func (h *harness) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
}

// client is one browser: its cookies and the CSRF token of its pages.
type client struct {
	h    *harness
	http *http.Client
	csrf string
}

func (h *harness) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{h: h, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// login signs in as name and reads the CSRF token from the catalogue.
func (h *harness) login(name string) *client {
	h.t.Helper()
	c := h.client()
	res := c.post("/login", url.Values{"name": {name}, "password": {password}})
	if res.status != http.StatusSeeOther {
		h.t.Fatalf("login %s: %d %s", name, res.status, res.body)
	}
	page := c.get("/")
	if page.status != http.StatusOK {
		h.t.Fatalf("catalogue after login: %d", page.status)
	}
	c.csrf = csrfOf(h.t, page.body)
	return c
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", body)
	}
	return m[1]
}

type response struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (c *client) do(req *http.Request) response {
	c.h.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, string(b), res.Header.Get("Location"), res.Header}
}

func (c *client) get(path string) response {
	c.h.t.Helper()
	req, _ := http.NewRequest("GET", c.h.ts.URL+path, nil)
	return c.do(req)
}

// post sends a form from the studio's own page (Origin set), with the
// client's CSRF token unless form has one.
func (c *client) post(path string, form url.Values) response {
	c.h.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok && c.csrf != "" {
		form.Set("csrf", c.csrf)
	}
	req, _ := http.NewRequest("POST", c.h.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.h.ts.URL)
	return c.do(req)
}

// follow posts and requires a redirect, returning its target.
func (c *client) follow(path string, form url.Values) string {
	c.h.t.Helper()
	res := c.post(path, form)
	if res.status != http.StatusSeeOther {
		c.h.t.Fatalf("POST %s: %d, want 303:\n%s", path, res.status, res.body)
	}
	return res.location
}

// live is the store's current model as YAML, to compare before and after.
func (h *harness) live() string {
	h.t.Helper()
	m, err := h.store.Load(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	var b strings.Builder
	for _, g := range m.Games {
		b.WriteString(g.Name + ":")
		for _, mp := range g.Mappings {
			b.WriteString(" " + mp.Version + "→" + mp.Definition)
		}
		for _, e := range g.Events {
			for _, d := range e.Definitions {
				b.WriteString(" " + e.Name + "/" + d.Version + "@" + itoa(d.Revision))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

// audit returns the audit rows of action as "user outcome target".
func (h *harness) audit(action string) []string {
	h.t.Helper()
	rows, err := h.db.Query(`SELECT username, outcome, target FROM whirlpool_studio.audit WHERE action = $1 ORDER BY id`, action)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u, o, tg string
		if err := rows.Scan(&u, &o, &tg); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, u+" "+o+" "+tg)
	}
	return out
}

func (h *harness) count(q string) int {
	h.t.Helper()
	var n int
	if err := h.db.QueryRow(q).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

func ioNopCloser(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }

func yamlOf(m *validate.Model) (string, error) {
	b, err := yaml.Marshal(m)
	return string(b), err
}
