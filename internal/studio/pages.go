package studio

// The read-only pages: sign-in, catalogue, game, definition, drafts,
// import form, export and audit.

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/studio/auth"
)

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, http.StatusOK, "")
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if err := s.render(&request{w: w, r: r}, status, "login", map[string]any{"Error": msg, "Next": safeNext(r.FormValue("next"))}); err != nil {
		s.fail(w, err)
	}
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if !sameOrigin(r) {
		http.Error(w, "refused: the request did not come from this site (Origin/Referer)", http.StatusForbidden)
		return
	}
	if err := parseForm(r); err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	name := r.PostFormValue("name")
	if s.logins.blocked(name, s.now()) {
		s.db.audit(r.Context(), cut(name, 64), "login", "", OutcomeRefused, "too many wrong passwords")
		s.renderLogin(w, r, http.StatusTooManyRequests, "Too many wrong passwords for this name: try again in 15 minutes.")
		return
	}
	token, _, err := s.accounts.Login(r.Context(), name, r.PostFormValue("password"))
	if errors.Is(err, auth.ErrBadLogin) {
		s.logins.failed(name, s.now())
		s.db.audit(r.Context(), cut(name, 64), "login", "", OutcomeRefused, "wrong user name or password")
		s.renderLogin(w, r, http.StatusUnauthorized, "Wrong user name or password.")
		return
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	s.logins.succeeded(name)
	s.db.audit(r.Context(), name, "login", "", OutcomeDone, "")
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: token, Path: "/", HttpOnly: true, Secure: s.secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: int(s.cfg.MaxAge.Seconds()),
	})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

func (s *Server) logout(req *request) error {
	c, _ := req.r.Cookie(cookieName)
	if err := s.accounts.Logout(req.r.Context(), c.Value); err != nil {
		return err
	}
	s.db.audit(req.r.Context(), req.user.Name, "logout", "", OutcomeDone, "")
	http.SetCookie(req.w, &http.Cookie{Name: cookieName, Value: "", Path: "/", HttpOnly: true, Secure: s.secure(req.r), SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(req.w, req.r, "/login", http.StatusSeeOther)
	return nil
}

type gameRow struct {
	Name         string
	Events, Defs int
	Mappings     int
	Editable     bool
}

func (s *Server) cataloguePage(req *request) error {
	snap, err := s.catalog.current(req.r.Context())
	if err != nil {
		return err
	}
	q := req.r.FormValue("q")
	if len(q) > 200 {
		return badRequest("q: at most 200 characters")
	}
	var games []gameRow
	for _, g := range snap.model.Games {
		row := gameRow{Name: g.Name, Events: len(g.Events), Mappings: len(g.Mappings), Editable: req.user.CanEdit(g.Name)}
		for _, e := range g.Events {
			row.Defs += len(e.Definitions)
		}
		games = append(games, row)
	}
	results, more := snap.find(q)
	type hit struct{ Game, Event, Label, What, Text, Link string }
	var hits []hit
	for _, e := range results {
		link := "/games/" + url.PathEscape(e.game)
		if e.label != "" {
			link += "/events/" + url.PathEscape(e.event) + "/" + url.PathEscape(e.label)
		} else {
			link += "#event-" + e.event
		}
		hits = append(hits, hit{e.game, e.event, e.label, e.what, e.text, link})
	}
	return s.render(req, http.StatusOK, "catalogue", map[string]any{"Games": games, "Q": q, "Hits": hits, "More": more})
}

func (s *Server) gamePage(req *request) error {
	snap, err := s.catalog.current(req.r.Context())
	if err != nil {
		return err
	}
	name := req.r.PathValue("game")
	g := snap.games[name]
	if g == nil {
		return notFound("no game %s", name)
	}
	data := map[string]any{"Game": g, "Editable": req.user.CanEdit(name)}
	if v := req.r.FormValue("version"); v != "" {
		if len(v) > 128 {
			return badRequest("version: at most 128 characters")
		}
		res := map[string]any{"Version": v}
		val, err := snap.validator()
		if err != nil {
			return err
		}
		label, err := val.Resolve(name, v)
		res["Label"] = label
		var rerr *validate.ResolveError
		if errors.As(err, &rerr) {
			res["Error"], res["Code"] = rerr.Message, string(rerr.Code)
		} else if err != nil {
			return err
		} else {
			var missing []string
			for _, e := range g.Events {
				if snap.definition(name, e.Name, label) == nil {
					missing = append(missing, e.Name)
				}
			}
			res["Missing"] = missing
		}
		data["Resolved"] = res
	}
	return s.render(req, http.StatusOK, "game", data)
}

func (s *Server) definitionPage(req *request) error {
	ctx := req.r.Context()
	snap, err := s.catalog.current(ctx)
	if err != nil {
		return err
	}
	game, event, label := req.r.PathValue("game"), req.r.PathValue("event"), req.r.PathValue("label")
	d := snap.definition(game, event, label)
	if d == nil {
		return notFound("no definition %s/%s %s", game, event, label)
	}
	hist, err := s.history(req, game, event, label)
	if err != nil {
		return err
	}
	var mappedBy []validate.Mapping
	for _, mp := range snap.games[game].Mappings {
		if mp.Definition == label {
			mappedBy = append(mappedBy, mp)
		}
	}
	return s.render(req, http.StatusOK, "definition", map[string]any{
		"Game": game, "Event": event, "Def": d, "History": hist, "MappedBy": mappedBy,
		"Editable": req.user.CanEdit(game), "Versions": snap.event(game, event).Definitions,
	})
}

// history is a definition version's revisions, newest first, with author
// and reason.
func (s *Server) history(req *request, game, event, label string) ([]validate.Revision, error) {
	revs, err := s.cfg.Store.History(req.r.Context(), game, event, label)
	if err != nil {
		return nil, err
	}
	slices.Reverse(revs)
	return revs, nil
}

// mappingHistoryPage lists the revisions of a game's mappings, newest
// first, with who made each and why.
func (s *Server) mappingHistoryPage(req *request) error {
	game := req.r.PathValue("game")
	snap, err := s.catalog.current(req.r.Context())
	if err != nil {
		return err
	}
	if snap.games[game] == nil {
		return notFound("no game %s", game)
	}
	revs, err := s.cfg.Store.MappingHistory(req.r.Context(), game)
	if err != nil {
		return err
	}
	slices.Reverse(revs)
	return s.render(req, http.StatusOK, "mappinghistory", map[string]any{"Game": snap.games[game], "History": revs})
}

func (s *Server) draftsPage(req *request) error {
	drafts, err := s.db.drafts(req.r.Context())
	if err != nil {
		return err
	}
	return s.render(req, http.StatusOK, "drafts", map[string]any{"Drafts": drafts})
}

func (s *Server) importPage(req *request) error {
	return s.render(req, http.StatusOK, "import", nil)
}

// export downloads the live model in the conf/model.yaml format.
func (s *Server) export(req *request) error {
	snap, err := s.catalog.current(req.r.Context())
	if err != nil {
		return err
	}
	out, err := validate.FormatModel(snap.model)
	if err != nil {
		return err
	}
	h := req.w.Header()
	h.Set("Content-Type", "application/yaml; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="model.yaml"`)
	_, err = req.w.Write(out)
	return err
}

func (s *Server) auditPage(req *request) error {
	entries, err := s.db.auditLog(req.r.Context(), 500)
	if err != nil {
		return err
	}
	return s.render(req, http.StatusOK, "audit", map[string]any{"Entries": entries})
}
