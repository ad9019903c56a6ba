// Package dsn knows lib/pq's connection-string syntax (postgres:// URLs and
// key=value pairs) in one place, so that the values Whirlpool appends to a
// DSN and the redaction of DSNs in messages agree: a password can neither
// break out of its value (a tab turning off sslmode) nor out of the
// redaction (a quoted password half shown in a log).
package dsn

import (
	"bytes"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// Hidden replaces secret values in redacted DSNs and messages.
const Hidden = "(hidden)"

// Quote returns value as a key=value DSN value: as written when it is made
// of plain characters only (letters, digits, ._-:/@,+), else single-quoted,
// with \' and \\ as the escapes lib/pq (like libpq) reads, so that no
// whitespace (tab, no-break space...), quote or backslash in value ends it
// early and starts another key.
func Quote(value string) string {
	if value != "" && strings.IndexFunc(value, func(r rune) bool { return !plain(r) }) < 0 {
		return value
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(value) + "'"
}

func plain(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-:/@,+", r)
}

// Append adds key=value to dsn: quoted to a key=value DSN, as a query
// parameter to a postgres:// URL. A later key overrides an earlier one in
// lib/pq, so the appended value wins.
func Append(dsn, key, value string) string {
	if isURL(dsn) {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		return dsn + sep + url.QueryEscape(key) + "=" + url.QueryEscape(value)
	}
	if dsn != "" {
		dsn += " "
	}
	return dsn + key + "=" + Quote(value)
}

// Redact returns dsn with every secret value (user info password, any key
// or query parameter whose name contains "password") replaced by Hidden.
// It never fails: a URL that url.Parse refuses loses its whole user info,
// and a key=value DSN lib/pq could not parse loses everything from the
// point where parsing stops.
func Redact(dsn string) string {
	out, _ := redact(dsn)
	return out
}

// RedactError returns err with dsn and its secrets removed from its text.
// It is for errors of code that was given dsn (lib/pq, database/sql,
// url.Parse): a *url.Error is rewritten without the URL and without its
// quoted detail (`invalid URL escape "%zz"` names a piece of the password),
// then every occurrence of dsn and of each secret in it is replaced.
// The result says the same as err otherwise and wraps it, for errors.Is
// and errors.As; nil stays nil.
func RedactError(err error, dsn string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		safe := ue.Op + " " + strconv.Quote(Redact(ue.URL)) + ": " + unquoted(ue.Err)
		msg = strings.ReplaceAll(msg, ue.Error(), safe)
	}
	red, secrets := redact(dsn)
	if dsn != "" {
		msg = strings.ReplaceAll(msg, dsn, red)
	}
	for _, s := range secrets {
		// A secret shorter than 3 bytes would blank unrelated text; it
		// is no secret worth the name either.
		if len(s) >= 3 {
			msg = strings.ReplaceAll(msg, s, Hidden)
		}
	}
	return &redactedError{msg: msg, err: err}
}

// redactedError is an error shown by its redacted text.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// unquoted is err's text up to its first quote: url.Parse's errors quote
// the piece of the URL they refuse, which may be part of a password.
func unquoted(err error) string {
	if err == nil {
		return "invalid URL"
	}
	s := err.Error()
	if i := strings.IndexAny(s, "\"'`"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if s == "" {
		return "invalid URL"
	}
	return s
}

// isURL reports whether lib/pq reads dsn as a URL. lib/pq only does for
// these two prefixes; anything else with "://" is a key=value DSN to it,
// but is redacted as a URL (see Redact) to be safe.
func isURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// secretKey reports whether a key or query parameter holds a secret
// (password, sslpassword, or a misspelt case of either).
func secretKey(k string) bool { return strings.Contains(strings.ToLower(k), "password") }

// redact returns the redacted dsn and the secrets it hid, raw as written
// and decoded as lib/pq would use them.
func redact(dsn string) (string, []string) {
	if i := strings.Index(dsn, "://"); i >= 0 && !strings.ContainsAny(dsn[:i], "= \t\n'") {
		return redactURL(dsn)
	}
	return redactKV(dsn)
}

func redactURL(dsn string) (string, []string) {
	var secrets []string
	i := strings.Index(dsn, "://")
	scheme, rest := dsn[:i+3], dsn[i+3:]
	u, err := url.Parse(dsn)
	if err != nil {
		// The authority cannot be trusted to end where a valid URL's
		// would: everything before the last @ is user info.
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			secrets = append(secrets, rest[:at])
			if c := strings.Index(rest[:at], ":"); c >= 0 {
				secrets = append(secrets, rest[c+1:at])
			}
			rest = Hidden + rest[at:]
		}
		q := strings.IndexAny(rest, "?")
		if q < 0 {
			return scheme + rest, secrets
		}
		query, s := redactQuery(rest[q+1:])
		return scheme + rest[:q+1] + query, append(secrets, s...)
	}
	var b strings.Builder
	b.WriteString(scheme)
	if u.User != nil {
		b.WriteString(u.User.Username())
		if pw, ok := u.User.Password(); ok {
			b.WriteString(":" + Hidden)
			secrets = append(secrets, pw)
			if at := strings.LastIndex(rest, "@"); at >= 0 {
				if c := strings.Index(rest[:at], ":"); c >= 0 {
					secrets = append(secrets, rest[c+1:at])
				}
			}
		}
		b.WriteString("@")
	}
	b.WriteString(u.Host)
	b.WriteString(u.EscapedPath())
	if u.RawQuery != "" || u.ForceQuery {
		query, s := redactQuery(u.RawQuery)
		b.WriteString("?" + query)
		secrets = append(secrets, s...)
	}
	if u.Fragment != "" {
		// lib/pq ignores it; an unescaped # in a password puts the
		// password's tail here.
		b.WriteString("#" + Hidden)
		secrets = append(secrets, u.Fragment)
	}
	return b.String(), secrets
}

// redactQuery hides the values of secret parameters in a raw query,
// keeping the rest as written. Keys are compared decoded, as lib/pq
// decodes them (pass%77ord is password).
func redactQuery(raw string) (string, []string) {
	var secrets []string
	parts := strings.Split(raw, "&")
	for i, p := range parts {
		k, v, _ := strings.Cut(p, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if secretKey(k) {
			parts[i] = p[:len(p)-len(v)] + Hidden
			secrets = append(secrets, v)
			if dv, err := url.QueryUnescape(v); err == nil {
				secrets = append(secrets, dv)
			}
		}
	}
	return strings.Join(parts, "&"), secrets
}

// redactKV scans a key=value DSN exactly as lib/pq does (conninfo_parse of
// libpq): whitespace separates pairs and may surround =, a value is either
// single-quoted with backslash escapes or runs to the next whitespace with
// backslash escapes. Text is kept as written but for secret values; from
// a point lib/pq would reject, the rest is hidden.
func redactKV(dsn string) (string, []string) {
	var (
		b       bytes.Buffer
		secrets []string
		s       = []rune(dsn)
		i       int
	)
	space := func() {
		for i < len(s) && unicode.IsSpace(s[i]) {
			b.WriteRune(s[i])
			i++
		}
	}
	// fail hides the pair lib/pq stops at and all after it; its words
	// too, which lib/pq's error quotes (missing "=" after "word").
	var pair, pairLen int
	fail := func() (string, []string) {
		secrets = append(secrets, string(s[pair:]))
		secrets = append(secrets, strings.FieldsFunc(string(s[pair:]), func(r rune) bool { return unicode.IsSpace(r) || r == '=' || r == '\'' })...)
		b.Truncate(pairLen)
		b.WriteString(Hidden)
		return b.String(), secrets
	}
	for {
		space()
		if i >= len(s) {
			return b.String(), secrets
		}
		start := i
		pair, pairLen = i, b.Len()
		for i < len(s) && !unicode.IsSpace(s[i]) && s[i] != '=' {
			i++
		}
		key := string(s[start:i])
		b.WriteString(key)
		space()
		if i >= len(s) || s[i] != '=' {
			return fail()
		}
		b.WriteRune('=')
		i++
		space()
		if i >= len(s) {
			return b.String(), secrets
		}
		vstart := i
		var val []rune
		if s[i] == '\'' {
			i++
			for {
				if i >= len(s) {
					return fail()
				}
				r := s[i]
				i++
				if r == '\'' {
					break
				}
				if r == '\\' && i < len(s) {
					r = s[i]
					i++
				}
				val = append(val, r)
			}
		} else {
			for i < len(s) && !unicode.IsSpace(s[i]) {
				if s[i] == '\\' {
					i++
					if i >= len(s) {
						return fail()
					}
				}
				val = append(val, s[i])
				i++
			}
		}
		raw := string(s[vstart:i])
		if secretKey(key) {
			b.WriteString(Hidden)
			secrets = append(secrets, raw, string(val))
		} else {
			b.WriteString(raw)
		}
	}
}
