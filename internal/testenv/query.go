package testenv

import (
	"database/sql"
	"testing"
)

// QueryNullable runs q and returns every row's columns as text, with SQL
// NULL kept apart from the empty string; the test fails on any error.
func QueryNullable(t testing.TB, db *sql.DB, q string, args ...any) [][]sql.NullString {
	t.Helper()
	rs, err := db.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rs.Close()
	cols, err := rs.Columns()
	if err != nil {
		t.Fatalf("%s: columns: %v", q, err)
	}
	var out [][]sql.NullString
	for rs.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out = append(out, vals)
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// QueryRows is QueryNullable with each value as text and SQL NULL as
// "NULL", the form tests compare expected rows in.
func QueryRows(t testing.TB, db *sql.DB, q string, args ...any) [][]string {
	t.Helper()
	var out [][]string
	for _, vals := range QueryNullable(t, db, q, args...) {
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = v.String
			if !v.Valid {
				row[i] = "NULL"
			}
		}
		out = append(out, row)
	}
	return out
}
