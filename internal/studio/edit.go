package studio

// The writes: drafts (create, save, delete), publish, rollback and
// import. Each checks the user's right to the game first, answers bad
// input with a message naming the field and changes nothing, and writes
// an audit row whatever the outcome.

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/whirlpool-events/whirlpool/filters/validate"
)

// Editor limits.
const (
	maxFields       = 500
	maxDestinations = 50
	maxMappings     = 1000
	maxNameLen      = 128
	blankRows       = 3
)

func (s *Server) draftID(req *request) (*Draft, error) {
	id, err := strconv.ParseInt(req.r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return nil, notFound("no such draft")
	}
	dr, err := s.db.draft(req.r.Context(), id)
	if err == errNoDraft {
		return nil, notFound("no draft %d", id)
	}
	return dr, err
}

// mayWrite answers 403 (and audits the refusal) unless the user may
// change every game named.
func (s *Server) mayWrite(req *request, action, target string, games ...string) error {
	for _, g := range games {
		if !req.user.CanEdit(g) {
			s.db.audit(req.r.Context(), req.user.Name, action, target, OutcomeRefused, "not an editor of game "+g)
			return forbidden("refused: %s is not an editor of game %s", req.user.Name, g)
		}
	}
	return nil
}

func (s *Server) newDraft(req *request) error {
	ctx := req.r.Context()
	f := req.r.PostForm
	kind, game, event, label := f.Get("kind"), strings.TrimSpace(f.Get("game")), strings.TrimSpace(f.Get("event")), strings.TrimSpace(f.Get("label"))
	target := strings.Trim(game+"/"+event+" "+label, "/ ")
	for name, v := range map[string]string{"game": game, "event": event, "label": label} {
		if len(v) > maxNameLen {
			s.db.audit(ctx, req.user.Name, "new draft", cut(target, 300), OutcomeRefused, name+" too long")
			return badRequest("%s: at most %d characters", name, maxNameLen)
		}
	}
	if game == "" {
		s.db.audit(ctx, req.user.Name, "new draft", target, OutcomeRefused, "game missing")
		return badRequest("game: required")
	}
	if err := s.mayWrite(req, "new draft", target, game); err != nil {
		return err
	}
	snap, err := s.catalog.current(ctx)
	if err != nil {
		return err
	}
	dr := &Draft{Kind: kind, Game: game, Author: req.user.Name}
	switch kind {
	case KindDefinition:
		if event == "" || label == "" {
			s.db.audit(ctx, req.user.Name, "new draft", target, OutcomeRefused, "event or label missing")
			return badRequest("event and label: both required for a definition draft")
		}
		dr.Event, dr.Label = event, label
		from := strings.TrimSpace(f.Get("from"))
		if cur := snap.definition(game, event, label); cur != nil {
			dr.Definition, dr.BaseRevision = *cur, cur.Revision
		} else if src := snap.definition(game, event, from); from != "" && src != nil {
			dr.Definition = *src
		} else if f.Get("observed") == "yes" {
			if dr.Definition, err = s.draftFromObserved(ctx, game, event, label); err != nil {
				s.db.audit(ctx, req.user.Name, "new draft", target, OutcomeFailed, err.Error())
				return badRequest("no draft from the observed events: %v", err)
			}
		}
		dr.Definition.Version, dr.Definition.Revision = label, 0
	case KindMappings:
		if g := snap.games[game]; g != nil {
			dr.Mappings = slices.Clone(g.Mappings)
		}
	default:
		s.db.audit(ctx, req.user.Name, "new draft", target, OutcomeRefused, "bad kind")
		return badRequest("kind: want definition or mappings")
	}
	if err := s.db.saveDraft(ctx, dr); err != nil {
		return err
	}
	s.db.audit(ctx, req.user.Name, "new draft", target, OutcomeDone, fmt.Sprintf("draft %d (%s)", dr.ID, kind))
	http.Redirect(req.w, req.r, fmt.Sprintf("/drafts/%d", dr.ID), http.StatusSeeOther)
	return nil
}

