package main

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/studio/auth"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func TestUserAdd(t *testing.T) {
	dsn := testenv.Postgres(t)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	accounts := auth.New(db, time.Hour, time.Hour)
	ctx := context.Background()

	var out, errb bytes.Buffer
	code, _ := studioCommand([]string{"user", "add", "ana", "--role", "editor", "--games", "a, b", "--password-stdin", "--dsn", dsn},
		strings.NewReader("a long enough password\n"), &out, &errb)
	if code != 0 {
		t.Fatalf("user add: %d %s", code, errb.String())
	}
	if strings.Contains(out.String(), "password") {
		t.Errorf("a password from stdin was printed: %s", out.String())
	}
	_, s, err := accounts.Login(ctx, "ana", "a long enough password")
	if err != nil || s.User.Role != auth.Editor || !slices.Equal(s.User.Games, []string{"a", "b"}) {
		t.Fatalf("login as ana: %v %+v", err, s)
	}

	out.Reset()
	if code, _ := studioCommand([]string{"user", "add", "root", "--role", "admin", "--dsn", dsn}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("user add root: %d %s", code, errb.String())
	}
	m := regexp.MustCompile(`password \(shown once\): (\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no generated password in %q", out.String())
	}
	if _, _, err := accounts.Login(ctx, "root", m[1]); err != nil {
		t.Errorf("login with the generated password: %v", err)
	}

	bad := []struct {
		args []string
		want int
	}{
		{[]string{"user", "add", "x", "--role", "owner", "--dsn", dsn}, 2},
		{[]string{"user", "add", "x", "--role", "editor", "--dsn", dsn}, 1},                     // no games
		{[]string{"user", "add", "x", "--role", "viewer", "--games", "a", "--dsn", dsn}, 1},     // games on a viewer
		{[]string{"user", "add", "bad name", "--role", "viewer", "--dsn", dsn}, 1},              // name
		{[]string{"user", "add", "x", "--role", "viewer", "--password-stdin", "--dsn", dsn}, 1}, // short password
	}
	for _, tc := range bad {
		if code, _ := studioCommand(tc.args, strings.NewReader("short\n"), &out, &errb); code != tc.want {
			t.Errorf("%q: exit %d, want %d", tc.args, code, tc.want)
		}
	}
}

// serve listens on exactly the --listen address and serves the sign-in
// page there.
func TestServeListensWhereTold(t *testing.T) {
	dsn := testenv.Postgres(t)
	addr := "127.0.0.1:" + testenv.FreePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var errb testenv.SyncBuffer
	go func() { done <- serveCmd(ctx, []string{"--dsn", dsn, "--listen", addr}, &errb) }()
	var res *http.Response
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if res, err = http.Get("http://" + addr + "/login"); err == nil {
			break
		}
	}
	if err != nil {
		cancel()
		t.Fatalf("studio not reachable on %s: %v\n%s", addr, err, errb.String())
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /login: %d", res.StatusCode)
	}
	if !strings.Contains(errb.String(), "model studio on http://"+addr+"/") {
		t.Errorf("serve did not print its URL: %s", errb.String())
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d after its context ended: %s", code, errb.String())
	}
}

// serve refuses a target it could not use before it listens.
func TestServeRefusesBadTargetOptions(t *testing.T) {
	dsn := testenv.Postgres(t)
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"--target", "postgres://%zz"}, 2},
		{[]string{"--target", dsn, "--dialect", "mysql"}, 1},
		{[]string{"--target", dsn, "--failures-table", "no-schema"}, 1},
	}
	for _, tc := range cases {
		var errb testenv.SyncBuffer
		args := append([]string{"--dsn", dsn, "--listen", "127.0.0.1:" + testenv.FreePort(t)}, tc.args...)
		if code := serveCmd(context.Background(), args, &errb); code != tc.want {
			t.Errorf("%q: exit %d, want %d: %s", tc.args, code, tc.want, errb.String())
		}
	}
}
