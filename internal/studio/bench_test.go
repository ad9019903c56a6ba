package studio

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/studio/auth"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// generatedModel has games × events × versions definition versions, each
// with a few fields and one destination, and a mapping per version.
func generatedModel(games, events, versions int) *validate.Model {
	m := &validate.Model{}
	for g := range games {
		game := validate.Game{Name: fmt.Sprintf("game%03d", g)}
		for v := range versions {
			game.Mappings = append(game.Mappings, validate.Mapping{Version: fmt.Sprintf(`%d\..*`, v+1), Definition: fmt.Sprintf("v%d", v+1)})
		}
		for e := range events {
			ev := validate.Event{Name: fmt.Sprintf("event%02d", e)}
			for v := range versions {
				ev.Definitions = append(ev.Definitions, validate.Definition{
					Version:      fmt.Sprintf("v%d", v+1),
					Destinations: []string{fmt.Sprintf("events.g%03d_e%02d", g, e)},
					Fields: []validate.Field{
						{Name: "user_id", Path: "user.id", Type: "string", Mandatory: true},
						{Name: "level", Path: "level", Type: "integer", Min: "1", Max: "999"},
						{Name: fmt.Sprintf("score_v%d", v+1), Path: "score", Type: "number"},
					},
				})
			}
			game.Events = append(game.Events, ev)
		}
		m.Games = append(m.Games, game)
	}
	return m
}

// BenchmarkPages renders each page with 100 games × 50 events × 5
// definition versions in the store, through the whole handler (session
// lookup, store stamp, render). Target: each page under 100 ms.
func BenchmarkPages(b *testing.B) {
	dsn := testenv.Postgres(b)
	st, err := validate.OpenStore(dsn)
	if err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close(); db.Close() })
	ctx := context.Background()
	srv, err := New(ctx, Config{Store: st, DB: db, Log: log.New(io.Discard, "", 0)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := st.Apply(ctx, generatedModel(100, 50, 5)); err != nil {
		b.Fatal(err)
	}
	if err := srv.Accounts().AddUser(ctx, "admin", password, auth.Admin, nil); err != nil {
		b.Fatal(err)
	}
	token, _, err := srv.Accounts().Login(ctx, "admin", password)
	if err != nil {
		b.Fatal(err)
	}
	get := func(path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		req.AddCookie(&http.Cookie{Name: cookieName, Value: token})
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	post := func(path string, form url.Values) string {
		sess, _ := srv.Accounts().Session(ctx, token)
		form.Set("csrf", sess.CSRF)
		req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://example.com")
		req.AddCookie(&http.Cookie{Name: cookieName, Value: token})
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			b.Fatalf("POST %s: %d %s", path, rec.Code, rec.Body)
		}
		return rec.Header().Get("Location")
	}
	draft := post("/drafts", url.Values{"kind": {"definition"}, "game": {"game050"}, "event": {"event25"}, "label": {"v3"}})
	mappings := post("/drafts", url.Values{"kind": {"mappings"}, "game": {"game050"}})
	pages := []struct{ name, path string }{
		{"catalogue", "/"},
		{"search", "/?q=score_v3"},
		{"game", "/games/game050"},
		{"resolve", "/games/game050?version=3.1.4"},
		{"definition", "/games/game050/events/event25/v3"},
		{"editor", draft},
		{"mappings-editor", mappings},
		{"review", draft + "/review"},
		{"drafts", "/drafts"},
		{"audit", "/audit"},
		{"import", "/import"},
		{"try", "/games/game050/try"},
		{"mapping-history", "/games/game050/mappings/history"},
	}
	for _, p := range pages {
		if rec := get(p.path); rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", p.path, rec.Code, rec.Body)
		}
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				get(p.path)
			}
		})
	}
}
