package studio

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/logsafe"
	"github.com/whirlpool-events/whirlpool/internal/studio/auth"
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
)

// Request body limits: a form, and an uploaded model file.
const (
	MaxFormBytes   = 1 << 20
	MaxImportBytes = 8 << 20
)

// Config configures a Server.
type Config struct {
	Store *validate.Store // the model store (whirlpool_model)
	DB    *sql.DB         // where the studio keeps its own tables (whirlpool_studio)
	// SecureCookies marks the session cookie Secure even when the request
	// did not come over TLS (behind a TLS-terminating proxy).
	SecureCookies bool
	// IdleTimeout and MaxAge end sessions (defaults 30 minutes and 12 hours).
	IdleTimeout, MaxAge time.Duration
	// Target is the pipeline's database, with the event tables and the
	// failures table: the review's DDL, the violations pages, drafts from
	// observed events and replay read it (nil: they say it is needed).
	// TargetDSN is its connection string, for replay's load.
	Target        *sql.DB
	TargetDSN     string
	Dialect       string // of Target: postgres (default) or redshift
	FailuresTable string // schema.table (default failures.events)
	// AutoCreate lets replay create missing tables and columns, as the
	// output's auto_create does.
	AutoCreate bool
	Log        *log.Logger
	Now        func() time.Time // the clock; time.Now when nil
}

// Server is the studio's HTTP handler.
type Server struct {
	cfg      Config
	accounts *auth.Accounts
	db       db
	catalog  *catalog
	pages    map[string]*template.Template
	mux      *http.ServeMux
	logins   throttle
}

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

//go:embed templates/*.html static/*
var assets embed.FS

const cookieName = "whirlpool_studio"

// New prepares the studio: creates its tables when missing and parses the
// templates.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 12 * time.Hour
	}
	if cfg.Dialect == "" {
		cfg.Dialect = "postgres"
	}
	if cfg.FailuresTable == "" {
		cfg.FailuresTable = "failures.events"
	}
	if _, err := redshift.ParseDialect(cfg.Dialect); err != nil {
		return nil, err
	}
	if _, err := redshift.QuoteTable(cfg.FailuresTable); err != nil {
		return nil, fmt.Errorf("failures table: %w", err)
	}
	if cfg.Log == nil {
		cfg.Log = log.Default()
	}
	s := &Server{cfg: cfg, db: db{cfg.DB}, catalog: &catalog{store: cfg.Store}}
	s.accounts = auth.New(cfg.DB, cfg.IdleTimeout, cfg.MaxAge)
	s.accounts.Now = cfg.Now
	if err := s.accounts.Init(ctx); err != nil {
		return nil, err
	}
	if err := s.db.init(ctx); err != nil {
		return nil, err
	}
	if err := cfg.Store.Init(ctx); err != nil {
		return nil, err
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Accounts returns the accounts the server signs in against.
func (s *Server) Accounts() *auth.Accounts { return s.accounts }

func (s *Server) parseTemplates() error {
	funcs := template.FuncMap{
		"join": strings.Join,
		"when": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
		"add":  func(a, b int) int { return a + b },
	}
	names, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return err
	}
	s.pages = map[string]*template.Template{}
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", n)
		if err != nil {
			return fmt.Errorf("studio templates: %w", err)
		}
		s.pages[strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")] = t
	}
	return nil
}

func (s *Server) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(assets, "static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /login", s.loginPage)
	m.HandleFunc("POST /login", s.login)
	m.HandleFunc("POST /logout", s.write(s.logout))

	m.HandleFunc("GET /{$}", s.read(s.cataloguePage))
	m.HandleFunc("GET /games/{game}", s.read(s.gamePage))
	m.HandleFunc("GET /games/{game}/events/{event}/{label}", s.read(s.definitionPage))
	m.HandleFunc("POST /games/{game}/events/{event}/{label}/rollback", s.write(s.rollback))
	m.HandleFunc("POST /games/{game}/events/{event}/{label}/retire", s.write(s.retire))
	m.HandleFunc("GET /games/{game}/mappings/history", s.read(s.mappingHistoryPage))
	m.HandleFunc("POST /drafts", s.write(s.newDraft))
	m.HandleFunc("GET /drafts", s.read(s.draftsPage))
	m.HandleFunc("GET /drafts/{id}", s.read(s.editorPage))
	m.HandleFunc("POST /drafts/{id}", s.write(s.saveDraft))
	m.HandleFunc("GET /drafts/{id}/review", s.read(s.reviewPage))
	m.HandleFunc("POST /drafts/{id}/publish", s.write(s.publish))
	m.HandleFunc("POST /drafts/{id}/delete", s.write(s.deleteDraft))
	m.HandleFunc("GET /import", s.read(s.importPage))
	m.HandleFunc("POST /import", s.write(s.importModel))
	m.HandleFunc("GET /export", s.read(s.export))
	m.HandleFunc("GET /audit", s.read(s.auditPage))
	m.HandleFunc("GET /games/{game}/try", s.read(s.tryPage))
	m.HandleFunc("POST /games/{game}/try", s.write(s.try))
	m.HandleFunc("GET /violations", s.read(s.violationsPage))
	m.HandleFunc("GET /violations/samples", s.read(s.samplesPage))
	m.HandleFunc("GET /violations/replay", s.read(s.replayPage))
	m.HandleFunc("POST /violations/replay", s.write(s.replay))
	s.mux = m
}

