// Command whirlpool-model checks a Whirlpool data model file and manages
// the model store (PostgreSQL schema whirlpool_model) that validators read:
// the operator's tool for the production store. Install it with
//
//	go install github.com/whirlpool-events/whirlpool/cmd/whirlpool-model@latest
//
// and run
//
//	whirlpool-model check FILE
//	whirlpool-model apply FILE --dsn DSN [--author NAME] [--reason TEXT]
//	whirlpool-model rollback --dsn DSN GAME EVENT VERSION [--author NAME] [--reason TEXT]
//	whirlpool-model retire --dsn DSN GAME EVENT [LABEL] [--author NAME] [--reason TEXT]
//	whirlpool-model export --dsn DSN
//	whirlpool-model dbt-sources [FILE] [--dsn DSN] [--failures-table SCHEMA.TABLE]
//	whirlpool-model replay --dsn DSN --target TARGET_DSN [--dry-run] [filters]
//	whirlpool-model serve [--dsn DSN] [--listen 127.0.0.1:8080]
//	whirlpool-model user add NAME --role viewer|editor|admin [--games g1,g2]
//
// check prints every problem of FILE (YAML or JSON, see filters/validate)
// and exits 1 if there is any; it prints warnings (e.g. a mapping to a
// definition label some event lacks) and still exits 0. apply writes FILE
// to the store: a new revision of each definition version and each game's
// mappings whose content changed; applying the same file again changes
// nothing. rollback makes an older revision of a definition version
// current again, recorded as a new revision; VERSION is LABEL@REVISION
// (e.g. v1@2), or LABEL alone for the revision before the current one.
// retire takes definition version LABEL of the event out of use (every
// definition of the event without LABEL): a new revision marked retired,
// whose events then fail DEFINITION_NOT_FOUND; rollback undoes it, and so
// does applying a file that has the definition without retired: true.
// apply, rollback and retire record --author (default $USER) and --reason
// with each revision they add. export prints the store's current model as
// a model file (the layout of conf/model.yaml); applying it changes
// nothing. dbt-sources prints a dbt
// sources.yml for the tables the redshift output loads (every destination
// of the model, with its columns, and the failures table, default
// failures.events), with freshness checks on loaded_at, from FILE or, with
// no FILE, from the store. replay loads the failures the store's current
// model accepts as rows and marks them (replay.go, internal/replay). serve
// runs the model studio (internal/studio) and user add makes its accounts
// (serve.go). --dsn may also come from WHIRLPOOL_MODEL_DSN.
// Exit status: 0 done, 1 rejected or failed, 2 usage.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/validate"
)

const usage = `usage:
  whirlpool-model check FILE
  whirlpool-model apply FILE --dsn DSN [--author NAME] [--reason TEXT]
  whirlpool-model rollback --dsn DSN GAME EVENT VERSION [--author NAME] [--reason TEXT]    (VERSION: LABEL or LABEL@REVISION)
  whirlpool-model retire --dsn DSN GAME EVENT [LABEL] [--author NAME] [--reason TEXT]    (no LABEL: every definition of EVENT)
  whirlpool-model export --dsn DSN    (the store's current model, as a model file)
  whirlpool-model dbt-sources [FILE] [--dsn DSN] [--failures-table SCHEMA.TABLE]    (FILE, else the store)
  whirlpool-model replay --dsn DSN --target TARGET_DSN [--dry-run] ...    (replay --help)
  whirlpool-model serve [--dsn DSN] [--listen 127.0.0.1:8080]    (the model studio; serve -h for more)
  whirlpool-model user add NAME --role viewer|editor|admin [--games g1,g2] [--password-stdin]
--dsn defaults to $WHIRLPOOL_MODEL_DSN, --author to $USER.
`