// fieldRow is one row of the definition editor.
type fieldRow struct {
	validate.Field
	Errors, Warnings []string
}

type mappingRow struct {
	validate.Mapping
	Errors, Warnings []string
}

// editorData is what the editor shows: the draft's content (as saved or
// as just submitted) and every problem beside what it concerns.
type editorData struct {
	Draft        *Draft
	Fields       []fieldRow
	Mappings     []mappingRow
	Destinations string
	Additional   string
	General      []string // problems of the draft not about one field or mapping
	Warnings     []string
	InputErrors  []string // form input the studio could not read; nothing saved
	Publishable  bool
}

func (s *Server) editorPage(req *request) error {
	dr, err := s.draftID(req)
	if err != nil {
		return err
	}
	if dr.Kind == KindModel {
		http.Redirect(req.w, req.r, fmt.Sprintf("/drafts/%d/review", dr.ID), http.StatusSeeOther)
		return nil
	}
	ed, err := s.editor(req, dr, nil, nil)
	if err != nil {
		return err
	}
	return s.render(req, http.StatusOK, "editor", map[string]any{"Ed": ed, "Editable": req.user.CanEdit(dr.Game)})
}

// editor checks the draft against the live model and lays its problems
// out. rowErrs are input errors by field row index (or mapping row).
func (s *Server) editor(req *request, dr *Draft, inputErrs []string, rowErrs map[int][]string) (*editorData, error) {
	snap, err := s.catalog.current(req.r.Context())
	if err != nil {
		return nil, err
	}
	ed := &editorData{Draft: dr, InputErrors: inputErrs}
	change, perr := dr.model()
	var errs, warns []validate.Problem
	if perr != nil {
		errs = []validate.Problem{{Mapping: -1, Message: perr.Error()}}
	} else {
		// The checks look at each game on its own, so checking the games
		// the draft touches finds every problem it can cause, in a
		// fraction of the time of the whole model (publish checks that).
		errs, warns = only(overlay(snap.model, change), gameNames(change)).Problems()
		if dr.Kind == KindModel {
			// Laying the file over the live model merges what the file
			// says twice; the file's own check reports it.
			own, _ := change.Problems()
			for _, p := range own {
				if !slices.Contains(errs, p) {
					errs = append(errs, p)
				}
			}
		}
	}
	ed.Publishable = len(errs) == 0 && len(inputErrs) == 0
	mine := func(p validate.Problem) bool {
		return dr.Kind == KindDefinition && p.Game == dr.Game && p.Event == dr.Event && p.Definition == dr.Label
	}
	switch dr.Kind {
	case KindDefinition:
		d := dr.Definition
		ed.Destinations, ed.Additional = strings.Join(d.Destinations, "\n"), d.AdditionalFields
		for i, f := range d.Fields {
			row := fieldRow{Field: f, Errors: rowErrs[i]}
			for _, p := range errs {
				if mine(p) && f.Name != "" && p.Field == f.Name {
					row.Errors = append(row.Errors, p.Message)
				}
			}
			for _, p := range warns {
				if mine(p) && f.Name != "" && p.Field == f.Name {
					row.Warnings = append(row.Warnings, p.Message)
				}
			}
			ed.Fields = append(ed.Fields, row)
		}
		for i := 0; i < blankRows; i++ {
			ed.Fields = append(ed.Fields, fieldRow{Errors: rowErrs[len(d.Fields)+i]})
		}
	case KindMappings:
		for i, mp := range dr.Mappings {
			row := mappingRow{Mapping: mp, Errors: rowErrs[i]}
			for _, p := range errs {
				if p.Game == dr.Game && p.Mapping == i {
					row.Errors = append(row.Errors, p.Message)
				}
			}
			for _, p := range warns {
				if p.Game == dr.Game && p.Mapping == i {
					row.Warnings = append(row.Warnings, p.Message)
				}
			}
			ed.Mappings = append(ed.Mappings, row)
		}
		for i := 0; i < blankRows; i++ {
			ed.Mappings = append(ed.Mappings, mappingRow{Errors: rowErrs[len(dr.Mappings)+i]})
		}
	}
	placed := func(p validate.Problem) bool {
		switch dr.Kind {
		case KindDefinition:
			return mine(p) && p.Field != "" && slices.ContainsFunc(dr.Definition.Fields, func(f validate.Field) bool { return f.Name == p.Field })
		case KindMappings:
			return p.Game == dr.Game && p.Mapping >= 0 && p.Mapping < len(dr.Mappings)
		}
		return false
	}
	for _, p := range errs {
		if !placed(p) {
			ed.General = append(ed.General, describe(p))
		}
	}
	for _, p := range warns {
		if (p.Game == dr.Game || dr.Kind == KindModel) && !placed(p) {
			ed.Warnings = append(ed.Warnings, describe(p))
		}
	}
	return ed, nil
}

