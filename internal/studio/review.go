package studio

// The review before publishing: what the draft changes against the live
// model (validate.DiffDefinitions, validate.DiffMappings), which of those
// changes break what worked, and the DDL the output's auto_create will
// run in the target database (redshift.PlanDDL).

import (
	"context"
	"fmt"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
)

// Review is what the review page shows beside the checks.
type Review struct {
	Diff     []string
	Breaking []string
	DDL      []string
	// DDLNote says why no DDL is shown (no target database, or the plan
	// failed), or that a load changes no table.
	DDLNote string
}

// review compares the draft with the live model; next is the live model
// with the draft laid over it.
func (s *Server) review(ctx context.Context, live *snapshot, next *validate.Model, dr *Draft) Review {
	var r Review
	change, err := dr.model()
	if err != nil {
		return r
	}
	for _, g := range change.Games {
		if g.Mappings != nil {
			var old []validate.Mapping
			if cg := live.games[g.Name]; cg != nil {
				old = cg.Mappings
			}
			for _, line := range validate.DiffMappings(old, g.Mappings) {
				r.Diff = append(r.Diff, g.Name+" mappings: "+line)
			}
		}
		for _, e := range g.Events {
			for i := range e.Definitions {
				d := &e.Definitions[i]
				where := fmt.Sprintf("%s/%s %s", g.Name, e.Name, d.Version)
				old := live.definition(g.Name, e.Name, d.Version)
				if old == nil {
					r.Diff = append(r.Diff, where+": new definition")
				}
				diff := validate.DiffDefinitions(old, d)
				for _, list := range [][]validate.FieldChange{diff.Added, diff.Removed, diff.Changed, diff.Other} {
					for _, c := range list {
						r.Diff = append(r.Diff, where+": "+describeChange(c))
					}
				}
				for _, b := range diff.Breaking {
					r.Breaking = append(r.Breaking, where+": "+b)
				}
			}
		}
	}
	switch {
	case s.cfg.Target == nil:
		r.DDLNote = "The DDL auto_create will run cannot be shown: the studio has no target database (serve --target DSN, or WHIRLPOOL_DSN)."
	default:
		ddl, err := redshift.PlanDDL(ctx, s.cfg.Target, s.cfg.Dialect, only(next, gameNames(change)), s.cfg.FailuresTable)
		if err != nil {
			s.cfg.Log.Printf("studio: planning DDL: %v", err)
			r.DDLNote = "The DDL auto_create will run could not be planned (the error is logged on the server)."
		} else if len(ddl) == 0 {
			r.DDLNote = "auto_create will change no table."
		}
		r.DDL = ddl
	}
	return r
}

// describeChange is one line of a definition's diff.
func describeChange(c validate.FieldChange) string {
	line := c.What
	if c.Field != "" {
		line = "field " + c.Field + " " + c.What
	}
	switch {
	case c.Before != "" && c.After != "":
		line += ": " + c.Before + " → " + c.After
	case c.After != "":
		line += ": " + c.After
	case c.Before != "":
		line += ": was " + c.Before
	}
	return line
}
