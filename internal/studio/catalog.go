package studio

// The catalogue: the live model, loaded from the store and kept until the
// store's stamp changes, with a search index over events, fields and
// destination tables.

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/whirlpool-events/whirlpool/filters/validate"
)

type catalog struct {
	store *validate.Store

	mu    sync.Mutex
	stamp string
	snap  *snapshot
}

// snapshot is one loaded model with its lookups; never modified.
type snapshot struct {
	model  *validate.Model
	games  map[string]*validate.Game
	search []searchEntry

	compiled sync.Once
	v        *validate.Validator
	vErr     error
}

// validator is the live model compiled as the pipeline compiles it, built
// on first use (Resolve, try an event).
func (s *snapshot) validator() (*validate.Validator, error) {
	s.compiled.Do(func() { s.v, s.vErr = validate.NewWithModel(s.model, validate.Options{}) })
	return s.v, s.vErr
}

type searchEntry struct {
	game, event, label string
	what, text         string // what matched ("event", "field", "table"), and its text
	lower              string
}

// current returns the live model, reloading it when the store changed.
func (c *catalog) current(ctx context.Context) (*snapshot, error) {
	stamp, err := c.store.Stamp(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.snap != nil && stamp == c.stamp {
		return c.snap, nil
	}
	m, err := c.store.Load(ctx)
	if err != nil {
		return nil, err
	}
	c.snap, c.stamp = newSnapshot(m), stamp
	return c.snap, nil
}

func newSnapshot(m *validate.Model) *snapshot {
	s := &snapshot{model: m, games: map[string]*validate.Game{}}
	for gi := range m.Games {
		g := &m.Games[gi]
		s.games[g.Name] = g
		for _, e := range g.Events {
			s.search = append(s.search, searchEntry{game: g.Name, event: e.Name, what: "event", text: e.Name, lower: strings.ToLower(e.Name)})
			for _, d := range e.Definitions {
				for _, f := range d.Fields {
					s.search = append(s.search, searchEntry{g.Name, e.Name, d.Version, "field", f.Name + " (" + f.Path + ")", strings.ToLower(f.Name + " " + f.Path)})
				}
				for _, dest := range d.Destinations {
					s.search = append(s.search, searchEntry{g.Name, e.Name, d.Version, "table", dest, strings.ToLower(dest)})
				}
			}
		}
	}
	return s
}

// maxResults bounds a search's answer.
const maxResults = 200

// find returns the entries whose text contains q (case-insensitive).
func (s *snapshot) find(q string) (out []searchEntry, more bool) {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == "" {
		return nil, false
	}
	for _, e := range s.search {
		if strings.Contains(e.lower, q) {
			if len(out) == maxResults {
				return out, true
			}
			out = append(out, e)
		}
	}
	return out, false
}

func (s *snapshot) event(game, event string) *validate.Event {
	g := s.games[game]
	if g == nil {
		return nil
	}
	for i := range g.Events {
		if g.Events[i].Name == event {
			return &g.Events[i]
		}
	}
	return nil
}

func (s *snapshot) definition(game, event, label string) *validate.Definition {
	e := s.event(game, event)
	if e == nil {
		return nil
	}
	for i := range e.Definitions {
		if e.Definitions[i].Version == label {
			return &e.Definitions[i]
		}
	}
	return nil
}

// overlay returns cur with change laid over it: change's games, events
// and definition versions replace cur's of the same names or are added.
// A game of change whose Mappings is nil keeps cur's mappings, so that a
// definition, or a file that does not mention mappings, never wipes them.
// cur is not modified.
func overlay(cur, change *validate.Model) *validate.Model {
	out := &validate.Model{Games: slices.Clone(cur.Games)}
	for _, cg := range change.Games {
		gi := slices.IndexFunc(out.Games, func(g validate.Game) bool { return g.Name == cg.Name })
		if gi < 0 {
			out.Games = append(out.Games, validate.Game{Name: cg.Name})
			gi = len(out.Games) - 1
		}
		g := &out.Games[gi]
		if cg.Mappings != nil {
			g.Mappings = slices.Clone(cg.Mappings)
		}
		g.Events = slices.Clone(g.Events)
		for _, ce := range cg.Events {
			ei := slices.IndexFunc(g.Events, func(e validate.Event) bool { return e.Name == ce.Name })
			if ei < 0 {
				g.Events = append(g.Events, validate.Event{Name: ce.Name})
				ei = len(g.Events) - 1
			}
			e := &g.Events[ei]
			e.Definitions = slices.Clone(e.Definitions)
			for _, cd := range ce.Definitions {
				di := slices.IndexFunc(e.Definitions, func(d validate.Definition) bool { return d.Version == cd.Version })
				cd.Revision = 0
				if di < 0 {
					e.Definitions = append(e.Definitions, cd)
				} else {
					e.Definitions[di] = cd
				}
			}
		}
	}
	return out
}

// only returns the games of m named in names, whole (mappings, every
// event): what Apply needs to publish a change to those games. Apply
// never removes what a model leaves out, so leaving the other games out
// changes nothing of theirs and saves reading them back.
func only(m *validate.Model, names []string) *validate.Model {
	out := &validate.Model{}
	for _, g := range m.Games {
		if slices.Contains(names, g.Name) {
			out.Games = append(out.Games, g)
		}
	}
	return out
}

func gameNames(m *validate.Model) []string {
	var out []string
	for _, g := range m.Games {
		out = append(out, g.Name)
	}
	sort.Strings(out)
	return slices.Compact(out)
}
