// Package studio is the model studio: the web application where game
// teams browse, draft, check, review and publish their event definitions
// and version mappings, over the same model store (filters/validate's
// Store) and the same checks (Model.Problems) the pipeline runs. It is
// served by `whirlpool-model serve`. What the studio shows comes from the
// library the pipeline runs: Model.Problems, Validator.Resolve,
// DiffDefinitions and DiffMappings, redshift.PlanDDL, trial.Run, and
// internal/failures and internal/replay over the target database
// (Config.Target).
//
// Pages are rendered on the server (html/template, embedded, no
// JavaScript): the catalogue with search by event, field or destination
// table; a game's events and mappings with a box that resolves a game
// version; a definition version's fields, destinations and history with
// rollback; the editor for drafts; the review before publishing; YAML
// import and export; the audit log; try an event; violations, samples,
// drafts from observed events and replay.
//
// Routes (every page but /login needs a session; every POST the CSRF
// token):
//
//	GET  /login, POST /login, POST /logout
//	GET  /                                   catalogue; ?q= searches
//	GET  /games/{game}                       events, mappings; ?version= resolves
//	GET  /games/{game}/events/{event}/{label} fields, destinations, history
//	POST /games/{game}/events/{event}/{label}/rollback   revision, reason
//	POST /games/{game}/events/{event}/{label}/retire     reason
//	GET  /games/{game}/mappings/history
//	POST /drafts                             kind=definition|mappings, game, event, label[, from][, observed=yes]
//	GET  /drafts, /drafts/{id}, /drafts/{id}/review
//	POST /drafts/{id} (save), /drafts/{id}/publish (reason[, confirm_breaking=yes]), /drafts/{id}/delete
//	GET  /import, POST /import (multipart "model"), GET /export
//	GET  /audit
//	GET  /games/{game}/try, POST /games/{game}/try   version, event, body[, draft]
//	GET  /violations, /violations/samples?game&event&code   (need Config.Target)
//	GET  /violations/replay?game&event&code   the plan; POST it with confirm=yes to run
//
// Drafts are kept in the studio's own tables (schema whirlpool_studio) and
// never touch the live model. Publishing lays the draft over the live
// model, checks the whole result, and applies every game the draft touches
// in full (mappings and all events) with Store.ApplyWith, so a draft of one
// definition can never wipe a game's mappings.
//
// Security: accounts (package auth) with the roles viewer, editor (of the
// games listed on the account) and admin; server-side sessions that expire
// after an idle time and an absolute age, in an HttpOnly SameSite=Strict
// cookie (Secure over TLS or with Config.SecureCookies); every POST must
// come from the studio's own pages (Origin or Referer) and carry the
// session's CSRF token; every write is checked against the user's role for
// the game and audited, whether done or refused. Bodies are size-limited.
//
// Who published a revision and why is recorded by the store
// (Store.ApplyWith, RollbackWith, Retire); a breaking change (per
// DiffDefinitions) is published only with confirm_breaking=yes, and a
// replay runs only on a POST with confirm=yes after its plan was shown.
package studio
