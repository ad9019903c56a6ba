// Package auth keeps the model studio's accounts and sessions in
// PostgreSQL (schema whirlpool_studio): who may sign in, with which role,
// and which sessions are open. Passwords are stored as bcrypt hashes;
// session tokens are random and only their SHA-256 is stored, so a copy of
// the tables lets nobody sign in.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"
	"golang.org/x/crypto/bcrypt"
)

// Schema is the PostgreSQL schema of the studio's own tables.
const Schema = "whirlpool_studio"

var ddl = []string{
	`CREATE SCHEMA IF NOT EXISTS whirlpool_studio`,
	`CREATE TABLE IF NOT EXISTS whirlpool_studio.users (
		name          text PRIMARY KEY,
		password_hash text NOT NULL,
		role          text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
		games         text[] NOT NULL DEFAULT '{}',
		created_at    timestamptz NOT NULL DEFAULT now())`,
	`CREATE TABLE IF NOT EXISTS whirlpool_studio.sessions (
		token_sha256 bytea PRIMARY KEY,
		username     text NOT NULL REFERENCES whirlpool_studio.users (name),
		csrf         text NOT NULL,
		created_at   timestamptz NOT NULL,
		last_seen    timestamptz NOT NULL)`,
}

// Role is what an account may do.
type Role string

// The roles: a viewer reads; an editor also writes the games listed on
// the account; an admin writes every game and imports whole models.
const (
	Viewer Role = "viewer"
	Editor Role = "editor"
	Admin  Role = "admin"
)

// ParseRole accepts viewer, editor or admin.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Viewer, Editor, Admin:
		return r, nil
	}
	return "", fmt.Errorf("role %q: want viewer, editor or admin", s)
}

// User is a signed-in account.
type User struct {
	Name  string
	Role  Role
	Games []string // the games an editor may change
}

// CanEdit reports whether u may change game's definitions and mappings.
func (u *User) CanEdit(game string) bool {
	switch u.Role {
	case Admin:
		return true
	case Editor:
		return slices.Contains(u.Games, game)
	}
	return false
}

// IsAdmin reports whether u is an admin.
func (u *User) IsAdmin() bool { return u.Role == Admin }

// Session is an open session.
type Session struct {
	User User
	// CSRF is the token every write of this session must carry.
	CSRF string
}

// Accounts are the studio's users and sessions.
type Accounts struct {
	db *sql.DB
	// IdleTimeout ends a session not used for this long; MaxAge ends any
	// session this long after sign-in.
	IdleTimeout, MaxAge time.Duration
	// Now is the clock (time.Now when nil); tests move it.
	Now func() time.Time
}

// New returns the accounts in db with the given session limits.
func New(db *sql.DB, idle, maxAge time.Duration) *Accounts {
	return &Accounts{db: db, IdleTimeout: idle, MaxAge: maxAge}
}

func (a *Accounts) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Init creates the schema and tables when missing.
func (a *Accounts) Init(ctx context.Context) error {
	for _, q := range ddl {
		if _, err := a.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("studio accounts: %w", err)
		}
	}
	return nil
}

var nameRe = regexp.MustCompile(`^[A-Za-z0-9._@+-]{1,64}$`)

// MinPasswordLength is the shortest password AddUser accepts.
const MinPasswordLength = 12