// describe is a problem as one line, naming what it is about.
func describe(p validate.Problem) string {
	var where []string
	if p.Game != "" {
		where = append(where, "game "+p.Game)
	}
	if p.Mapping >= 0 {
		where = append(where, "mapping #"+strconv.Itoa(p.Mapping+1))
	}
	if p.Event != "" {
		where = append(where, "event "+p.Event)
	}
	if p.Definition != "" {
		where = append(where, "definition "+p.Definition)
	}
	if p.Field != "" {
		where = append(where, "field "+p.Field)
	}
	if len(where) == 0 {
		return p.Message
	}
	return strings.Join(where, " ") + ": " + p.Message
}

// candidate is the live model with the draft laid over it.
func candidate(cur *validate.Model, dr *Draft) (*validate.Model, error) {
	change, err := dr.model()
	if err != nil {
		return nil, err
	}
	return overlay(cur, change), nil
}

// model is the draft as a (partial) model.
func (dr *Draft) model() (*validate.Model, error) {
	switch dr.Kind {
	case KindDefinition:
		return &validate.Model{Games: []validate.Game{{Name: dr.Game, Events: []validate.Event{{Name: dr.Event, Definitions: []validate.Definition{dr.Definition}}}}}}, nil
	case KindMappings:
		mps := dr.Mappings
		if mps == nil {
			mps = []validate.Mapping{}
		}
		return &validate.Model{Games: []validate.Game{{Name: dr.Game, Mappings: mps}}}, nil
	}
	return validate.ParseModel([]byte(dr.Source))
}

// readDefinitionForm reads the editor's form. Input it cannot read (a
// max_length that is no number, too many rows) is reported by row, and
// the draft is not saved.
func readDefinitionForm(r *http.Request, d *validate.Definition) (inputErrs []string, rowErrs map[int][]string) {
	f := r.PostForm
	rowErrs = map[int][]string{}
	cols := []string{"name", "path", "type", "mandatory", "expand", "format", "min", "max", "max_length"}
	n := len(f["field-name"])
	for _, c := range cols {
		if len(f["field-"+c]) != n {
			return []string{"fields: the form's columns have different lengths; reload the editor"}, nil
		}
	}
	if n > maxFields+blankRows {
		return []string{fmt.Sprintf("fields: at most %d", maxFields)}, nil
	}
	d.Fields = nil
	for i := 0; i < n; i++ {
		get := func(c string) string { return strings.TrimSpace(f["field-"+c][i]) }
		fl := validate.Field{Name: get("name"), Path: get("path"), Type: get("type"), Format: get("format"),
			Min: validate.Bound(get("min")), Max: validate.Bound(get("max")),
			Mandatory: get("mandatory") == "yes", Expand: get("expand") == "yes"}
		if ml := get("max_length"); ml != "" {
			v, err := strconv.Atoi(ml)
			if err != nil || v < 0 {
				rowErrs[len(d.Fields)] = append(rowErrs[len(d.Fields)], fmt.Sprintf("max_length %q: must be a whole number, 0 or more", cut(ml, 40)))
				inputErrs = append(inputErrs, fmt.Sprintf("field %d (%s): max_length %q must be a whole number, 0 or more", i+1, cut(fl.Name, 64), cut(ml, 40)))
			}
			fl.MaxLength = v
		}
		for _, c := range []string{"mandatory", "expand"} {
			if v := get(c); v != "" && v != "yes" && v != "no" {
				inputErrs = append(inputErrs, fmt.Sprintf("field %d: %s must be yes or no", i+1, c))
			}
		}
		if fl == (validate.Field{}) {
			continue // a blank row
		}
		d.Fields = append(d.Fields, fl)
	}
	d.Destinations = nil
	for _, line := range strings.Split(f.Get("destinations"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			d.Destinations = append(d.Destinations, line)
		}
	}
	if len(d.Destinations) > maxDestinations {
		inputErrs = append(inputErrs, fmt.Sprintf("destinations: at most %d", maxDestinations))
	}
	switch a := f.Get("additional_fields"); a {
	case "", "ignore":
		d.AdditionalFields = ""
	case "reject":
		d.AdditionalFields = a
	default:
		inputErrs = append(inputErrs, "additional_fields: want ignore or reject")
	}
	return inputErrs, rowErrs
}

