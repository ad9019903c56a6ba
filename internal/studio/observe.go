package studio

// The pages over the round-2 seams (seams_next.go): try an event, the
// violations dashboard with samples, replay, and a draft from observed
// events. Each answers 404 while its seam is nil.

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

var errNotWired = notFound("this part of the studio is not wired in yet")

// maxTryBody bounds a tried event's JSON body.
const maxTryBody = 256 << 10

func (s *Server) tryPage(req *request) error {
	if s.cfg.Seams.Next.Try == nil {
		return errNotWired
	}
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

// try runs one event against the live model, or with draft=ID against the
// live model with that draft laid over it. It writes nothing.
func (s *Server) try(req *request) error {
	if s.cfg.Seams.Next.Try == nil {
		return errNotWired
	}
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
	model := snap.model
	if draftID != "" {
		id, err := strconv.ParseInt(draftID, 10, 64)
		dr, derr := s.db.draft(ctx, id)
		if err != nil || derr != nil {
			inputErrs = append(inputErrs, "draft: no draft "+draftID)
		} else if model, err = candidate(snap.model, dr); err != nil {
			inputErrs = append(inputErrs, "draft: "+err.Error())
		}
	}
	if len(inputErrs) > 0 {
		data["InputErrors"] = inputErrs
		return s.render(req, http.StatusBadRequest, "try", data)
	}
	res, err := s.cfg.Seams.Next.Try(ctx, model, game, version, event, []byte(body))
	if err != nil {
		data["InputErrors"] = []string{err.Error()}
		return s.render(req, http.StatusBadRequest, "try", data)
	}
	data["Result"] = res
	return s.render(req, http.StatusOK, "try", data)
}

func (s *Server) violationsPage(req *request) error {
	if s.cfg.Seams.Next.Violations == nil {
		return errNotWired
	}
	counts, err := s.cfg.Seams.Next.Violations(req.r.Context(), s.now())
	if err != nil {
		return err
	}
	return s.render(req, http.StatusOK, "violations", map[string]any{"Counts": counts, "CanDraft": s.cfg.Seams.Next.DraftFromObserved != nil, "CanReplay": s.cfg.Seams.Next.ReplayPlan != nil})
}

func (s *Server) samplesPage(req *request) error {
	if s.cfg.Seams.Next.Samples == nil {
		return errNotWired
	}
	q := req.r.URL.Query()
	game, event, code := q.Get("game"), q.Get("event"), q.Get("code")
	if len(game) > maxNameLen || len(event) > maxNameLen || len(code) > 64 {
		return badRequest("game, event, code: too long")
	}
	samples, err := s.cfg.Seams.Next.Samples(req.r.Context(), game, event, code, 50)
	if err != nil {
		return err
	}
	return s.render(req, http.StatusOK, "samples", map[string]any{"Samples": samples, "Game": game, "Event": event, "Code": code})
}

func replayFilter(get func(string) string) (ReplayFilter, error) {
	f := ReplayFilter{Game: strings.TrimSpace(get("game")), Event: strings.TrimSpace(get("event")), Code: strings.TrimSpace(get("code"))}
	if f.Game == "" || len(f.Game) > maxNameLen || len(f.Event) > maxNameLen || len(f.Code) > 64 {
		return f, badRequest("game: required; game and event at most 128 characters, code 64")
	}
	return f, nil
}

// replayPage shows what a replay would do before it runs.
func (s *Server) replayPage(req *request) error {
	if s.cfg.Seams.Next.ReplayPlan == nil {
		return errNotWired
	}
	f, err := replayFilter(req.r.URL.Query().Get)
	if err != nil {
		return err
	}
	plan, err := s.cfg.Seams.Next.ReplayPlan(req.r.Context(), f)
	if err != nil {
		return err
	}
	return s.render(req, http.StatusOK, "replay", map[string]any{"Filter": f, "Plan": plan, "Editable": req.user.CanEdit(f.Game)})
}

func (s *Server) replay(req *request) error {
	if s.cfg.Seams.Next.Replay == nil {
		return errNotWired
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
	sum, err := s.cfg.Seams.Next.Replay(req.r.Context(), f)
	if err != nil {
		s.db.audit(req.r.Context(), req.user.Name, "replay", target, OutcomeFailed, err.Error())
		return err
	}
	s.db.audit(req.r.Context(), req.user.Name, "replay", target, OutcomeDone,
		fmt.Sprintf("%d failures accepted as %d rows, %d marked replayed, %d still failing", sum.Accepted, sum.Rows, sum.Marked, sum.StillFailing))
	return s.render(req, http.StatusOK, "replay", map[string]any{"Filter": f, "Done": sum})
}
