package studio

// The pages over what the pipeline does and did: try an event
// (internal/trial), the violations dashboard with samples
// (internal/failures), drafts from observed events
// (failures.UnknownEventSamples + validate.DraftDefinition) and replay
// (internal/replay). All but try read the target database.

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/failures"
	"github.com/whirlpool-events/whirlpool/internal/replay"
	"github.com/whirlpool-events/whirlpool/internal/trial"
)

var errNoTarget = &httpError{http.StatusServiceUnavailable, "this page reads the pipeline's database: start the studio with --target DSN (or WHIRLPOOL_DSN)"}

// maxTryBody bounds a tried event's JSON body.
const maxTryBody = 256 << 10

// observedSamples is how many UNKNOWN_EVENT bodies a draft is made from.
const observedSamples = 200

func (s *Server) tryPage(req *request) error {
	snap, err := s.catalog.current(req.r.Context())
	if err != nil {
		return err
	}
	g := snap.games[req.r.PathValue("game")]
	if g == nil {
		return notFound("no game %s", req.r.PathValue("game"))
	}
	return s.render(req, http.StatusOK, "try", map[string]any{"Game": g, "Draft": req.r.FormValue("draft"), "Event": req.r.FormValue("event")})
}

// try runs one event through the sqs input's path (trial.Run) against the
// live model, or with draft=ID against the live model with that draft laid
// over it. It writes nothing.
func (s *Server) try(req *request) error {
	ctx := req.r.Context()
	snap, err := s.catalog.current(ctx)
	if err != nil {
		return err
	}
	game := req.r.PathValue("game")
	g := snap.games[game]
	if g == nil {
		return notFound("no game %s", game)
	}
	f := req.r.PostForm
	version, event, body, draftID := strings.TrimSpace(f.Get("version")), strings.TrimSpace(f.Get("event")), f.Get("body"), strings.TrimSpace(f.Get("draft"))
	data := map[string]any{"Game": g, "Draft": draftID, "Event": event, "Version": version, "Body": body}
	var inputErrs []string
	if version == "" || len(version) > maxNameLen {
		inputErrs = append(inputErrs, "version: required, at most 128 characters")
	}
	if event == "" || len(event) > maxNameLen {
		inputErrs = append(inputErrs, "event: required, at most 128 characters")
	}
	if len(body) > maxTryBody {
		inputErrs = append(inputErrs, fmt.Sprintf("body: at most %d bytes", maxTryBody))
	}
	var v *validate.Validator
	if draftID == "" {
		if v, err = snap.validator(); err != nil {
			return err
		}
	} else {
		id, err := strconv.ParseInt(draftID, 10, 64)
		dr, derr := s.db.draft(ctx, id)
		var model *validate.Model
		if err != nil || derr != nil {
			inputErrs = append(inputErrs, "draft: no draft "+draftID)
		} else if model, err = candidate(snap.model, dr); err != nil {
			inputErrs = append(inputErrs, "draft: "+err.Error())
		} else if v, err = validate.NewWithModel(only(model, []string{game}), validate.Options{}); err != nil {
			inputErrs = append(inputErrs, "draft: the model with this draft does not pass its checks: "+err.Error())
		}
	}
	if len(inputErrs) > 0 {
		data["InputErrors"] = inputErrs
		return s.render(req, http.StatusBadRequest, "try", data)
	}
	res, err := trial.Run(v, game, version, event, []byte(body), s.now())
	if err != nil {
		data["InputErrors"] = []string{err.Error()}
		return s.render(req, http.StatusBadRequest, "try", data)
	}
	data["Result"] = res
	return s.render(req, http.StatusOK, "try", data)
}

func (s *Server) violationsPage(req *request) error {
	if s.cfg.Target == nil {
		return errNoTarget
	}
	if ok, err := s.hasFailuresTable(req.r.Context()); err != nil || !ok {
		return err
	}
	counts, err := failures.Summary(req.r.Context(), s.cfg.Target, s.cfg.FailuresTable, s.now())
	if err != nil {
		return err
	}
	return s.render(req, http.StatusOK, "violations", map[string]any{"Counts": counts})
}

// hasFailuresTable reports whether the target has the failures table yet
// (the output creates it with its first failure); without it the
// violations pages have nothing to show but say so.
func (s *Server) hasFailuresTable(ctx context.Context) (bool, error) {
	cols, err := failures.Columns(ctx, s.cfg.Target, s.cfg.FailuresTable)
	if err != nil {
		return false, err
	}
	if len(cols) == 0 {
		return false, notFound("no failures table %s in the target database yet: nothing has failed there", s.cfg.FailuresTable)
	}
	return true, nil
}

func (s *Server) samplesPage(req *request) error {
	if s.cfg.Target == nil {
		return errNoTarget
	}
	q := req.r.URL.Query()
	game, event, code := q.Get("game"), q.Get("event"), q.Get("code")
	if len(game) > maxNameLen || len(event) > maxNameLen || len(code) > 64 {
		return badRequest("game, event, code: too long")
	}
	if code != "" && !failcode.Known(failcode.Code(code)) {
		return badRequest("code: %q is not a failure code", code)
	}
	if ok, err := s.hasFailuresTable(req.r.Context()); err != nil || !ok {
		return err
	}
	samples, err := failures.Samples(req.r.Context(), s.cfg.Target, s.cfg.FailuresTable, game, event, code, 50)
	if err != nil {
		return err
	}
	return s.render(req, http.StatusOK, "samples", map[string]any{"Samples": samples, "Game": game, "Event": event, "Code": code})
}

