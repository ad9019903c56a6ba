package studio

// This file is the studio's seams: the library pieces it calls through
// function values, so that the validate package's richer API (being built
// alongside the studio) can be wired in by replacing a default here,
// without touching a page. Each default says what replaces it.

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/validate"
)

// Problem is one problem of a model, named by what it concerns so that the
// editor can show it beside that field or mapping. It mirrors
// validate.Problem (to be: `type Problem = validate.Problem`). Mapping is
// the 1-based position of a mapping, 0 when the problem is not about one;
// Field is a field name, or "#N" for the Nth field when it has no name.
type Problem struct {
	Game, Event, Definition, Field string
	Mapping                        int
	Message                        string
}

// Review is what the review page shows before publishing beyond the check
// result: a diff against the current revision, breaking-change warnings
// and the DDL auto_create will run. Empty until wired.
type Review struct {
	Diff     []string
	Breaking []string
	DDL      []string
}

// HistoryEntry is one revision of a definition version with who made it
// and why.
type HistoryEntry struct {
	Revision      int
	Change        string
	CreatedAt     time.Time
	Author        string
	Reason        string
	AuthorUnknown bool // the revision was written outside the studio
}

// Seams are the library calls the studio makes; DefaultSeams fills each
// from what validate offers today.
type Seams struct {
	// Problems checks a model. Default: Model.Check with each ModelError
	// line parsed (parseProblems). Wire: validate's Model.Problems.
	Problems func(m *validate.Model) (errs, warnings []Problem)
	// Resolve tells which definition label a game version gets, or why
	// none. Default: the mapping list with the documented precedence
	// (resolveByMappings). Wire: (*validate.Validator).Resolve.
	Resolve func(m *validate.Model, game, version string) (label string, err error)
	// Review compares the current model with the candidate for the
	// review page. Default: nothing. Wire: validate.DiffDefinitions
	// (Diff, Breaking) and redshift.PlanDDL (DDL).
	Review func(cur, next *validate.Model, game, event, label string) Review
	// Apply publishes a model. Default: Store.Apply, with author and
	// reason kept in the studio's revision_notes. Wire: Store.ApplyWith
	// with ApplyOptions{Author, Reason}.
	Apply func(ctx context.Context, st *validate.Store, m *validate.Model, author, reason string) ([]validate.Change, error)
	// Rollback rolls a definition version back. Default: Store.Rollback.
	// Wire: Store.RollbackWith.
	Rollback func(ctx context.Context, st *validate.Store, game, event, label string, revision int, author, reason string) (*validate.Change, error)
	// Next are the seams of the pieces built beside the studio
	// (seams_next.go); nil until wired.
	Next NextSeams
	// WritesNotes: the default Apply and Rollback do not record author and
	// reason in the store, so the studio keeps them in revision_notes and
	// History joins them. Set false once ApplyWith/RollbackWith are wired
	// and History reads Revision.Author/Reason.
	WritesNotes bool
}

// DefaultSeams returns the seams backed by today's validate API.
func DefaultSeams() Seams {
	return Seams{
		Problems: parseProblems,
		Resolve:  resolveByMappings,
		Review:   func(*validate.Model, *validate.Model, string, string, string) Review { return Review{} },
		Apply: func(ctx context.Context, st *validate.Store, m *validate.Model, _, _ string) ([]validate.Change, error) {
			return st.Apply(ctx, m)
		},
		Rollback: func(ctx context.Context, st *validate.Store, game, event, label string, revision int, _, _ string) (*validate.Change, error) {
			return st.Rollback(ctx, game, event, label, revision)
		},
		WritesNotes: true,
	}
}

// problemRe reads the place a ModelError line names: game "g"
// [mapping #N ("pattern")] [event "e" | event #N] [definition "v"]
// [field "f" | field #N], then ": message".
var problemRe = regexp.MustCompile(`^game (?:("(?:[^"\\]|\\.)*")|#\d+)` +
	`(?: mapping #(\d+) \((?:"(?:[^"\\]|\\.)*")\))?` +
	`(?: event (?:("(?:[^"\\]|\\.)*")|#\d+))?` +
	`(?: definition ("(?:[^"\\]|\\.)*"))?` +
	`(?: field (?:("(?:[^"\\]|\\.)*")|(#\d+)))?: `)

// parseProblems checks m and reads each ModelError line into a Problem.
// A line it cannot place keeps its whole text as the message.
func parseProblems(m *validate.Model) (errs, warnings []Problem) {
	ws, err := m.Check()
	for _, w := range ws {
		warnings = append(warnings, parseProblem(w))
	}
	if err == nil {
		return nil, warnings
	}
	me, ok := err.(*validate.ModelError)
	if !ok {
		return []Problem{{Message: err.Error()}}, warnings
	}
	for _, p := range me.Problems {
		errs = append(errs, parseProblem(p))
	}
	return errs, warnings
}

func parseProblem(line string) Problem {
	sm := problemRe.FindStringSubmatch(line)
	if sm == nil {
		return Problem{Message: line}
	}
	p := Problem{Message: line[len(sm[0]):]}
	p.Game = unquote(sm[1])
	if sm[2] != "" {
		fmt.Sscan(sm[2], &p.Mapping)
	}
	p.Event = unquote(sm[3])
	p.Definition = unquote(sm[4])
	p.Field = unquote(sm[5])
	if sm[6] != "" {
		p.Field = sm[6]
	}
	return p
}

func unquote(q string) string {
	if q == "" {
		return ""
	}
	var s string
	if _, err := fmt.Sscanf(q, "%q", &s); err != nil {
		return strings.Trim(q, `"`)
	}
	return s
}

// resolveByMappings applies docs/data-model.md's "Version resolution" to
// game's mapping list: the highest priority, then literal patterns before
// others; the remaining candidates must agree on one label.
func resolveByMappings(m *validate.Model, game, version string) (string, error) {
	var g *validate.Game
	for i := range m.Games {
		if m.Games[i].Name == game {
			g = &m.Games[i]
		}
	}
	if g == nil {
		return "", fmt.Errorf("no game %s", game)
	}
	type cand struct {
		validate.Mapping
		literal bool
	}
	var cands []cand
	for _, mp := range g.Mappings {
		re, err := regexp.Compile(`^(?:` + mp.Version + `)$`)
		if err != nil || !re.MatchString(version) {
			continue
		}
		_, complete := re.LiteralPrefix()
		cands = append(cands, cand{mp, complete})
	}
	if len(cands) == 0 {
		return "", fmt.Errorf("VERSION_UNMAPPED: no mapping of %s matches %q", game, version)
	}
	best := cands[0]
	for _, c := range cands[1:] {
		if c.Priority > best.Priority || (c.Priority == best.Priority && c.literal && !best.literal) {
			best = c
		}
	}
	var labels []string
	for _, c := range cands {
		if c.Priority == best.Priority && c.literal == best.literal && !slices.Contains(labels, c.Definition) {
			labels = append(labels, c.Definition)
		}
	}
	if len(labels) > 1 {
		return "", fmt.Errorf("VERSION_AMBIGUOUS: mappings of equal precedence name %s", strings.Join(labels, ", "))
	}
	return best.Definition, nil
}