func main() {
	if code, ok := studioCommand(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); ok {
		os.Exit(code)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "replay" { // its own flags: replay.go
		return replayCmd(args[1:], stdout, stderr)
	}
	dsn := os.Getenv("WHIRLPOOL_MODEL_DSN")
	failures := "failures.events"
	who := validate.ApplyOptions{Author: os.Getenv("USER")}
	flags := map[string]*string{"dsn": &dsn, "failures-table": &failures, "author": &who.Author, "reason": &who.Reason}
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case strings.HasPrefix(a, "-") && flags[name] != nil:
			if !hasValue {
				if i+1 == len(args) {
					fmt.Fprintf(stderr, "--%s needs a value\n%s", name, usage)
					return 2
				}
				value = args[i+1]
				i++
			}
			*flags[name] = value
		case a == "-h" || a == "--help":
			fmt.Fprint(stdout, usage)
			return 0
		case strings.HasPrefix(a, "-") && len(a) > 1:
			fmt.Fprintf(stderr, "unknown flag %s\n%s", a, usage)
			return 2
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	switch cmd := pos[0]; {
	case cmd == "check" && len(pos) == 2:
		m, ok := check(pos[1], stdout, stderr)
		if !ok {
			return 1
		}
		fmt.Fprintf(stdout, "%s: OK (%d games)\n", pos[1], len(m.Games))
		return 0
	case cmd == "apply" && len(pos) == 2:
		if dsn == "" {
			fmt.Fprint(stderr, "apply needs --dsn\n"+usage)
			return 2
		}
		m, ok := check(pos[1], stdout, stderr)
		if !ok {
			return 1
		}
		st, code := open(ctx, dsn, stderr)
		if st == nil {
			return code
		}
		defer st.Close()
		changes, err := st.ApplyWith(ctx, m, who)
		if err != nil {
			fmt.Fprintf(stderr, "apply: %v\n", err)
			return 1
		}
		if len(changes) == 0 {
			fmt.Fprintf(stdout, "%s: no change\n", pos[1])
		}
		for _, c := range changes {
			fmt.Fprintln(stdout, c)
		}
		return 0
	case cmd == "dbt-sources" && len(pos) <= 2:
		var m *validate.Model
		if len(pos) == 2 {
			var ok bool
			if m, ok = check(pos[1], io.Discard, stderr); !ok {
				return 1
			}
		} else {
			if dsn == "" {
				fmt.Fprint(stderr, "dbt-sources needs FILE or --dsn\n"+usage)
				return 2
			}
			st, code := open(ctx, dsn, stderr)
			if st == nil {
				return code
			}
			defer st.Close()
			var err error
			if m, err = st.Load(ctx); err != nil {
				fmt.Fprintf(stderr, "dbt-sources: %v\n", err)
				return 1
			}
		}
		return dbtSourcesCmd(m, failures, stdout, stderr)
	case cmd == "retire" && (len(pos) == 3 || len(pos) == 4):
		if dsn == "" {
			fmt.Fprint(stderr, "retire needs --dsn\n"+usage)
			return 2
		}
		label := ""
		if len(pos) == 4 {
			label = pos[3]
		}
		st, code := open(ctx, dsn, stderr)
		if st == nil {
			return code
		}
		defer st.Close()
		changes, err := st.Retire(ctx, pos[1], pos[2], label, who)
		if err != nil {
			fmt.Fprintf(stderr, "retire: %v\n", err)
			return 1
		}
		if len(changes) == 0 {
			fmt.Fprintf(stdout, "%s/%s: already retired, no change\n", pos[1], pos[2])
		}
		for _, c := range changes {
			fmt.Fprintln(stdout, c)
		}
		return 0
	case cmd == "export" && len(pos) == 1:
		if dsn == "" {
			fmt.Fprint(stderr, "export needs --dsn\n"+usage)
			return 2
		}
		st, code := open(ctx, dsn, stderr)
		if st == nil {
			return code
		}
		defer st.Close()
		m, err := st.Load(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "export: %v\n", err)
			return 1
		}
		out, err := validate.FormatModel(m)
		if err != nil {
			fmt.Fprintf(stderr, "export: %v\n", err)
			return 1
		}
		fmt.Fprint(stdout, "# The model store's current model, exported by whirlpool-model export.\n")
		stdout.Write(out)
		return 0
	case cmd == "rollback" && len(pos) == 4:
		if dsn == "" {
			fmt.Fprint(stderr, "rollback needs --dsn\n"+usage)
			return 2
		}
		label, rev, err := validate.ParseVersionRef(pos[3])
		if err != nil {
			fmt.Fprintf(stderr, "rollback: %v\n", err)
			return 2
		}
		st, code := open(ctx, dsn, stderr)
		if st == nil {
			return code
		}
		defer st.Close()
		c, err := st.RollbackWith(ctx, pos[1], pos[2], label, rev, who)
		if err != nil {
			fmt.Fprintf(stderr, "rollback: %v\n", err)
			return 1
		}
		if c == nil {
			fmt.Fprintf(stdout, "%s/%s %s: already current, no change\n", pos[1], pos[2], pos[3])
			return 0
		}
		fmt.Fprintln(stdout, c)
		return 0
	}
	fmt.Fprint(stderr, usage)
	return 2
}

// check loads and checks a model file, printing problems and warnings.
func check(path string, stdout, stderr io.Writer) (*validate.Model, bool) {
	m, err := validate.LoadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, false
	}
	warnings, err := m.Check()
	if err != nil {
		if me, ok := err.(*validate.ModelError); ok {
			fmt.Fprintf(stderr, "%s: %d problems:\n", path, len(me.Problems))
			for _, p := range me.Problems {
				fmt.Fprintf(stderr, "  %s\n", p)
			}
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", path, err)
		}
		return nil, false
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	return m, true
}

func open(ctx context.Context, dsn string, stderr io.Writer) (*validate.Store, int) {
	st, err := validate.OpenStore(dsn)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, 2
	}
	if err := st.Init(ctx); err != nil {
		st.Close()
		fmt.Fprintln(stderr, err)
		return nil, 1
	}
	return st, 0
}