func readMappingsForm(r *http.Request) (mps []validate.Mapping, inputErrs []string, rowErrs map[int][]string) {
	f := r.PostForm
	rowErrs = map[int][]string{}
	n := len(f["mapping-version"])
	if len(f["mapping-definition"]) != n || len(f["mapping-priority"]) != n {
		return nil, []string{"mappings: the form's columns have different lengths; reload the editor"}, nil
	}
	if n > maxMappings+blankRows {
		return nil, []string{fmt.Sprintf("mappings: at most %d", maxMappings)}, nil
	}
	mps = []validate.Mapping{}
	for i := 0; i < n; i++ {
		mp := validate.Mapping{Version: strings.TrimSpace(f["mapping-version"][i]), Definition: strings.TrimSpace(f["mapping-definition"][i])}
		if p := strings.TrimSpace(f["mapping-priority"][i]); p != "" {
			v, err := strconv.Atoi(p)
			if err != nil {
				rowErrs[len(mps)] = append(rowErrs[len(mps)], fmt.Sprintf("priority %q: must be a whole number", cut(p, 40)))
				inputErrs = append(inputErrs, fmt.Sprintf("mapping %d: priority %q must be a whole number", i+1, cut(p, 40)))
			}
			mp.Priority = v
		}
		if mp == (validate.Mapping{}) {
			continue
		}
		mps = append(mps, mp)
	}
	return mps, inputErrs, rowErrs
}

func (s *Server) saveDraft(req *request) error {
	ctx := req.r.Context()
	dr, err := s.draftID(req)
	if err != nil {
		return err
	}
	target := fmt.Sprintf("draft %d", dr.ID)
	if dr.Kind == KindModel {
		s.db.audit(ctx, req.user.Name, "save draft", target, OutcomeRefused, "imported model")
		return badRequest("an imported model is not edited here: import it again")
	}
	if err := s.mayWrite(req, "save draft", target, dr.Game); err != nil {
		return err
	}
	var inputErrs []string
	var rowErrs map[int][]string
	switch dr.Kind {
	case KindDefinition:
		inputErrs, rowErrs = readDefinitionForm(req.r, &dr.Definition)
	case KindMappings:
		dr.Mappings, inputErrs, rowErrs = readMappingsForm(req.r)
	}
	if len(inputErrs) > 0 {
		s.db.audit(ctx, req.user.Name, "save draft", target, OutcomeRefused, strings.Join(inputErrs, "; "))
		ed, err := s.editor(req, dr, inputErrs, rowErrs)
		if err != nil {
			return err
		}
		return s.render(req, http.StatusBadRequest, "editor", map[string]any{"Ed": ed, "Editable": true})
	}
	dr.Author = req.user.Name
	if err := s.db.saveDraft(ctx, dr); err != nil {
		return err
	}
	s.db.audit(ctx, req.user.Name, "save draft", target, OutcomeDone, draftTarget(dr))
	next := fmt.Sprintf("/drafts/%d", dr.ID)
	if req.r.PostFormValue("then") == "review" {
		next += "/review"
	}
	http.Redirect(req.w, req.r, next, http.StatusSeeOther)
	return nil
}

