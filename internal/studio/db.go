package studio

// The studio's own tables, beside the accounts of package auth in schema
// whirlpool_studio: drafts (never part of the live model), the audit log
// of every write. Who made a revision and why is kept by the store itself
// (ApplyOptions); the studio's first revision_notes table is dropped.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/logsafe"
)

var studioDDL = []string{
	`CREATE SCHEMA IF NOT EXISTS whirlpool_studio`,
	`CREATE TABLE IF NOT EXISTS whirlpool_studio.drafts (
		id            bigserial PRIMARY KEY,
		kind          text NOT NULL CHECK (kind IN ('definition', 'mappings', 'model')),
		game          text NOT NULL DEFAULT '',
		event         text NOT NULL DEFAULT '',
		label         text NOT NULL DEFAULT '',
		base_revision integer NOT NULL DEFAULT 0,
		content       text NOT NULL,
		author        text NOT NULL,
		updated_at    timestamptz NOT NULL DEFAULT now())`,
	`CREATE TABLE IF NOT EXISTS whirlpool_studio.audit (
		id       bigserial PRIMARY KEY,
		at       timestamptz NOT NULL DEFAULT now(),
		username text NOT NULL,
		action   text NOT NULL,
		target   text NOT NULL,
		outcome  text NOT NULL,
		detail   text NOT NULL)`,
	`DROP TABLE IF EXISTS whirlpool_studio.revision_notes`,
}

// Draft kinds.
const (
	KindDefinition = "definition" // one definition version of an event
	KindMappings   = "mappings"   // a game's version mappings
	KindModel      = "model"      // an imported model file (YAML or JSON)
)

// Draft is a change being prepared; publishing applies it to the store.
type Draft struct {
	ID                 int64
	Kind               string
	Game, Event, Label string
	// BaseRevision is the current revision of the definition when the
	// draft was started (0: new); publishing refuses a draft whose base
	// moved on.
	BaseRevision int
	Definition   validate.Definition // KindDefinition
	Mappings     []validate.Mapping  // KindMappings
	Source       string              // KindModel: the file as uploaded
	Author       string
	UpdatedAt    time.Time
}

type db struct{ *sql.DB }

func (d db) init(ctx context.Context) error {
	for _, q := range studioDDL {
		if _, err := d.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("studio tables: %w", err)
		}
	}
	return nil
}

func (dr *Draft) content() (string, error) {
	switch dr.Kind {
	case KindDefinition:
		b, err := json.Marshal(dr.Definition)
		return string(b), err
	case KindMappings:
		b, err := json.Marshal(dr.Mappings)
		return string(b), err
	}
	return dr.Source, nil
}

func (d db) saveDraft(ctx context.Context, dr *Draft) error {
	c, err := dr.content()
	if err != nil {
		return fmt.Errorf("draft: %w", err)
	}
	if dr.ID == 0 {
		err = d.QueryRowContext(ctx, `
			INSERT INTO whirlpool_studio.drafts (kind, game, event, label, base_revision, content, author)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			dr.Kind, dr.Game, dr.Event, dr.Label, dr.BaseRevision, c, dr.Author).Scan(&dr.ID)
	} else {
		_, err = d.ExecContext(ctx, `UPDATE whirlpool_studio.drafts SET content = $2, author = $3, updated_at = now() WHERE id = $1`, dr.ID, c, dr.Author)
	}
	if err != nil {
		return fmt.Errorf("draft: %w", err)
	}
	return nil
}

var errNoDraft = errors.New("no such draft")

func (d db) draft(ctx context.Context, id int64) (*Draft, error) {
	dr := &Draft{ID: id}
	var c string
	err := d.QueryRowContext(ctx, `SELECT kind, game, event, label, base_revision, content, author, updated_at FROM whirlpool_studio.drafts WHERE id = $1`, id).
		Scan(&dr.Kind, &dr.Game, &dr.Event, &dr.Label, &dr.BaseRevision, &c, &dr.Author, &dr.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoDraft
	}
	if err != nil {
		return nil, fmt.Errorf("draft: %w", err)
	}
	switch dr.Kind {
	case KindDefinition:
		err = json.Unmarshal([]byte(c), &dr.Definition)
	case KindMappings:
		err = json.Unmarshal([]byte(c), &dr.Mappings)
	default:
		dr.Source = c
	}
	if err != nil {
		return nil, fmt.Errorf("draft %d: %w", id, err)
	}
	return dr, nil
}

func (d db) drafts(ctx context.Context) ([]Draft, error) {
	rows, err := d.QueryContext(ctx, `SELECT id, kind, game, event, label, author, updated_at FROM whirlpool_studio.drafts ORDER BY updated_at DESC LIMIT 500`)
	if err != nil {
		return nil, fmt.Errorf("drafts: %w", err)
	}
	defer rows.Close()
	var out []Draft
	for rows.Next() {
		var dr Draft
		if err := rows.Scan(&dr.ID, &dr.Kind, &dr.Game, &dr.Event, &dr.Label, &dr.Author, &dr.UpdatedAt); err != nil {
			return nil, err
		}
		out = append(out, dr)
	}
	return out, rows.Err()
}

func (d db) deleteDraft(ctx context.Context, id int64) error {
	_, err := d.ExecContext(ctx, `DELETE FROM whirlpool_studio.drafts WHERE id = $1`, id)
	return err
}

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	At                                    time.Time
	User, Action, Target, Outcome, Detail string
}

// Audit outcomes.
const (
	OutcomeDone    = "done"
	OutcomeRefused = "refused" // not allowed, or bad input
	OutcomeFailed  = "failed"  // allowed and valid, but the store failed
)

func (d db) audit(ctx context.Context, user, action, target, outcome, detail string) error {
	// Names and messages may hold what a user typed: control bytes are
	// escaped, so that the log reads the same in a terminal.
	_, err := d.ExecContext(ctx, `INSERT INTO whirlpool_studio.audit (username, action, target, outcome, detail) VALUES ($1, $2, $3, $4, $5)`,
		logsafe.Escape(cut(user, 64)), action, logsafe.Escape(cut(target, 300)), outcome, logsafe.Escape(cut(detail, 4000)))
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func (d db) auditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := d.QueryContext(ctx, `SELECT at, username, action, target, outcome, detail FROM whirlpool_studio.audit ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var a AuditEntry
		if err := rows.Scan(&a.At, &a.User, &a.Action, &a.Target, &a.Outcome, &a.Detail); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
