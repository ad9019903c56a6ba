package validate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lib/pq"

	"github.com/whirlpool-events/whirlpool/internal/dsn"
)

// StoreSchema is the PostgreSQL schema of the model store.
const StoreSchema = "whirlpool_model"

// storeDDL creates the store. Nothing in it is ever deleted: a definition
// version's content has revisions 1, 2, ... and the highest is current;
// a game's mappings likewise. Rolling back adds a revision that repeats an
// older one.
var storeDDL = []string{
	`CREATE SCHEMA IF NOT EXISTS whirlpool_model`,
	`CREATE TABLE IF NOT EXISTS whirlpool_model.games (
		name       text PRIMARY KEY,
		created_at timestamptz NOT NULL DEFAULT now())`,
	`CREATE TABLE IF NOT EXISTS whirlpool_model.events (
		game       text NOT NULL REFERENCES whirlpool_model.games (name),
		name       text NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (game, name))`,
	`CREATE TABLE IF NOT EXISTS whirlpool_model.definition_versions (
		id                bigserial PRIMARY KEY,
		game              text NOT NULL,
		event             text NOT NULL,
		label             text NOT NULL,
		revision          integer NOT NULL,
		additional_fields text NOT NULL DEFAULT 'ignore',
		change            text NOT NULL,
		created_at        timestamptz NOT NULL DEFAULT now(),
		UNIQUE (game, event, label, revision),
		FOREIGN KEY (game, event) REFERENCES whirlpool_model.events (game, name))`,
	`CREATE TABLE IF NOT EXISTS whirlpool_model.definition_fields (
		definition_version_id bigint NOT NULL REFERENCES whirlpool_model.definition_versions (id),
		position   integer NOT NULL,
		name       text NOT NULL,
		path       text NOT NULL,
		type       text NOT NULL,
		mandatory  boolean NOT NULL DEFAULT false,
		expand     boolean NOT NULL DEFAULT false,
		max_length integer,
		min        text,
		max        text,
		format     text,
		PRIMARY KEY (definition_version_id, position))`,
	`CREATE TABLE IF NOT EXISTS whirlpool_model.definition_destinations (
		definition_version_id bigint NOT NULL REFERENCES whirlpool_model.definition_versions (id),
		position    integer NOT NULL,
		destination text NOT NULL,
		PRIMARY KEY (definition_version_id, position))`,
	`CREATE TABLE IF NOT EXISTS whirlpool_model.mapping_versions (
		id         bigserial PRIMARY KEY,
		game       text NOT NULL REFERENCES whirlpool_model.games (name),
		revision   integer NOT NULL,
		change     text NOT NULL,
		created_at timestamptz NOT NULL DEFAULT now(),
		UNIQUE (game, revision))`,
	`CREATE TABLE IF NOT EXISTS whirlpool_model.mappings (
		mapping_version_id bigint NOT NULL REFERENCES whirlpool_model.mapping_versions (id),
		position   integer NOT NULL,
		pattern    text NOT NULL,
		definition text NOT NULL,
		priority   integer NOT NULL DEFAULT 0,
		PRIMARY KEY (mapping_version_id, position))`,
	// Added later: ADD COLUMN IF NOT EXISTS upgrades an existing store.
	`ALTER TABLE whirlpool_model.definition_versions ADD COLUMN IF NOT EXISTS retired boolean NOT NULL DEFAULT false`,
	`ALTER TABLE whirlpool_model.definition_versions ADD COLUMN IF NOT EXISTS author text NOT NULL DEFAULT ''`,
	`ALTER TABLE whirlpool_model.definition_versions ADD COLUMN IF NOT EXISTS reason text NOT NULL DEFAULT ''`,
	`ALTER TABLE whirlpool_model.mapping_versions ADD COLUMN IF NOT EXISTS author text NOT NULL DEFAULT ''`,
	`ALTER TABLE whirlpool_model.mapping_versions ADD COLUMN IF NOT EXISTS reason text NOT NULL DEFAULT ''`,
}

