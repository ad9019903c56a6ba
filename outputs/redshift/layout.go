package redshift

// This file holds the layout of the tables auto_create makes: NOT NULL on
// the keys, loaded_at filled by the database, Redshift's column encodings,
// distribution and sort keys, and the column comments saying timestamps
// are UTC. The types themselves are ddlType and inferType (meta.go).

import (
	"strings"
)

// notNull lists the columns auto_create declares NOT NULL: the dedupe key
// and the sort key. A failure row always has them (failureValues derives
// a uuid and falls back to failed_at for fired_ts).
func notNull(col string, failures bool) bool {
	switch col {
	case "uuid", "fired_ts", "expand_index":
		return true
	case "failed_at":
		return failures
	}
	return false
}

// loadedAtDefault is loaded_at's DEFAULT: the database's clock at the
// INSERT or COPY, not the loader host's. PostgreSQL's now() is a
// timestamptz; AT TIME ZONE 'UTC' keeps the column UTC whatever the
// session's TimeZone. Redshift's GETDATE() is UTC.
func (d Dialect) loadedAtDefault() string {
	if d == Redshift {
		return "GETDATE()"
	}
	return "(now() AT TIME ZONE 'UTC')"
}

// encoding is the Redshift column encoding auto_create states for a type
// ("" leaves Redshift's default: RAW for BOOLEAN and DOUBLE PRECISION,
// ZSTD for SUPER). Stating one encoding turns ENCODE AUTO off for the
// table, so every other column states its own: AZ64 for integers and
// timestamps, ZSTD for character columns (LZO would be the default).
func encoding(typ string) string {
	t := strings.ToUpper(strings.TrimSpace(typ))
	switch {
	case strings.HasPrefix(t, "VARCHAR"), strings.HasPrefix(t, "CHAR"), strings.HasPrefix(t, "CHARACTER"),
		strings.HasPrefix(t, "NVARCHAR"), strings.HasPrefix(t, "TEXT"), strings.HasPrefix(t, "BPCHAR"):
		return "ZSTD"
	case t == "SMALLINT", t == "INTEGER", t == "INT", t == "BIGINT", strings.HasPrefix(t, "DECIMAL"), strings.HasPrefix(t, "NUMERIC"),
		t == "DATE", t == "TIMESTAMP", t == "TIMESTAMPTZ":
		return "AZ64"
	}
	return ""
}

// columnDDL is one column of a CREATE TABLE (create) or of an ALTER TABLE
// ADD COLUMN. Added columns are nullable and without DEFAULT: the table
// has rows, and a table from before loaded_at's default keeps the output
// filling it.
func (d Dialect) columnDDL(col, typ string, failures, create bool) string {
	s := quoteIdent(col) + " " + typ
	if create && col == "loaded_at" {
		s += " DEFAULT " + d.loadedAtDefault()
	}
	if d == Redshift {
		enc := encoding(typ)
		if col == "fired_ts" && create {
			enc = "RAW" // the first sort key column: AWS advises it uncompressed
		}
		if enc != "" {
			s += " ENCODE " + enc
		}
	}
	if create && notNull(col, failures) {
		s += " NOT NULL"
	}
	return s
}

// createTableSQL is the CREATE TABLE of an event table or the failures
// table. On Redshift rows are distributed by uuid (an event's rows in
// every table, and its failure row, sit on one slice: joins on uuid need
// no redistribution) and sorted by fired_ts (time-range scans skip
// blocks). PostgreSQL gets its dedupe index instead (createTable).
func (d Dialect) createTableSQL(t tableName, cols, types []string, failures bool) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS " + t.quoted() + " (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.columnDDL(c, types[i], failures, true))
	}
	b.WriteString(")")
	if d == Redshift {
		b.WriteString(` DISTSTYLE KEY DISTKEY ("uuid") SORTKEY ("fired_ts")`)
	}
	return b.String()
}

// utcComments are the COMMENT ON COLUMN auto_create sets on a new table's
// timestamp columns: the TIMESTAMP type has no zone, the comment says
// which one it is.
var utcComments = map[string]string{
	"fired_ts":    "UTC: when the event reached the edge (the eventing input's receipt time)",
	"loaded_at":   "UTC: when the row was loaded (the database's clock)",
	"failed_at":   "UTC: when the redshift output received the failure",
	"replayed_at": "UTC: when replay loaded the failure's event as rows (NULL: not replayed)",
}

func (d Dialect) columnComments(t tableName, cols []string) []string {
	var out []string
	for _, c := range cols {
		if text, ok := utcComments[c]; ok {
			out = append(out, "COMMENT ON COLUMN "+t.quoted()+"."+quoteIdent(c)+" IS "+quoteLiteral(text, d))
		}
	}
	return out
}