func draftTarget(dr *Draft) string {
	switch dr.Kind {
	case KindDefinition:
		return dr.Game + "/" + dr.Event + " " + dr.Label
	case KindMappings:
		return dr.Game + " mappings"
	}
	return "model file"
}

func (s *Server) deleteDraft(req *request) error {
	dr, err := s.draftID(req)
	if err != nil {
		return err
	}
	target := fmt.Sprintf("draft %d", dr.ID)
	if dr.Kind == KindModel {
		if dr.Author != req.user.Name && !req.user.IsAdmin() {
			s.db.audit(req.r.Context(), req.user.Name, "delete draft", target, OutcomeRefused, "not the importer")
			return forbidden("refused: only its importer or an admin deletes an imported model")
		}
	} else if err := s.mayWrite(req, "delete draft", target, dr.Game); err != nil {
		return err
	}
	if err := s.db.deleteDraft(req.r.Context(), dr.ID); err != nil {
		return err
	}
	s.db.audit(req.r.Context(), req.user.Name, "delete draft", target, OutcomeDone, draftTarget(dr))
	http.Redirect(req.w, req.r, "/drafts", http.StatusSeeOther)
	return nil
}

func (s *Server) reviewPage(req *request) error {
	dr, err := s.draftID(req)
	if err != nil {
		return err
	}
	snap, err := s.catalog.current(req.r.Context())
	if err != nil {
		return err
	}
	ed, err := s.editor(req, dr, nil, nil)
	if err != nil {
		return err
	}
	var review Review
	var games []string
	if next, err := candidate(snap.model, dr); err == nil {
		review = s.review(req.r.Context(), snap, next, dr)
		if ch, err := dr.model(); err == nil {
			games = gameNames(ch)
		}
	}
	editable := true
	for _, g := range games {
		editable = editable && req.user.CanEdit(g)
	}
	var stale string
	if dr.Kind == KindDefinition {
		if cur := snap.definition(dr.Game, dr.Event, dr.Label); cur != nil && cur.Revision != dr.BaseRevision {
			stale = fmt.Sprintf("%s/%s %s is at revision %d now; this draft started from revision %d. Start a new draft from the current revision.", dr.Game, dr.Event, dr.Label, cur.Revision, dr.BaseRevision)
		}
	}
	return s.render(req, http.StatusOK, "review", map[string]any{"Ed": ed, "Review": review, "Games": games, "Editable": editable && len(games) > 0, "Stale": stale})
}