// Store is the PostgreSQL model store.
type Store struct {
	db *sql.DB
	// notRedshift: the server answered SELECT version() without
	// "Redshift" (checked once, at the first use).
	notRedshift atomic.Bool
}

// redshiftSuffixes are the endpoint domains of Amazon Redshift clusters
// and Redshift Serverless workgroups (and their China regions).
var redshiftSuffixes = []string{
	".redshift.amazonaws.com", ".redshift-serverless.amazonaws.com",
	".redshift.amazonaws.com.cn", ".redshift-serverless.amazonaws.com.cn",
}

// RedshiftHost returns the host conn connects to when it is an Amazon
// Redshift endpoint (by its domain), else "". The hosts are lib/pq's own
// reading of conn (pq.NewConfig: URL or key=value, PGHOST when conn names
// none, every host of a multi-host DSN). The model store is PostgreSQL
// only: Redshift has no bigserial, foreign keys or the repeatable-read
// snapshot the store reads in, and a store there would be within reach of
// the loader. A DSN lib/pq refuses gives "": OpenStore reports it.
func RedshiftHost(conn string) string {
	cfg, err := pq.NewConfig(conn)
	if err != nil {
		return ""
	}
	hosts := []string{cfg.Host}
	for _, m := range cfg.Multi {
		hosts = append(hosts, m.Host)
	}
	for _, host := range hosts {
		h := strings.TrimSuffix(strings.ToLower(host), ".")
		for _, suffix := range redshiftSuffixes {
			if strings.HasSuffix(h, suffix) {
				return host
			}
		}
	}
	return ""
}

// RedshiftRefusal is the reason a model store DSN naming host is refused.
func RedshiftRefusal(host string) string {
	return fmt.Sprintf("%s is Amazon Redshift: the model store must be PostgreSQL (e.g. Amazon RDS or Aurora PostgreSQL), or use model_file", host)
}

// isRedshiftVersion reports whether SELECT version() came from Amazon
// Redshift (e.g. "PostgreSQL 8.0.2 on i686-pc-linux-gnu, ... Redshift 1.0.77467").
func isRedshiftVersion(v string) bool { return strings.Contains(v, "Redshift") }

// checkNotRedshift refuses a server that says it is Redshift, whatever its
// host name (a proxy, a private DNS name); once per Store.
func (s *Store) checkNotRedshift(ctx context.Context) error {
	if s.notRedshift.Load() {
		return nil
	}
	var v string
	if err := s.db.QueryRowContext(ctx, `SELECT version()`).Scan(&v); err != nil {
		return fmt.Errorf("model store: %w", err)
	}
	if isRedshiftVersion(v) {
		return fmt.Errorf("model store: the server is Amazon Redshift (%s): the model store must be PostgreSQL (e.g. Amazon RDS or Aurora PostgreSQL), or use model_file", v)
	}
	s.notRedshift.Store(true)
	return nil
}

