package main

// The model studio's commands: serve (the web application) and user add
// (its accounts).

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lib/pq"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/dsn"
	"github.com/whirlpool-events/whirlpool/internal/studio"
	"github.com/whirlpool-events/whirlpool/internal/studio/auth"
)

const serveUsage = `usage:
  whirlpool-model serve [--dsn DSN] [--listen 127.0.0.1:8080] [--tls-cert FILE --tls-key FILE] [--secure-cookies]
      [--idle-timeout 30m] [--max-age 12h]
      [--target DSN [--dialect postgres|redshift] [--failures-table failures.events] [--auto-create]]
  whirlpool-model user add NAME --role viewer|editor|admin [--games g1,g2] [--password-stdin] [--dsn DSN]
--dsn defaults to $WHIRLPOOL_MODEL_DSN. --target is the pipeline's database (the event tables
and the failures table; default $WHIRLPOOL_DSN): the review's DDL, violations, drafts from
observed events and replay need it. --auto-create lets replay create tables and columns. user add reads the password from stdin
with --password-stdin, else generates one and prints it once.
`

// studioCommand runs serve and user; ok is false for other commands.
func studioCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) (code int, ok bool) {
	if len(args) == 0 {
		return 0, false
	}
	switch args[0] {
	case "serve":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return serveCmd(ctx, args[1:], stderr), true
	case "user":
		if len(args) < 2 || args[1] != "add" {
			fmt.Fprint(stderr, serveUsage)
			return 2, true
		}
		return userAddCmd(args[2:], stdin, stdout, stderr), true
	}
	return 0, false
}

func openStudioDB(conn string) (*validate.Store, *sql.DB, error) {
	st, err := validate.OpenStore(conn)
	if err != nil {
		return nil, nil, err
	}
	connector, err := pq.NewConnector(conn)
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("invalid DSN %s: %w", dsn.Redact(conn), dsn.RedactError(err, conn))
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(8)
	return st, db, nil
}

// serveCmd serves the studio until ctx ends.
func serveCmd(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, serveUsage) }
	conn := fs.String("dsn", os.Getenv("WHIRLPOOL_MODEL_DSN"), "model store DSN")
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	cert := fs.String("tls-cert", "", "TLS certificate file")
	key := fs.String("tls-key", "", "TLS key file")
	secure := fs.Bool("secure-cookies", false, "mark cookies Secure (behind a TLS proxy)")
	idle := fs.Duration("idle-timeout", 30*time.Minute, "end sessions idle this long")
	maxAge := fs.Duration("max-age", 12*time.Hour, "end sessions this long after sign-in")
	target := fs.String("target", os.Getenv("WHIRLPOOL_DSN"), "the pipeline's database DSN")
	dialect := fs.String("dialect", "postgres", "the target's dialect: postgres or redshift")
	failuresTable := fs.String("failures-table", "failures.events", "the failures table (schema.table)")
	autoCreate := fs.Bool("auto-create", false, "replay may create missing tables and columns")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return 2
	}
	if *conn == "" {
		fmt.Fprint(stderr, "serve needs --dsn\n"+serveUsage)
		return 2
	}
	if (*cert == "") != (*key == "") {
		fmt.Fprint(stderr, "--tls-cert and --tls-key go together\n")
		return 2
	}
	st, db, err := openStudioDB(*conn)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	defer st.Close()
	defer db.Close()
	cfg := studio.Config{Store: st, DB: db, SecureCookies: *secure || *cert != "", IdleTimeout: *idle, MaxAge: *maxAge,
		TargetDSN: *target, Dialect: *dialect, FailuresTable: *failuresTable, AutoCreate: *autoCreate}
	if *target != "" {
		connector, err := pq.NewConnector(*target)
		if err != nil {
			fmt.Fprintf(stderr, "--target: invalid DSN %s: %v\n", dsn.Redact(*target), dsn.RedactError(err, *target))
			return 2
		}
		cfg.Target = sql.OpenDB(connector)
		cfg.Target.SetMaxOpenConns(4)
		defer cfg.Target.Close()
	}
	logger := log.New(stderr, "", log.LstdFlags)
	cfg.Log = logger
	srv, err := studio.New(ctx, cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	scheme := "http"
	if *cert != "" {
		scheme = "https"
	}
	fmt.Fprintf(stderr, "model studio on %s://%s/\n", scheme, ln.Addr())
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10, ErrorLog: logger}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	if *cert != "" {
		err = hs.ServeTLS(ln, *cert, *key)
	} else {
		err = hs.Serve(ln)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func userAddCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, serveUsage) }
	conn := fs.String("dsn", os.Getenv("WHIRLPOOL_MODEL_DSN"), "model store DSN")
	role := fs.String("role", "", "viewer, editor or admin")
	games := fs.String("games", "", "games an editor may change, comma-separated")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of stdin")
	// NAME may come before the flags.
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 || name == "" {
		fmt.Fprint(stderr, serveUsage)
		return 2
	}
	r, err := auth.ParseRole(*role)
	if err != nil {
		fmt.Fprintf(stderr, "--role: %v\n", err)
		return 2
	}
	if *conn == "" {
		fmt.Fprint(stderr, "user add needs --dsn\n"+serveUsage)
		return 2
	}
	password, generated := "", false
	if *fromStdin {
		line, err := bufio.NewReader(io.LimitReader(stdin, 1024)).ReadString('\n')
		if err != nil && err != io.EOF {
			fmt.Fprintf(stderr, "reading the password: %v\n", err)
			return 1
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		password, generated = auth.GeneratePassword(), true
	}
	st, db, err := openStudioDB(*conn)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	defer st.Close()
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a := auth.New(db, 0, 0)
	if err := a.Init(ctx); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if err := a.AddUser(ctx, name, password, r, auth.SplitGames(*games)); err != nil {
		fmt.Fprintf(stderr, "user add: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "user %s: %s", name, r)
	if g := auth.SplitGames(*games); len(g) > 0 {
		fmt.Fprintf(stdout, " of %s", strings.Join(g, ", "))
	}
	fmt.Fprintln(stdout)
	if generated {
		fmt.Fprintf(stdout, "password (shown once): %s\n", password)
	}
	return 0
}
