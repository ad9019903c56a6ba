package studio

// Seams for the pieces built beside the studio (round 2 wires them): try
// an event (internal/trial), the violations dashboard (internal/failures),
// replay (internal/replay) and a draft from observed events
// (failures.UnknownEventSamples + validate.DraftDefinition). Each is a
// field of Seams; while it is nil its page answers 404 "not wired" and the
// navigation leaves it out. The types mirror those packages' field for
// field, so that wiring is a type alias (type TryResult = trial.Result)
// or a loop that copies.

import (
	"context"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/validate"
)

// TryResult is what the pipeline would do with one event (trial.Result):
// the rows per table, or the failure records.
type TryResult struct {
	Tables   []TryTable
	Failures []TryFailure
}

// TryTable is one destination table's rows (trial.Table).
type TryTable struct {
	Name    string
	Columns []string
	Rows    [][]string
}

// TryFailure is one failure record (trial.Failure).
type TryFailure struct {
	UUID     string
	Codes    []string
	Errors   []TryError
	RawEvent string
}

// TryError is one error of a failure (trial.Error).
type TryError struct {
	Path, Code, Message string
}

// ViolationCount is failures by game, event and code (failures.Count).
type ViolationCount struct {
	Game, Event, Code string
	LastHour, LastDay int64
}

// ViolationSample is one failed event with its errors (failures.Sample).
type ViolationSample struct {
	UUID              string
	FiredTS, FailedAt time.Time
	Game, Version     string
	Event             string
	DefinitionVersion string
	RawEvent          string
	Codes             []string
	Errors            []TryError
	Truncated         bool
}

// ReplayFilter picks the failures a replay re-validates (failures.Filter).
type ReplayFilter struct {
	Game, Event, Code string
}

// ReplaySummary is what a replay does or would do (replay.Summary,
// reduced to what the page shows).
type ReplaySummary struct {
	Accepted      int64 // failures that now validate
	Rows          int64 // rows they load as
	StillFailing  int64
	NotReplayable int64
	Marked        int64 // failure rows marked replayed (Run only)
}

// NextSeams are the seams of round 2 (see the file comment).
type NextSeams struct {
	// Try runs one event through the pipeline's path against model m.
	// Wire: trial.Run with a validator built from m.
	Try func(ctx context.Context, m *validate.Model, game, version, event string, body []byte) (TryResult, error)
	// Violations counts failures over the last hour and day. Wire:
	// failures.Summary.
	Violations func(ctx context.Context, now time.Time) ([]ViolationCount, error)
	// Samples returns recent failures of game/event/code. Wire:
	// failures.Samples.
	Samples func(ctx context.Context, game, event, code string, limit int) ([]ViolationSample, error)
	// ReplayPlan counts what a replay would do; Replay does it. Wire:
	// replay.Plan and replay.Run.
	ReplayPlan, Replay func(ctx context.Context, f ReplayFilter) (ReplaySummary, error)
	// DraftFromObserved proposes a definition from an unknown event's
	// samples. Wire: failures.UnknownEventSamples + validate.DraftDefinition.
	DraftFromObserved func(ctx context.Context, game, event, label string) (validate.Definition, error)
}
