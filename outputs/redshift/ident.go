package redshift

import (
	"fmt"
	"strings"
)

// MaxIdentifier is Redshift's limit on an identifier, in bytes.
const MaxIdentifier = 127

// validIdent reports whether s is an identifier the output accepts:
// ^[A-Za-z_][A-Za-z0-9_$]{0,126}$. Anything else (quotes, spaces, dots,
// non-ASCII) never reaches SQL.
func validIdent(s []byte) bool {
	if len(s) == 0 || len(s) > MaxIdentifier {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '$'):
		default:
			return false
		}
	}
	return true
}

// foldIdent lower-cases an identifier as Redshift does (it folds even
// quoted identifiers unless enable_case_sensitive_identifier is on); the
// output folds on PostgreSQL too so both dialects name the same objects.
func foldIdent(s []byte) string {
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			return strings.ToLower(string(s))
		}
	}
	return string(s)
}

func hasUpper(s []byte) bool {
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			return true
		}
	}
	return false
}

// quoteIdent quotes a validated identifier. Validation already excludes
// '"', so doubling is belt and braces.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// tableName is a validated, folded schema.table.
type tableName struct{ schema, table string }

func (t tableName) String() string { return t.schema + "." + t.table }

// quoted is "schema"."table".
func (t tableName) quoted() string { return quoteIdent(t.schema) + "." + quoteIdent(t.table) }

// parseTableName validates "schema.table".
func parseTableName(s string) (tableName, error) {
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return tableName{}, fmt.Errorf("%q is not schema.table", s)
	}
	schema, table := s[:i], s[i+1:]
	if !validIdent([]byte(schema)) {
		return tableName{}, fmt.Errorf("schema %q of %q is not a valid identifier (want [A-Za-z_][A-Za-z0-9_$]*, at most %d bytes)", schema, s, MaxIdentifier)
	}
	if !validIdent([]byte(table)) {
		return tableName{}, fmt.Errorf("table %q of %q is not a valid identifier (want [A-Za-z_][A-Za-z0-9_$]*, at most %d bytes)", table, s, MaxIdentifier)
	}
	return tableName{foldIdent([]byte(schema)), foldIdent([]byte(table))}, nil
}

// quoteLiteral quotes a string literal for the dialect: PostgreSQL gets an
// escape string E'...' (independent of standard_conforming_strings),
// Redshift a plain literal, which treats backslash as an escape (its
// QUOTE_LITERAL doubles backslashes too). Both double quotes and backslashes.
func appendLiteral(dst []byte, s []byte, d Dialect) []byte {
	if d == Postgres {
		dst = append(dst, 'E')
	}
	dst = append(dst, '\'')
	dst = appendLiteralText(dst, s)
	return append(dst, '\'')
}

// appendLiteralText appends s as the text between the quotes of a string
// literal (E'...' for PostgreSQL): quotes and backslashes doubled.
func appendLiteralText(dst []byte, s []byte) []byte {
	start := 0
	for i, c := range s {
		if c == '\'' || c == '\\' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, c, c)
			start = i + 1
		}
	}
	return append(dst, s[start:]...)
}

func quoteLiteral(s string, d Dialect) string {
	return string(appendLiteral(nil, []byte(s), d))
}

// QuoteTable checks a "schema.table" name as the output does (identifiers,
// folded to lower case) and returns it quoted, for SQL that reads the
// output's tables (internal/failures, internal/replay).
func QuoteTable(s string) (string, error) {
	t, err := parseTableName(s)
	if err != nil {
		return "", err
	}
	return t.quoted(), nil
}
