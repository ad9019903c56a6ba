package dsn

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/lib/pq"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		dsn, want string
		secret    string // must not survive, "" for none
	}{
		// key=value
		{"host=h user=u password=hunter2 dbname=d", "host=h user=u password=(hidden) dbname=d", "hunter2"},
		{"host=h password='hun ter2' dbname=d", "host=h password=(hidden) dbname=d", "hun ter2"},
		{`password='it\'s a \\ secret' sslmode=require`, "password=(hidden) sslmode=require", "secret"},
		{`password = 'spaced'  host=h`, "password = (hidden)  host=h", "spaced"},
		{"password=hun\\ ter2 host=h", "password=(hidden) host=h", "ter2"},
		{"PASSWORD=hunter2 sslpassword=keypass1", "PASSWORD=(hidden) sslpassword=(hidden)", "keypass1"},
		{"host=h password='unterminated secret", "host=h (hidden)", "secret"},
		{"host=h password=trailing\\", "host=h (hidden)", "trailing"},
		{"host=h password=a\tb sslmode=disable", "host=h password=(hidden)\t(hidden)", "sslmode"},
		{"host=h pass word=secret", "host=h (hidden)", "secret"},
		{"host=h password=", "host=h password=", ""},
		{"host=h user='o''brien'", "host=h user='o'(hidden)", ""},
		// URLs
		{"postgres://u:hunter2@h:5439/d?sslmode=require", "postgres://u:(hidden)@h:5439/d?sslmode=require", "hunter2"},
		{"postgresql://u:p%40ss%3Aw0rd@h/d", "postgresql://u:(hidden)@h/d", "w0rd"},
		{"postgres://u@h/d?password=hunter2&sslmode=a", "postgres://u@h/d?password=(hidden)&sslmode=a", "hunter2"},
		{"postgres://u@h/d?pass%77ord=hunter2", "postgres://u@h/d?pass%77ord=(hidden)", "hunter2"},
		{"postgres://u@h/d?sslmode=a&PassWord=hunter2", "postgres://u@h/d?sslmode=a&PassWord=(hidden)", "hunter2"},
		{"postgres://u:pa@ss@h/d", "postgres://u:(hidden)@h/d", "pa@ss"},
		{"postgres://u@h/d?password=se#cret", "postgres://u@h/d?password=(hidden)#(hidden)", "cret"},
		{"postgres://h/d", "postgres://h/d", ""},
		// URLs url.Parse refuses
		{"postgres://postgres:Sup3rS3cret%zz@127.0.0.1:5432/db?sslmode=disable", "postgres://(hidden)@127.0.0.1:5432/db?sslmode=disable", "S3cret"},
		{"postgres://u:pa/ss#word@h/d", "postgres://(hidden)@h/d", "ss#word"},
		{"postgres://u:a b@h/d", "postgres://(hidden)@h/d", "a b"},
		{"postgres://u@h:bad/d?password=x%zzsecret", "postgres://(hidden)@h:bad/d?password=(hidden)", "secret"},
		{"postgres://u:pw\x01secret@h/d", "postgres://(hidden)@h/d", "secret"},
	} {
		got := Redact(tc.dsn)
		if got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
		if tc.secret != "" && strings.Contains(got, tc.secret) {
			t.Errorf("Redact(%q) = %q shows %q", tc.dsn, got, tc.secret)
		}
	}
}

func TestRedactError(t *testing.T) {
	bad := fmt.Sprintf("postgres://postgres:Sup3rS3cret%s@127.0.0.1:5432/db", "%zz") // not a constant: invalid on purpose
	_, parseErr := url.Parse(bad)
	_, pqErr := pq.NewConnector(bad)
	for _, tc := range []struct {
		name string
		err  error
		dsn  string
		want string
	}{
		{"url.Parse", parseErr, bad, `parse "postgres://(hidden)@127.0.0.1:5432/db": invalid URL escape`},
		{"lib/pq", pqErr, bad, `invalid URL escape`},
		{"wrapped", fmt.Errorf("model store: %w", parseErr), bad, `model store: parse "postgres://(hidden)@127.0.0.1:5432/db"`},
		{"dsn in text", errors.New("cannot use host=h password='x y z1' now"), "host=h password='x y z1'", "cannot use host=h password=(hidden) now"},
		{"password in text", errors.New(`pq: password "hunter2" rejected`), "host=h password=hunter2", `pq: password "(hidden)" rejected`},
		{"lib/pq scanner", errors.New(`missing "=" after "ss:word" in connection info string`), "host=h password=p\tss:word x", `missing "=" after "(hidden)"`},
		{"decoded password", errors.New("saw p@ss:word"), "postgres://u:p%40ss%3Aword@h/d", "saw (hidden)"},
	} {
		got := RedactError(tc.err, tc.dsn)
		if !strings.Contains(got.Error(), tc.want) {
			t.Errorf("%s: RedactError(%q) = %q, want it to contain %q", tc.name, tc.err, got, tc.want)
		}
		for _, leak := range []string{"S3cret", "%zz", "hunter2", "x y z1", "ss:word"} {
			if strings.Contains(got.Error(), leak) {
				t.Errorf("%s: RedactError(%q) = %q shows %q", tc.name, tc.err, got, leak)
			}
		}
	}
	if !errors.Is(RedactError(parseErr, bad), parseErr) {
		t.Error("RedactError does not wrap the error")
	}
	if RedactError(nil, bad) != nil {
		t.Error("RedactError(nil) is not nil")
	}
}

// Appended values reach lib/pq intact, whatever they hold: a password
// cannot end its own value and set another key, such as sslmode.
func TestAppendQuotesForLibPQ(t *testing.T) {
	for _, pw := range []string{
		"plain",
		"tab\tsslmode=disable",
		"space sslmode=disable",
		`quote' sslmode=disable`,
		`back\' sslmode=disable`,
		`trailing\`,
		"newline\nsslmode=disable",
		"nbsp\u00a0sslmode=disable",
		"'",
		"",
	} {
		for _, base := range []string{"host=h user=u dbname=d", "postgres://u@h/d", "postgres://u@h/d?connect_timeout=3"} {
			dsn := Append(Append(base, "sslmode", "verify-full"), "password", pw)
			cfg, err := pq.NewConfig(dsn)
			if err != nil {
				t.Errorf("%q: %v", dsn, err)
				continue
			}
			if cfg.Password != pw || cfg.SSLMode != pq.SSLModeVerifyFull {
				t.Errorf("%q: lib/pq reads password %q sslmode %q, want %q and verify-full", dsn, cfg.Password, cfg.SSLMode, pw)
			}
			if red := Redact(dsn); len(pw) > 3 && strings.Contains(red, pw) || strings.Contains(red, "disable") {
				t.Errorf("Redact(%q) = %q", dsn, red)
			}
		}
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"require":             "require",
		"db.example.com:5439": "db.example.com:5439",
		"":                    "''",
		"a b":                 "'a b'",
		"a\tb":                "'a\tb'",
		`it's`:                `'it\'s'`,
		`back\slash`:          `'back\\slash'`,
		"caf\u00e9":           "'caf\u00e9'",
		"x=y":                 "'x=y'",
	} {
		if got := Quote(in); got != want {
			t.Errorf("Quote(%q) = %q, want %q", in, got, want)
		}
	}
}
