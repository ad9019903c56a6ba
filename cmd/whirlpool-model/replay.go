package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	_ "github.com/lib/pq"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/failures"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/replay"
)

const replayUsage = `usage: whirlpool-model replay --dsn MODEL_DSN --target TARGET_DSN [--dialect postgres|redshift]
         [--failures-table failures.events] [--game G] [--event E] [--code C] [--since 24h]
         [--auto-create] [--dry-run]
Re-validates the failures not replayed yet against the current model in the store and loads
those it accepts as rows (same uuid: dedupe holds), then marks their failure rows (replayed_at).
--dry-run counts what it would do. --dsn defaults to $WHIRLPOOL_MODEL_DSN.
`

// replayCmd runs "whirlpool-model replay ARGS"; it parses its own flags,
// which the other commands do not take.
func replayCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dsn := fs.String("dsn", os.Getenv("WHIRLPOOL_MODEL_DSN"), "")
	target := fs.String("target", "", "")
	dialect := fs.String("dialect", "postgres", "")
	table := fs.String("failures-table", "failures.events", "")
	game := fs.String("game", "", "")
	event := fs.String("event", "", "")
	code := fs.String("code", "", "")
	since := fs.Duration("since", 0, "")
	dry := fs.Bool("dry-run", false, "")
	auto := fs.Bool("auto-create", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, replayUsage)
			return 0
		}
		fmt.Fprintf(stderr, "replay: %v\n%s", err, replayUsage)
		return 2
	}
	if fs.NArg() > 0 || *dsn == "" || *target == "" {
		fmt.Fprint(stderr, "replay needs --dsn and --target and no other argument\n"+replayUsage)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	st, code2 := open(ctx, *dsn, stderr)
	if st == nil {
		return code2
	}
	defer st.Close()
	m, err := st.Load(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "replay: reading the model: %v\n", err)
		return 1
	}
	v, err := validate.NewWithModel(m, validate.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return 1
	}
	defer v.Close()
	db, err := sql.Open("postgres", *target)
	if err != nil {
		fmt.Fprintf(stderr, "replay: target: %v\n", err)
		return 2
	}
	defer db.Close()
	o := replay.Options{Model: v, Target: db, TargetDSN: *target, Dialect: *dialect, FailuresTable: *table, AutoCreate: *auto,
		Filter: failures.Filter{Game: *game, Event: *event, Code: *code}, Log: stderrLog{stderr}}
	if *since > 0 {
		o.Filter.Since = time.Now().Add(-*since)
	}
	do := replay.Run
	if *dry {
		do = replay.Plan
	}
	s, err := do(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "replay: %v\n", err)
		return 1
	}
	printSummary(stdout, s, *dry)
	return 0
}

// printSummary writes what a replay did or would do, one line per game,
// event and codes.
func printSummary(w io.Writer, s replay.Summary, dry bool) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	verb := "replayed"
	if dry {
		verb = "would replay"
	}
	fmt.Fprintf(tw, "%s\tGAME\tEVENT\tCODES\tFAILURES\n", "CLASS")
	for _, c := range s.Accepted {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", verb, c.Game, c.Event, c.Codes, c.Failures)
	}
	for _, c := range s.StillFailing {
		fmt.Fprintf(tw, "still failing\t%s\t%s\t%s\t%d\n", c.Game, c.Event, c.Codes, c.Failures)
	}
	for _, c := range s.NotReplayable {
		fmt.Fprintf(tw, "not replayable\t%s\t%s\t%s\t%d\t(%s)\n", c.Game, c.Event, c.Codes, c.Failures, c.Reason)
	}
	tw.Flush()
	if dry {
		fmt.Fprintf(w, "dry run: %d rows would be loaded; nothing changed\n", s.Rows)
		return
	}
	fmt.Fprintf(w, "%d rows loaded (rows already there are kept once); %d failure rows marked replayed\n", s.Rows, s.Marked)
}

// stderrLog prints the load's warnings and errors.
type stderrLog struct{ w io.Writer }

func (l stderrLog) Enabled(lv plugin.Level) bool { return lv <= plugin.LevelWarn }
func (l stderrLog) Errorf(f string, a ...any)    { fmt.Fprintf(l.w, "error: "+f+"\n", a...) }
func (l stderrLog) Warnf(f string, a ...any)     { fmt.Fprintf(l.w, "warning: "+f+"\n", a...) }
func (l stderrLog) Infof(string, ...any)         {}
func (l stderrLog) Debugf(string, ...any)        {}
