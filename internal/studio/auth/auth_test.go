package auth

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func TestCanEdit(t *testing.T) {
	cases := []struct {
		user User
		game string
		want bool
	}{
		{User{Role: Viewer}, "a", false},
		{User{Role: Editor, Games: []string{"a"}}, "a", true},
		{User{Role: Editor, Games: []string{"a"}}, "b", false},
		{User{Role: Editor, Games: []string{"a"}}, "", false},
		{User{Role: Admin}, "b", true},
	}
	for _, tc := range cases {
		if got := tc.user.CanEdit(tc.game); got != tc.want {
			t.Errorf("%+v CanEdit(%q) = %v", tc.user, tc.game, got)
		}
	}
}

func TestAccounts(t *testing.T) {
	db, err := sql.Open("postgres", testenv.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	a := New(db, time.Hour, time.Hour)
	if err := a.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Init(ctx); err != nil {
		t.Fatalf("Init twice: %v", err)
	}
	if err := a.AddUser(ctx, "ana", "first password!", Editor, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	var stored string
	db.QueryRow(`SELECT password_hash FROM whirlpool_studio.users WHERE name = 'ana'`).Scan(&stored)
	if stored == "" || stored == "first password!" {
		t.Fatalf("stored password %q is not a hash", stored)
	}
	if _, _, err := a.Login(ctx, "ana", "wrong password!"); !errors.Is(err, ErrBadLogin) {
		t.Errorf("wrong password: %v", err)
	}
	if _, _, err := a.Login(ctx, "nobody", "first password!"); !errors.Is(err, ErrBadLogin) {
		t.Errorf("unknown user: %v", err)
	}
	token, s, err := a.Login(ctx, "ana", "first password!")
	if err != nil || s.CSRF == "" || token == s.CSRF {
		t.Fatalf("login: %v %+v", err, s)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM whirlpool_studio.sessions WHERE token_sha256 = $1`, []byte(token)).Scan(&n)
	if n != 0 {
		t.Error("the session token is stored in clear")
	}
	if got, _ := a.Session(ctx, token); got == nil || got.User.Name != "ana" {
		t.Fatalf("session: %+v", got)
	}
	if !s.ValidCSRF(s.CSRF) || s.ValidCSRF("") || s.ValidCSRF(s.CSRF+"x") {
		t.Error("ValidCSRF")
	}
	// A new password ends the open sessions.
	if err := a.AddUser(ctx, "ana", "second password", Editor, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Session(ctx, token); got != nil {
		t.Error("a session survived a password change")
	}
	if _, _, err := a.Login(ctx, "ana", "first password!"); !errors.Is(err, ErrBadLogin) {
		t.Error("the old password still works")
	}
	token, _, _ = a.Login(ctx, "ana", "second password")
	if err := a.Logout(ctx, token); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.Session(ctx, token); got != nil {
		t.Error("a session survived logout")
	}
	if got, err := a.Session(ctx, "made-up"); got != nil || err != nil {
		t.Errorf("unknown token: %+v %v", got, err)
	}
}