// publish applies the draft: the live model with the draft laid over it
// must pass the checks; then every game the draft touches is applied
// whole (its mappings and all its events), so a new revision is written
// for what changed and nothing else moves.
func (s *Server) publish(req *request) error {
	ctx := req.r.Context()
	dr, err := s.draftID(req)
	if err != nil {
		return err
	}
	target := draftTarget(dr)
	change, err := dr.model()
	if err != nil {
		s.db.audit(ctx, req.user.Name, "publish", target, OutcomeRefused, err.Error())
		return badRequest("%v", err)
	}
	games := gameNames(change)
	if err := s.mayWrite(req, "publish", target, games...); err != nil {
		return err
	}
	reason := strings.TrimSpace(req.r.PostFormValue("reason"))
	if reason == "" || len(reason) > 1000 {
		s.db.audit(ctx, req.user.Name, "publish", target, OutcomeRefused, "reason missing or too long")
		return badRequest("reason: required, at most 1000 characters: say why, for the history")
	}
	snap, err := s.catalog.current(ctx)
	if err != nil {
		return err
	}
	if dr.Kind == KindDefinition {
		if cur := snap.definition(dr.Game, dr.Event, dr.Label); cur != nil && cur.Revision != dr.BaseRevision {
			s.db.audit(ctx, req.user.Name, "publish", target, OutcomeRefused, "stale draft")
			return &httpError{http.StatusConflict, fmt.Sprintf("refused: %s changed since this draft started (revision %d, draft from %d)", target, cur.Revision, dr.BaseRevision)}
		}
	}
	next := overlay(snap.model, change)
	errs, _ := next.Problems()
	if dr.Kind == KindModel {
		own, _ := change.Problems()
		errs = append(errs, own...)
	}
	if len(errs) > 0 {
		var msgs []string
		for _, p := range errs {
			msgs = append(msgs, describe(p))
		}
		s.db.audit(ctx, req.user.Name, "publish", target, OutcomeRefused, strings.Join(msgs, "; "))
		return badRequest("refused, the model would not pass its checks:\n%s", strings.Join(msgs, "\n"))
	}
	if review := s.review(ctx, snap, next, dr); len(review.Breaking) > 0 && req.r.PostFormValue("confirm_breaking") != "yes" {
		s.db.audit(ctx, req.user.Name, "publish", target, OutcomeRefused, "breaking changes not confirmed: "+strings.Join(review.Breaking, "; "))
		return badRequest("refused: this draft makes breaking changes; tick the confirmation on the review page to publish them:\n%s", strings.Join(review.Breaking, "\n"))
	}
	changes, err := s.cfg.Store.ApplyWith(ctx, only(next, games), validate.ApplyOptions{Author: req.user.Name, Reason: reason})
	if err != nil {
		s.db.audit(ctx, req.user.Name, "publish", target, OutcomeFailed, err.Error())
		return err
	}
	var lines []string
	for _, c := range changes {
		lines = append(lines, c.String())
	}
	if len(lines) == 0 {
		lines = []string{"no change"}
	}
	if err := s.db.deleteDraft(ctx, dr.ID); err != nil {
		return err
	}
	s.db.audit(ctx, req.user.Name, "publish", target, OutcomeDone, "reason: "+reason+"; "+strings.Join(lines, "; "))
	to := "/games/" + pathEscape(dr.Game)
	if dr.Kind == KindDefinition {
		to += "/events/" + pathEscape(dr.Event) + "/" + pathEscape(dr.Label)
	} else if dr.Kind == KindModel {
		to = "/"
	}
	http.Redirect(req.w, req.r, to, http.StatusSeeOther)
	return nil
}

func (s *Server) rollback(req *request) error {
	ctx := req.r.Context()
	game, event, label := req.r.PathValue("game"), req.r.PathValue("event"), req.r.PathValue("label")
	target := game + "/" + event + " " + label
	if err := s.mayWrite(req, "rollback", target, game); err != nil {
		return err
	}
	rev, err := strconv.Atoi(req.r.PostFormValue("revision"))
	if err != nil || rev < 1 {
		s.db.audit(ctx, req.user.Name, "rollback", target, OutcomeRefused, "bad revision")
		return badRequest("revision: a positive whole number")
	}
	reason := strings.TrimSpace(req.r.PostFormValue("reason"))
	if reason == "" || len(reason) > 1000 {
		s.db.audit(ctx, req.user.Name, "rollback", target, OutcomeRefused, "reason missing or too long")
		return badRequest("reason: required, at most 1000 characters")
	}
	c, err := s.cfg.Store.RollbackWith(ctx, game, event, label, rev, validate.ApplyOptions{Author: req.user.Name, Reason: reason})
	if err != nil {
		s.db.audit(ctx, req.user.Name, "rollback", target, OutcomeFailed, err.Error())
		return badRequest("%v", err)
	}
	detail := "already current, no change"
	if c != nil {
		detail = c.String()
	}
	s.db.audit(ctx, req.user.Name, "rollback", target, OutcomeDone, "reason: "+reason+"; "+detail)
	http.Redirect(req.w, req.r, "/games/"+pathEscape(game)+"/events/"+pathEscape(event)+"/"+pathEscape(label), http.StatusSeeOther)
	return nil
}