// ServeHTTP serves the studio with its security headers on every answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if s.secure(r) {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) secure(r *http.Request) bool { return r.TLS != nil || s.cfg.SecureCookies }

// request is one signed-in request.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	sess *auth.Session
	user *auth.User
}

// read wraps a page that needs a signed-in user.
func (s *Server) read(h func(*request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.session(r)
		if err != nil {
			s.fail(w, err)
			return
		}
		if sess == nil {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if err := h(&request{w: w, r: r, sess: sess, user: &sess.User}); err != nil {
			s.fail(w, err)
		}
	}
}

// write wraps a POST: the body is limited, the request must come from the
// studio's own pages (Origin or Referer) and carry the session's CSRF
// token. The handler checks the user's right to the target.
func (s *Server) write(h func(*request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		limit := int64(MaxFormBytes)
		if r.URL.Path == "/import" {
			limit = MaxImportBytes
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if !sameOrigin(r) {
			http.Error(w, "refused: the request did not come from this site (Origin/Referer)", http.StatusForbidden)
			return
		}
		sess, err := s.session(r)
		if err != nil {
			s.fail(w, err)
			return
		}
		if sess == nil {
			http.Error(w, "not signed in (or the session expired): sign in again", http.StatusUnauthorized)
			return
		}
		if err := parseForm(r); err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		if !sess.ValidCSRF(r.PostFormValue("csrf")) {
			s.db.audit(r.Context(), sess.User.Name, "csrf", r.URL.Path, OutcomeRefused, "missing or wrong CSRF token")
			http.Error(w, "refused: missing or wrong CSRF token; reload the page and try again", http.StatusForbidden)
			return
		}
		if err := h(&request{w: w, r: r, sess: sess, user: &sess.User}); err != nil {
			s.fail(w, err)
		}
	}
}

func parseForm(r *http.Request) error {
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(MaxImportBytes)
	} else {
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return fmt.Errorf("the request is larger than %d bytes", tooBig.Limit)
	}
	if err != nil {
		return fmt.Errorf("unreadable form: %w", err)
	}
	return nil
}

// sameOrigin reports whether the request's Origin (or, without one, its
// Referer) is this server. One of them must be present: every browser
// sends Origin with a POST.
func sameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" {
		src = r.Header.Get("Referer")
	}
	if src == "" || src == "null" {
		return false
	}
	u, err := url.Parse(src)
	if err != nil {
		return false
	}
	return u.Host != "" && strings.EqualFold(u.Host, r.Host)
}

func (s *Server) session(r *http.Request) (*auth.Session, error) {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil, nil
	}
	return s.accounts.Session(r.Context(), c.Value)
}

// httpError is an error with the status and message the user sees.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func forbidden(format string, args ...any) error {
	return &httpError{http.StatusForbidden, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &httpError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func (s *Server) fail(w http.ResponseWriter, err error) {
	var he *httpError
	if errors.As(err, &he) {
		http.Error(w, he.msg, he.status)
		return
	}
	s.cfg.Log.Printf("studio: %s", logsafe.Escape(err.Error()))
	http.Error(w, "internal error (logged on the server)", http.StatusInternalServerError)
}

// render writes page with data; data's common part comes from req.
func (s *Server) render(req *request, status int, page string, data map[string]any) error {
	t := s.pages[page]
	if t == nil {
		return fmt.Errorf("no page %s", page)
	}
	if data == nil {
		data = map[string]any{}
	}
	if req.sess != nil {
		data["User"] = req.user
		data["CSRF"] = req.sess.CSRF
		data["HasTarget"] = s.cfg.Target != nil
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return fmt.Errorf("rendering %s: %w", page, err)
	}
	req.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	req.w.WriteHeader(status)
	_, err := req.w.Write([]byte(b.String()))
	return err
}

func pathEscape(s string) string { return url.PathEscape(s) }