// AddUser creates or replaces an account (a new password or role ends the
// account's open sessions). games is the list of games an editor may
// change; it must be empty for other roles.
func (a *Accounts) AddUser(ctx context.Context, name, password string, role Role, games []string) error {
	if !nameRe.MatchString(name) {
		return fmt.Errorf("user name %q: want 1-64 of A-Z a-z 0-9 . _ @ + -", name)
	}
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	if role != Editor && len(games) > 0 {
		return fmt.Errorf("--games is for editors; a %s has no per-game list", role)
	}
	if role == Editor && len(games) == 0 {
		return errors.New("an editor needs --games: the games they may change")
	}
	if len(password) < MinPasswordLength {
		return fmt.Errorf("password: at least %d characters", MinPasswordLength)
	}
	if len(password) > 72 {
		return errors.New("password: at most 72 bytes (bcrypt's limit)")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hashing the password: %w", err)
	}
	if games == nil {
		games = []string{}
	}
	tx, err := a.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("studio accounts: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO whirlpool_studio.users (name, password_hash, role, games) VALUES ($1, $2, $3, $4)
		ON CONFLICT (name) DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role, games = EXCLUDED.games`,
		name, string(hash), string(role), pq.Array(games)); err != nil {
		return fmt.Errorf("studio accounts: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM whirlpool_studio.sessions WHERE username = $1`, name); err != nil {
		return fmt.Errorf("studio accounts: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("studio accounts: %w", err)
	}
	return nil
}

// GeneratePassword returns a random password of 20 characters.
func GeneratePassword() string {
	b := make([]byte, 15)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ErrBadLogin is returned for an unknown user or a wrong password (the
// same error for both, so that a caller cannot probe for names).
var ErrBadLogin = errors.New("wrong user name or password")

// dummyHash is compared against when the user does not exist, so that a
// wrong name costs as much time as a wrong password.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("no such user, no such password"), bcrypt.DefaultCost)

// Login checks name and password and opens a session; it returns the
// session token for the cookie.
func (a *Accounts) Login(ctx context.Context, name, password string) (token string, s *Session, err error) {
	var hash string
	var u User
	var games []string
	err = a.db.QueryRowContext(ctx, `SELECT name, password_hash, role, games FROM whirlpool_studio.users WHERE name = $1`, name).
		Scan(&u.Name, &hash, &u.Role, pq.Array(&games))
	if errors.Is(err, sql.ErrNoRows) {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return "", nil, ErrBadLogin
	}
	if err != nil {
		return "", nil, fmt.Errorf("studio accounts: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return "", nil, ErrBadLogin
	}
	u.Games = games
	token, csrf := randomToken(), randomToken()
	now := a.now()
	if _, err := a.db.ExecContext(ctx, `
		INSERT INTO whirlpool_studio.sessions (token_sha256, username, csrf, created_at, last_seen) VALUES ($1, $2, $3, $4, $4)`,
		digest(token), u.Name, csrf, now); err != nil {
		return "", nil, fmt.Errorf("studio accounts: %w", err)
	}
	return token, &Session{User: u, CSRF: csrf}, nil
}

// Session returns the open session of token, or nil when there is none or
// it expired (idle or absolute); an expired session is deleted. Using a
// session renews its idle time.
func (a *Accounts) Session(ctx context.Context, token string) (*Session, error) {
	if token == "" || len(token) > 128 {
		return nil, nil
	}
	var s Session
	var games []string
	var created, seen time.Time
	err := a.db.QueryRowContext(ctx, `
		SELECT u.name, u.role, u.games, s.csrf, s.created_at, s.last_seen
		FROM whirlpool_studio.sessions s JOIN whirlpool_studio.users u ON u.name = s.username
		WHERE s.token_sha256 = $1`, digest(token)).Scan(&s.User.Name, &s.User.Role, pq.Array(&games), &s.CSRF, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("studio accounts: %w", err)
	}
	s.User.Games = games
	now := a.now()
	if now.Sub(seen) > a.IdleTimeout || now.Sub(created) > a.MaxAge {
		_, err := a.db.ExecContext(ctx, `DELETE FROM whirlpool_studio.sessions WHERE token_sha256 = $1`, digest(token))
		return nil, err
	}
	// Renew at most once a minute: a page view need not write.
	if now.Sub(seen) > time.Minute {
		if _, err := a.db.ExecContext(ctx, `UPDATE whirlpool_studio.sessions SET last_seen = $2 WHERE token_sha256 = $1`, digest(token), now); err != nil {
			return nil, fmt.Errorf("studio accounts: %w", err)
		}
	}
	return &s, nil
}

// Logout ends the session of token.
func (a *Accounts) Logout(ctx context.Context, token string) error {
	_, err := a.db.ExecContext(ctx, `DELETE FROM whirlpool_studio.sessions WHERE token_sha256 = $1`, digest(token))
	if err != nil {
		return fmt.Errorf("studio accounts: %w", err)
	}
	return nil
}

// ValidCSRF reports whether got is the session's CSRF token (in constant
// time).
func (s *Session) ValidCSRF(got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}

// SplitGames parses a comma-separated list of game names.
func SplitGames(s string) []string {
	var out []string
	for _, g := range strings.Split(s, ",") {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, g)
		}
	}
	return out
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func digest(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