// importModel stores an uploaded model file as a draft; its review page
// shows the check result, and publishing applies it over the live model.
func (s *Server) importModel(req *request) error {
	ctx := req.r.Context()
	file, _, err := req.r.FormFile("model")
	if err != nil {
		s.db.audit(ctx, req.user.Name, "import", "model file", OutcomeRefused, "no file")
		return badRequest("model: choose a model file (YAML or JSON) to upload")
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, MaxImportBytes+1))
	if err != nil {
		return err
	}
	if len(data) > MaxImportBytes {
		s.db.audit(ctx, req.user.Name, "import", "model file", OutcomeRefused, "too large")
		return badRequest("model: larger than %d bytes", MaxImportBytes)
	}
	m, err := validate.ParseModel(data)
	if err != nil {
		s.db.audit(ctx, req.user.Name, "import", "model file", OutcomeRefused, err.Error())
		return badRequest("model: %v", err)
	}
	games := gameNames(m)
	if len(games) == 0 {
		s.db.audit(ctx, req.user.Name, "import", "model file", OutcomeRefused, "no games")
		return badRequest("model: the file has no games")
	}
	if err := s.mayWrite(req, "import", "games "+strings.Join(games, ", "), games...); err != nil {
		return err
	}
	dr := &Draft{Kind: KindModel, Source: string(data), Author: req.user.Name}
	if err := s.db.saveDraft(ctx, dr); err != nil {
		return err
	}
	s.db.audit(ctx, req.user.Name, "import", "games "+strings.Join(games, ", "), OutcomeDone, fmt.Sprintf("draft %d, %d bytes", dr.ID, len(data)))
	http.Redirect(req.w, req.r, fmt.Sprintf("/drafts/%d/review", dr.ID), http.StatusSeeOther)
	return nil
}

// retire takes a definition version out of use (Store.Retire): events
// resolving to it fail DEFINITION_NOT_FOUND until a rollback restores it.
func (s *Server) retire(req *request) error {
	ctx := req.r.Context()
	game, event, label := req.r.PathValue("game"), req.r.PathValue("event"), req.r.PathValue("label")
	target := game + "/" + event + " " + label
	if err := s.mayWrite(req, "retire", target, game); err != nil {
		return err
	}
	reason := strings.TrimSpace(req.r.PostFormValue("reason"))
	if reason == "" || len(reason) > 1000 {
		s.db.audit(ctx, req.user.Name, "retire", target, OutcomeRefused, "reason missing or too long")
		return badRequest("reason: required, at most 1000 characters")
	}
	snap, err := s.catalog.current(ctx)
	if err != nil {
		return err
	}
	if snap.definition(game, event, label) == nil {
		s.db.audit(ctx, req.user.Name, "retire", target, OutcomeRefused, "no such definition")
		return notFound("no definition %s", target)
	}
	changes, err := s.cfg.Store.Retire(ctx, game, event, label, validate.ApplyOptions{Author: req.user.Name, Reason: reason})
	if err != nil {
		s.db.audit(ctx, req.user.Name, "retire", target, OutcomeFailed, err.Error())
		return badRequest("%v", err)
	}
	detail := "already retired, no change"
	if len(changes) > 0 {
		detail = changes[0].String()
	}
	s.db.audit(ctx, req.user.Name, "retire", target, OutcomeDone, "reason: "+reason+"; "+detail)
	http.Redirect(req.w, req.r, "/games/"+pathEscape(game)+"/events/"+pathEscape(event)+"/"+pathEscape(label), http.StatusSeeOther)
	return nil
}