// OpenStore opens the store at conn (a lib/pq DSN, key=value or URL). It
// does not connect yet, but parses conn now, where its errors can be
// redacted: lib/pq's and url.Parse's quote the DSN, password included. A
// DSN naming an Amazon Redshift endpoint is refused (RedshiftHost).
func OpenStore(conn string) (*Store, error) {
	if host := RedshiftHost(conn); host != "" {
		return nil, fmt.Errorf("model store: %s", RedshiftRefusal(host))
	}
	connector, err := pq.NewConnector(conn)
	if err != nil {
		return nil, fmt.Errorf("model store: invalid DSN %s: %w", dsn.Redact(conn), dsn.RedactError(err, conn))
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(2)
	db.SetConnMaxIdleTime(time.Minute)
	return &Store{db: db}, nil
}

// Close closes the connections.
func (s *Store) Close() error { return s.db.Close() }

// Init creates the schema and tables when missing.
func (s *Store) Init(ctx context.Context) error {
	if err := s.checkNotRedshift(ctx); err != nil {
		return err
	}
	for _, q := range storeDDL {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("model store: creating %s: %w", StoreSchema, err)
		}
	}
	return nil
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// Load reads the current model (the highest revision of every definition
// version and of every game's mappings) in one consistent snapshot.
func (s *Store) Load(ctx context.Context) (*Model, error) {
	if err := s.checkNotRedshift(ctx); err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	defer tx.Rollback()
	m, err := loadModel(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	return m, tx.Commit()
}

func loadModel(ctx context.Context, q querier) (*Model, error) {
	m := &Model{}
	games := map[string]*Game{}
	rows, err := q.QueryContext(ctx, `SELECT name FROM whirlpool_model.games ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	m.Games = make([]Game, len(names))
	for i, n := range names {
		m.Games[i].Name = n
		games[n] = &m.Games[i]
	}
	// mappings: current revision per game
	rows, err = q.QueryContext(ctx, `
		SELECT v.game, p.pattern, p.definition, p.priority
		FROM whirlpool_model.mappings p
		JOIN (SELECT DISTINCT ON (game) id, game FROM whirlpool_model.mapping_versions ORDER BY game, revision DESC) v
		  ON v.id = p.mapping_version_id
		ORDER BY v.game, p.position`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var game string
		var mp Mapping
		if err := rows.Scan(&game, &mp.Version, &mp.Definition, &mp.Priority); err != nil {
			rows.Close()
			return nil, err
		}
		if g := games[game]; g != nil {
			g.Mappings = append(g.Mappings, mp)
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	// events and current definitions
	rows, err = q.QueryContext(ctx, `SELECT game, name FROM whirlpool_model.events ORDER BY game, name`)
	if err != nil {
		return nil, err
	}
	events := map[[2]string]int{}
	for rows.Next() {
		var game, name string
		if err := rows.Scan(&game, &name); err != nil {
			rows.Close()
			return nil, err
		}
		if g := games[game]; g != nil {
			events[[2]string{game, name}] = len(g.Events)
			g.Events = append(g.Events, Event{Name: name})
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	defs, err := loadDefinitions(ctx, q, `SELECT DISTINCT ON (game, event, label) id FROM whirlpool_model.definition_versions ORDER BY game, event, label, revision DESC`)
	if err != nil {
		return nil, err
	}
	for _, sd := range defs {
		g := games[sd.game]
		if g == nil {
			continue
		}
		i, ok := events[[2]string{sd.game, sd.event}]
		if !ok {
			continue
		}
		g.Events[i].Definitions = append(g.Events[i].Definitions, sd.def)
	}
	return m, nil
}

type storedDef struct {
	id          int64
	game, event string
	def         Definition
}

// loadDefinitions reads the definition versions whose ids the subquery
// ids returns, ordered by game, event, label.
func loadDefinitions(ctx context.Context, q querier, ids string, args ...any) ([]storedDef, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT id, game, event, label, revision, additional_fields, retired
		FROM whirlpool_model.definition_versions WHERE id IN (`+ids+`)
		ORDER BY game, event, label`, args...)
	if err != nil {
		return nil, err
	}
	var out []storedDef
	byID := map[int64]int{}
	for rows.Next() {
		var sd storedDef
		if err := rows.Scan(&sd.id, &sd.game, &sd.event, &sd.def.Version, &sd.def.Revision, &sd.def.AdditionalFields, &sd.def.Retired); err != nil {
			rows.Close()
			return nil, err
		}
		if sd.def.AdditionalFields == "ignore" {
			sd.def.AdditionalFields = ""
		}
		byID[sd.id] = len(out)
		out = append(out, sd)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `
		SELECT definition_version_id, name, path, type, mandatory, expand, max_length, min, max, format
		FROM whirlpool_model.definition_fields WHERE definition_version_id IN (`+ids+`)
		ORDER BY definition_version_id, position`, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var f Field
		var maxLen sql.NullInt64
		var mn, mx, format sql.NullString
		if err := rows.Scan(&id, &f.Name, &f.Path, &f.Type, &f.Mandatory, &f.Expand, &maxLen, &mn, &mx, &format); err != nil {
			rows.Close()
			return nil, err
		}
		f.MaxLength, f.Min, f.Max, f.Format = int(maxLen.Int64), Bound(mn.String), Bound(mx.String), format.String
		if i, ok := byID[id]; ok {
			out[i].def.Fields = append(out[i].def.Fields, f)
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	rows, err = q.QueryContext(ctx, `
		SELECT definition_version_id, destination
		FROM whirlpool_model.definition_destinations WHERE definition_version_id IN (`+ids+`)
		ORDER BY definition_version_id, position`, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var d string
		if err := rows.Scan(&id, &d); err != nil {
			rows.Close()
			return nil, err
		}
		if i, ok := byID[id]; ok {
			out[i].def.Destinations = append(out[i].def.Destinations, d)
		}
	}
	return out, closeRows(rows)
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

// Change is one thing Apply, Rollback or Retire changed in the store.
type Change struct {
	Game, Event, Definition string // Event and Definition are "" for a game's mappings
	Revision                int
	// What is "new", "changed", "retired", "restored" (retired no more) or
	// "rollback to revision N".
	What string
}

// ApplyOptions says who makes a change and why; both are recorded with
// each revision the change adds (Revision.Author, Revision.Reason). Each
// is optional; Author is at most MaxAuthorBytes and Reason at most
// MaxReasonBytes of UTF-8 text without control characters (a reason may
// have line breaks).
type ApplyOptions struct {
	Author, Reason string
}

// Limits of ApplyOptions.
const (
	MaxAuthorBytes = 128
	MaxReasonBytes = 2000
)

// check refuses an author or reason over its limit, not UTF-8, or with
// control characters (they come from users, e.g. through a web form, and
// end up in terminals and logs).
func (o ApplyOptions) check() error {
	for _, f := range []struct {
		name, text string
		max        int
		breaks     bool
	}{{"author", o.Author, MaxAuthorBytes, false}, {"reason", o.Reason, MaxReasonBytes, true}} {
		if len(f.text) > f.max {
			return fmt.Errorf("model store: %s is %d bytes, more than %d", f.name, len(f.text), f.max)
		}
		if !utf8.ValidString(f.text) {
			return fmt.Errorf("model store: %s is not valid UTF-8", f.name)
		}
		for _, r := range f.text {
			if unicode.IsControl(r) && !(f.breaks && (r == '\n' || r == '\t')) {
				return fmt.Errorf("model store: %s has a control character (%U)", f.name, r)
			}
		}
	}
	return nil
}

func (c Change) String() string {
	if c.Event == "" {
		return fmt.Sprintf("%s: mappings revision %d (%s)", c.Game, c.Revision, c.What)
	}
	return fmt.Sprintf("%s/%s %s: revision %d (%s)", c.Game, c.Event, c.Definition, c.Revision, c.What)
}

// Apply writes m to the store: games and events that are new, and a new
// revision of every definition version and every game's mappings whose
// content differs from the current revision. Applying the same model
// again changes nothing. Nothing absent from m is removed (Retire takes a
// definition out of use); a definition m has without retired: true is
// restored if the store had retired it. m must pass Check. It returns what
// changed. Apply records no author or reason; ApplyWith does.
func (s *Store) Apply(ctx context.Context, m *Model) ([]Change, error) {
	return s.ApplyWith(ctx, m, ApplyOptions{})
}

// ApplyWith is Apply recording o's author and reason with each revision
// it adds.
func (s *Store) ApplyWith(ctx context.Context, m *Model, o ApplyOptions) ([]Change, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if _, err := m.Check(); err != nil {
		return nil, err
	}
	tx, err := s.beginLocked(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	var changes []Change
	for _, g := range m.Games {
		if _, err := tx.ExecContext(ctx, `INSERT INTO whirlpool_model.games (name) VALUES ($1) ON CONFLICT DO NOTHING`, g.Name); err != nil {
			return nil, fmt.Errorf("model store: game %s: %w", g.Name, err)
		}
		c, err := applyMappings(ctx, tx, g, o)
		if err != nil {
			return nil, fmt.Errorf("model store: game %s mappings: %w", g.Name, err)
		}
		changes = append(changes, c...)
		for _, e := range g.Events {
			if _, err := tx.ExecContext(ctx, `INSERT INTO whirlpool_model.events (game, name) VALUES ($1, $2) ON CONFLICT DO NOTHING`, g.Name, e.Name); err != nil {
				return nil, fmt.Errorf("model store: event %s/%s: %w", g.Name, e.Name, err)
			}
			for _, d := range e.Definitions {
				cur, rev, err := currentDefinition(ctx, tx, g.Name, e.Name, d.Version)
				if err != nil {
					return nil, fmt.Errorf("model store: %s/%s %s: %w", g.Name, e.Name, d.Version, err)
				}
				what := "new"
				if cur != nil {
					if sameContent(*cur, d) {
						continue
					}
					what = changeName(*cur, d)
				}
				if err := insertDefinition(ctx, tx, g.Name, e.Name, d, rev+1, what, o); err != nil {
					return nil, fmt.Errorf("model store: %s/%s %s: %w", g.Name, e.Name, d.Version, err)
				}
				changes = append(changes, Change{Game: g.Name, Event: e.Name, Definition: d.Version, Revision: rev + 1, What: what})
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	return changes, nil
}

// changeName names the change from cur to d (which differ).
func changeName(cur, d Definition) string {
	switch {
	case d.Retired && !cur.Retired:
		return "retired"
	case !d.Retired && cur.Retired:
		return "restored"
	}
	return "changed"
}

func applyMappings(ctx context.Context, tx *sql.Tx, g Game, o ApplyOptions) ([]Change, error) {
	var id sql.NullInt64
	var rev int
	err := tx.QueryRowContext(ctx, `SELECT id, revision FROM whirlpool_model.mapping_versions WHERE game = $1 ORDER BY revision DESC LIMIT 1`, g.Name).Scan(&id, &rev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	var cur []Mapping
	if id.Valid {
		rows, err := tx.QueryContext(ctx, `SELECT pattern, definition, priority FROM whirlpool_model.mappings WHERE mapping_version_id = $1 ORDER BY position`, id.Int64)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var mp Mapping
			if err := rows.Scan(&mp.Version, &mp.Definition, &mp.Priority); err != nil {
				rows.Close()
				return nil, err
			}
			cur = append(cur, mp)
		}
		if err := closeRows(rows); err != nil {
			return nil, err
		}
		if slices.Equal(cur, g.Mappings) {
			return nil, nil
		}
	} else if len(g.Mappings) == 0 {
		return nil, nil
	}
	what := "new"
	if id.Valid {
		what = "changed"
	}
	var newID int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO whirlpool_model.mapping_versions (game, revision, change, author, reason) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		g.Name, rev+1, what, o.Author, o.Reason).Scan(&newID); err != nil {
		return nil, err
	}
	for i, mp := range g.Mappings {
		if _, err := tx.ExecContext(ctx, `INSERT INTO whirlpool_model.mappings (mapping_version_id, position, pattern, definition, priority) VALUES ($1, $2, $3, $4, $5)`,
			newID, i, mp.Version, mp.Definition, mp.Priority); err != nil {
			return nil, err
		}
	}
	return []Change{{Game: g.Name, Revision: rev + 1, What: what}}, nil
}

// currentDefinition returns the current revision of a definition version
// (nil, 0 when there is none).
func currentDefinition(ctx context.Context, q querier, game, event, label string) (*Definition, int, error) {
	defs, err := loadDefinitions(ctx, q,
		`SELECT id FROM whirlpool_model.definition_versions WHERE game = $1 AND event = $2 AND label = $3 ORDER BY revision DESC LIMIT 1`,
		game, event, label)
	if err != nil || len(defs) == 0 {
		return nil, 0, err
	}
	return &defs[0].def, defs[0].def.Revision, nil
}

func insertDefinition(ctx context.Context, tx *sql.Tx, game, event string, d Definition, revision int, change string, o ApplyOptions) error {
	add := d.AdditionalFields
	if add == "" {
		add = "ignore"
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `
		INSERT INTO whirlpool_model.definition_versions (game, event, label, revision, additional_fields, retired, change, author, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, game, event, d.Version, revision, add, d.Retired, change, o.Author, o.Reason).Scan(&id); err != nil {
		return err
	}
	for i, f := range d.Fields {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO whirlpool_model.definition_fields
			  (definition_version_id, position, name, path, type, mandatory, expand, max_length, min, max, format)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			id, i, f.Name, f.Path, f.Type, f.Mandatory, f.Expand,
			nullInt(f.MaxLength), nullStr(string(f.Min)), nullStr(string(f.Max)), nullStr(f.Format)); err != nil {
			return err
		}
	}
	for i, dest := range d.Destinations {
		if _, err := tx.ExecContext(ctx, `INSERT INTO whirlpool_model.definition_destinations (definition_version_id, position, destination) VALUES ($1, $2, $3)`,
			id, i, dest); err != nil {
			return err
		}
	}
	return nil
}

func nullInt(i int) sql.NullInt64 { return sql.NullInt64{Int64: int64(i), Valid: i != 0} }
func nullStr(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// Revision is one revision in the history of a definition version or of
// a game's mappings: what changed (Change.What), when, who and why
// (ApplyOptions; "" when not given).
type Revision struct {
	Revision       int
	Change         string
	CreatedAt      time.Time
	Author, Reason string
}

// beginLocked starts a transaction holding the store's advisory lock, so
// writers of the model (apply, rollback, retire) take turns.
func (s *Store) beginLocked(ctx context.Context) (*sql.Tx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('whirlpool_model'))`); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("model store: %w", err)
	}
	return tx, nil
}

// History lists the revisions of a definition version, oldest first.
func (s *Store) History(ctx context.Context, game, event, label string) ([]Revision, error) {
	return s.history(ctx, `
		SELECT revision, change, created_at, author, reason FROM whirlpool_model.definition_versions
		WHERE game = $1 AND event = $2 AND label = $3 ORDER BY revision`, game, event, label)
}

// MappingHistory lists the revisions of a game's mappings, oldest first.
func (s *Store) MappingHistory(ctx context.Context, game string) ([]Revision, error) {
	return s.history(ctx, `
		SELECT revision, change, created_at, author, reason FROM whirlpool_model.mapping_versions
		WHERE game = $1 ORDER BY revision`, game)
}

func (s *Store) history(ctx context.Context, q string, args ...any) ([]Revision, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	var out []Revision
	for rows.Next() {
		var r Revision
		if err := rows.Scan(&r.Revision, &r.Change, &r.CreatedAt, &r.Author, &r.Reason); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	return out, closeRows(rows)
}

// Rollback makes revision `revision` of a definition version current
// again by adding a new revision with its content (recorded as "rollback
// to revision N"); revision 0 means the revision before the current one.
// Rolling back to content that is already current changes nothing. A
// rollback to a revision before a retirement restores the definition.
func (s *Store) Rollback(ctx context.Context, game, event, label string, revision int) (*Change, error) {
	return s.RollbackWith(ctx, game, event, label, revision, ApplyOptions{})
}

// RollbackWith is Rollback recording o's author and reason.
func (s *Store) RollbackWith(ctx context.Context, game, event, label string, revision int, o ApplyOptions) (*Change, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	tx, err := s.beginLocked(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	cur, curRev, err := currentDefinition(ctx, tx, game, event, label)
	if err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	if cur == nil {
		return nil, fmt.Errorf("model store: %s/%s has no definition version %s", game, event, label)
	}
	if revision == 0 {
		revision = curRev - 1
	}
	if revision < 1 || revision > curRev {
		return nil, fmt.Errorf("model store: %s/%s %s has revisions 1 to %d, not %d", game, event, label, curRev, revision)
	}
	defs, err := loadDefinitions(ctx, tx,
		`SELECT id FROM whirlpool_model.definition_versions WHERE game = $1 AND event = $2 AND label = $3 AND revision = $4`,
		game, event, label, revision)
	if err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	if len(defs) == 0 {
		return nil, fmt.Errorf("model store: %s/%s %s has no revision %d", game, event, label, revision)
	}
	old := defs[0].def
	if sameContent(old, *cur) {
		return nil, nil
	}
	what := "rollback to revision " + strconv.Itoa(revision)
	if err := insertDefinition(ctx, tx, game, event, old, curRev+1, what, o); err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	return &Change{Game: game, Event: event, Definition: label, Revision: curRev + 1, What: what}, nil
}

// Retire takes definition version label of game's event out of use, or
// with label "" every definition version of the event (retiring the
// event): each gets a new revision with Retired set, recorded as
// "retired", so that events resolving to it fail DEFINITION_NOT_FOUND.
// Nothing is deleted; RollbackWith to the revision before, or applying a
// model without retired: true, restores it. A definition already retired
// is left as it is. It returns what changed.
func (s *Store) Retire(ctx context.Context, game, event, label string, o ApplyOptions) ([]Change, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	tx, err := s.beginLocked(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	q := `SELECT DISTINCT ON (label) id FROM whirlpool_model.definition_versions WHERE game = $1 AND event = $2 ORDER BY label, revision DESC`
	args := []any{game, event}
	if label != "" {
		q = `SELECT id FROM whirlpool_model.definition_versions WHERE game = $1 AND event = $2 AND label = $3 ORDER BY revision DESC LIMIT 1`
		args = append(args, label)
	}
	defs, err := loadDefinitions(ctx, tx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	if len(defs) == 0 {
		if label != "" {
			return nil, fmt.Errorf("model store: %s/%s has no definition version %s", game, event, label)
		}
		return nil, fmt.Errorf("model store: game %s has no event %s", game, event)
	}
	var changes []Change
	for _, sd := range defs {
		if sd.def.Retired {
			continue
		}
		d := sd.def
		d.Retired = true
		if err := insertDefinition(ctx, tx, game, event, d, d.Revision+1, "retired", o); err != nil {
			return nil, fmt.Errorf("model store: %s/%s %s: %w", game, event, d.Version, err)
		}
		changes = append(changes, Change{Game: game, Event: event, Definition: d.Version, Revision: d.Revision + 1, What: "retired"})
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("model store: %w", err)
	}
	return changes, nil
}

// ParseVersionRef parses the VERSION argument of a rollback: "LABEL" (the
// revision before the current one) or "LABEL@REVISION".
func ParseVersionRef(s string) (label string, revision int, err error) {
	label, rev, hasRev := strings.Cut(s, "@")
	if !labelRe.MatchString(label) {
		return "", 0, fmt.Errorf("%q: want LABEL or LABEL@REVISION, e.g. v1 or v1@2", s)
	}
	if !hasRev {
		return label, 0, nil
	}
	n, err := strconv.Atoi(rev)
	if err != nil || n < 1 {
		return "", 0, fmt.Errorf("%q: revision must be a positive integer", s)
	}
	return label, n, nil
}