// draftFromObserved proposes a definition from the latest UNKNOWN_EVENT
// failures of game and event.
func (s *Server) draftFromObserved(ctx context.Context, game, event, label string) (validate.Definition, error) {
	if s.cfg.Target == nil {
		return validate.Definition{}, errNoTarget
	}
	samples, err := failures.UnknownEventSamples(ctx, s.cfg.Target, s.cfg.FailuresTable, game, event, observedSamples)
	if err != nil {
		return validate.Definition{}, err
	}
	return validate.DraftDefinition(label, samples)
}

func replayFilter(get func(string) string) (failures.Filter, error) {
	f := failures.Filter{Game: strings.TrimSpace(get("game")), Event: strings.TrimSpace(get("event")), Code: strings.TrimSpace(get("code"))}
	if f.Game == "" || len(f.Game) > maxNameLen || len(f.Event) > maxNameLen || len(f.Code) > 64 {
		return f, badRequest("game: required; game and event at most 128 characters, code 64")
	}
	if f.Code != "" && !failcode.Known(failcode.Code(f.Code)) {
		return f, badRequest("code: %q is not a failure code", f.Code)
	}
	return f, nil
}

// replayOptions are the options of a replay of f against the live model.
func (s *Server) replayOptions(ctx context.Context, f failures.Filter) (replay.Options, error) {
	snap, err := s.catalog.current(ctx)
	if err != nil {
		return replay.Options{}, err
	}
	v, err := snap.validator()
	if err != nil {
		return replay.Options{}, err
	}
	return replay.Options{Model: v, Target: s.cfg.Target, TargetDSN: s.cfg.TargetDSN, Dialect: s.cfg.Dialect,
		FailuresTable: s.cfg.FailuresTable, Filter: f, AutoCreate: s.cfg.AutoCreate, Now: s.now()}, nil
}

// replayTotals is a replay summary reduced to what the page shows.
type replayTotals struct {
	Accepted, Rows, StillFailing, NotReplayable, Marked int64
	Reasons                                             []string
}

func totals(sum replay.Summary) replayTotals {
	t := replayTotals{Rows: sum.Rows, Marked: sum.Marked}
	for _, c := range sum.Accepted {
		t.Accepted += c.Failures
	}
	for _, c := range sum.StillFailing {
		t.StillFailing += c.Failures
	}
	for _, c := range sum.NotReplayable {
		t.NotReplayable += c.Failures
		t.Reasons = append(t.Reasons, fmt.Sprintf("%d of %s/%s: %s", c.Failures, c.Game, c.Event, c.Reason))
	}
	return t
}

// replayPage shows what a replay would do (replay.Plan) before it runs.
func (s *Server) replayPage(req *request) error {
	if s.cfg.Target == nil {
		return errNoTarget
	}
	f, err := replayFilter(req.r.URL.Query().Get)
	if err != nil {
		return err
	}
	if ok, err := s.hasFailuresTable(req.r.Context()); err != nil || !ok {
		return err
	}
	o, err := s.replayOptions(req.r.Context(), f)
	if err != nil {
		return err
	}
	plan, err := replay.Plan(req.r.Context(), o)
	if err != nil {
		return err
	}
	return s.render(req, http.StatusOK, "replay", map[string]any{"Filter": f, "Plan": totals(plan), "Editable": req.user.CanEdit(f.Game)})
}

// replay runs the replay the plan page showed; confirm=yes says the user
// saw the plan.
func (s *Server) replay(req *request) error {
	if s.cfg.Target == nil {
		return errNoTarget
	}
	f, err := replayFilter(req.r.PostForm.Get)
	if err != nil {
		s.db.audit(req.r.Context(), req.user.Name, "replay", "", OutcomeRefused, err.Error())
		return err
	}
	target := strings.TrimSpace(fmt.Sprintf("%s %s %s", f.Game, f.Event, f.Code))
	if err := s.mayWrite(req, "replay", target, f.Game); err != nil {
		return err
	}
	if req.r.PostForm.Get("confirm") != "yes" {
		s.db.audit(req.r.Context(), req.user.Name, "replay", target, OutcomeRefused, "not confirmed")
		return badRequest("refused: confirm the replay on its plan page")
	}
	if ok, err := s.hasFailuresTable(req.r.Context()); err != nil || !ok {
		return err
	}
	o, err := s.replayOptions(req.r.Context(), f)
	if err != nil {
		return err
	}
	sum, err := replay.Run(req.r.Context(), o)
	if err != nil {
		s.db.audit(req.r.Context(), req.user.Name, "replay", target, OutcomeFailed, err.Error())
		return err
	}
	t := totals(sum)
	s.db.audit(req.r.Context(), req.user.Name, "replay", target, OutcomeDone,
		fmt.Sprintf("%d failures accepted as %d rows, %d marked replayed, %d still failing, %d not replayable", t.Accepted, t.Rows, t.Marked, t.StillFailing, t.NotReplayable))
	return s.render(req, http.StatusOK, "replay", map[string]any{"Filter": f, "Done": t})
}
