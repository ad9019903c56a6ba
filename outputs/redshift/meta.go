package redshift

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// TableSchemas gives the SQL types of the columns auto_create adds (a later
// step passes the data model's types through it). Without it, or when it
// reports ok false, types are inferred from the msgpack value.
type TableSchemas interface {
	// ColumnType returns the SQL type of column of table ("schema.table",
	// lower-case) in dialect d, e.g. "VARCHAR(64)" or "TIMESTAMP".
	ColumnType(table, column string, d Dialect) (sqlType string, ok bool)
}

var sqlTypeRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_ ]{0,63}(\(\s*\d{1,5}\s*(,\s*\d{1,5}\s*)?\))?$`)

// colMeta is one column of a table as the database describes it.
type colMeta struct {
	name  string
	typ   string // information_schema data_type, lower-case
	super bool   // SUPER: string values holding JSON are loaded as JSON
	// maxLen is the declared length of a character column (0: none);
	// failure rows are cut to it, event rows never are.
	maxLen int
	// hasDefault: the column has a DEFAULT (loaded_at of the current
	// layout), so the output leaves it out of its column lists and the
	// database fills it.
	hasDefault bool
}

// filledByDatabase reports a column the output leaves out of its column
// lists: loaded_at when the table gives it a DEFAULT (the current layout),
// so the database's clock fills it. Older tables get the batch's time.
func (c *colMeta) filledByDatabase() bool { return c.name == "loaded_at" && c.hasDefault }

// tableMeta is a cached description of one table.
type tableMeta struct {
	exists bool
	// owned: auto_create made the table (it carries ownedComment), so
	// auto_create may add columns to it; it never alters other tables.
	owned bool
	cols  map[string]*colMeta
}

// ownedComment marks the tables auto_create made (COMMENT ON TABLE, which
// Redshift and PostgreSQL both keep in pg_description). An operator may set
// it on a table of their own to let auto_create add columns to it.
const ownedComment = "whirlpool auto_create"

func (m *tableMeta) has(col string) bool { _, ok := m.cols[col]; return ok }

// hasKey reports whether the table has the column named by a record key
// (folded), without allocating for lower-case keys.
func (m *tableMeta) hasKey(k []byte) bool {
	if !hasUpper(k) {
		_, ok := m.cols[string(k)]
		return ok
	}
	return m.has(foldIdent(k))
}

// Metadata columns of every event table, in order.
var metaCols = []string{"uuid", "fired_ts", "game", "version", "event", "definition_version", "expand_index", "loaded_at"}

// Columns of the failures table, in order. raw_event_bytes,
// raw_event_sha256, raw_event_truncated, raw_event_s3_uri and replayed_at
// came later: last, so that a table auto_create made and one it extended
// (ADD COLUMN appends) have the same layout. replayed_at is set by replay
// (internal/replay) when the failure's event was loaded after a fix; the
// output never writes it.
var failureCols = []string{"uuid", "expand_index", "fired_ts", "game", "version", "event", "definition_version",
	"raw_event", "errors", "error_codes", "failed_at", "loaded_at", "raw_event_bytes", "raw_event_sha256",
	"raw_event_truncated", "raw_event_s3_uri", "replayed_at"}

// Positions in failureCols (and rec.fvals).
const (
	fUUID = iota
	fExpandIndex
	fFiredTS
	fGame
	fVersion
	fEvent
	fDefVersion
	fRawEvent
	fErrors
	fErrorCodes
	fFailedAt
	fLoadedAt
	fRawBytes
	fRawSHA256
	fRawTruncated
	fRawS3URI
	fReplayedAt
)

// MetaColumns lists the metadata columns of every event table and
// FailureColumns the failures table's, in order: for documentation made
// from the code (whirlpool-model dbt-sources checks its list against them).
func MetaColumns() []string    { return slices.Clone(metaCols) }
func FailureColumns() []string { return slices.Clone(failureCols) }

func isMetaCol(s string) bool {
	switch s {
	case "uuid", "fired_ts", "game", "version", "event", "definition_version", "expand_index", "loaded_at":
		return true
	}
	return false
}

// isMetaKey is isMetaCol for a record key (folded).
func isMetaKey(k []byte) bool {
	if hasUpper(k) {
		return isMetaCol(foldIdent(k))
	}
	return isMetaCol(string(k))
}

// ddlType is the type auto_create gives a metadata or failures column.
func (d Dialect) ddlType(col string) string {
	switch col {
	case "fired_ts", "loaded_at", "failed_at", "replayed_at":
		return "TIMESTAMP"
	case "expand_index":
		return "INTEGER"
	case "raw_event_bytes":
		return "BIGINT"
	case "raw_event_truncated":
		return "BOOLEAN"
	case "raw_event", "errors":
		if d == Redshift {
			return "SUPER"
		}
		return "TEXT"
	}
	if col == "uuid" {
		// A UUID's text is 36 characters. Redshift gets CHAR(36) (fixed
		// width, single-byte characters only); PostgreSQL VARCHAR(36), as
		// its char(n) pads values and is no faster there.
		if d == Redshift {
			return "CHAR(36)"
		}
		return "VARCHAR(36)"
	}
	if d == Redshift {
		switch col {
		case "raw_event_sha256":
			return "VARCHAR(64)"
		case "game", "version", "event", "definition_version":
			return "VARCHAR(128)"
		case "error_codes", "raw_event_s3_uri":
			return "VARCHAR(1024)"
		}
		return "VARCHAR(65535)"
	}
	return "TEXT"
}

// inferType is the type auto_create gives a data column from its value;
// "" for nil (no column is created from a nil value alone).
func (d Dialect) inferType(k record.Kind) string {
	switch k {
	case record.KindStr, record.KindBin:
		if d == Redshift {
			// The data model's default max_length: a longer value is a
			// LOAD_REJECTED failure row naming the column.
			return fmt.Sprintf("VARCHAR(%d)", validate.DefaultStringMaxLength)
		}
		return "TEXT"
	case record.KindInt, record.KindUint:
		return "BIGINT"
	case record.KindFloat:
		return "DOUBLE PRECISION"
	case record.KindBool:
		return "BOOLEAN"
	case record.KindArray, record.KindMap:
		if d == Redshift {
			return "SUPER"
		}
		return "TEXT"
	}
	return ""
}

// metaCache caches table descriptions; only the loader goroutine uses it.
type metaCache map[string]*tableMeta

// describe returns the table's description, querying information_schema
// when it is not cached or refresh is set.
func (o *Output) describe(ctx context.Context, s Session, t tableName, refresh bool) (*tableMeta, error) {
	key := t.String()
	if m, ok := o.meta[key]; ok && !refresh && m.exists {
		return m, nil
	}
	q := "SELECT column_name, data_type, character_maximum_length, column_default FROM information_schema.columns WHERE table_schema = " +
		quoteLiteral(t.schema, o.cfg.dialect) + " AND table_name = " + quoteLiteral(t.table, o.cfg.dialect) +
		" ORDER BY ordinal_position"
	rows, err := s.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("reading the columns of %s: %w", t, err)
	}
	m := &tableMeta{exists: len(rows) > 0, cols: map[string]*colMeta{}}
	for _, r := range rows {
		if len(r) < 2 {
			continue
		}
		typ := strings.ToLower(r[1])
		c := &colMeta{name: r[0], typ: typ, super: typ == "super"}
		if len(r) > 2 {
			c.maxLen, _ = strconv.Atoi(r[2])
		}
		c.hasDefault = len(r) > 3 && r[3] != ""
		m.cols[r[0]] = c
	}
	if m.exists && o.cfg.autoCreate {
		// Only auto_create needs to know, to alter only its own tables.
		q := "SELECT d.description FROM pg_catalog.pg_description d JOIN pg_catalog.pg_class c ON c.oid = d.objoid" +
			" JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE d.objsubid = 0 AND n.nspname = " +
			quoteLiteral(t.schema, o.cfg.dialect) + " AND c.relname = " + quoteLiteral(t.table, o.cfg.dialect)
		rows, err := s.Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("reading the comment of %s: %w", t, err)
		}
		m.owned = len(rows) > 0 && len(rows[0]) > 0 && rows[0][0] == ownedComment
	}
	o.meta[key] = m
	return m, nil
}

// createTableStatements lists the statements that make table t, in order: CREATE
// SCHEMA / CREATE TABLE IF NOT EXISTS, the COMMENT that marks the table as
// auto_create's (ownedComment), the UTC comments of its timestamp columns
// and, on PostgreSQL, the dedupe index. createTable runs them; PlanDDL
// lists them.
func (d Dialect) createTableStatements(t tableName, cols []string, types []string, failures bool) []string {
	stmts := []string{"CREATE SCHEMA IF NOT EXISTS " + quoteIdent(t.schema), d.createTableSQL(t, cols, types, failures),
		"COMMENT ON TABLE " + t.quoted() + " IS " + quoteLiteral(ownedComment, d)}
	stmts = append(stmts, d.columnComments(t, cols)...)
	if d == Postgres {
		// dedupe joins on (uuid, expand_index); Redshift has no indexes
		// (its sort key serves), PostgreSQL needs one to stay fast.
		name := t.table + "_whirlpool_key"
		if len(name) > 63 {
			name = name[:63]
		}
		keys := `"uuid", "expand_index"`
		if failures {
			keys = `"uuid"`
		}
		stmts = append(stmts, "CREATE INDEX IF NOT EXISTS "+quoteIdent(name)+" ON "+t.quoted()+" ("+keys+")")
	}
	return stmts
}

// addColumnSQL is the ALTER TABLE ADD COLUMN of col: nullable, without
// DEFAULT.
func (d Dialect) addColumnSQL(t tableName, col, typ string) string {
	return "ALTER TABLE " + t.quoted() + " ADD COLUMN " + d.columnDDL(col, typ, false, false)
}

// createTable runs createTableStatements outside the load transaction and
// caches what it created. It is only called for tables the data model
// names (every destination of a valid record was checked against it) and
// for the failures table.
func (o *Output) createTable(ctx context.Context, s Session, t tableName, cols []string, types []string, failures bool) (*tableMeta, error) {
	for _, q := range o.cfg.dialect.createTableStatements(t, cols, types, failures) {
		if _, err := s.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("creating table %s (%s): %w", t, q, err)
		}
	}
	o.logf("created table %s", t)
	m, err := o.describe(ctx, s, t, true)
	if err != nil {
		return nil, err
	}
	if !m.exists { // a recorder does not run DDL: trust what was sent
		m.exists = true
		for i, c := range cols {
			m.cols[c] = ddlColumn(c, types[i])
			m.cols[c].hasDefault = c == "loaded_at"
		}
	}
	m.owned = true
	return m, nil
}

// addColumn runs ALTER TABLE ADD COLUMN outside the load transaction, on a
// table auto_create made (the callers check tableMeta.owned); a column
// another loader added meanwhile is not an error.
func (o *Output) addColumn(ctx context.Context, s Session, t tableName, m *tableMeta, col, typ string) error {
	_, err := s.Exec(ctx, o.cfg.dialect.addColumnSQL(t, col, typ))
	if err != nil && sqlState(err) != "42701" { // duplicate_column
		return fmt.Errorf("adding column %s to %s: %w", col, t, err)
	}
	if err == nil {
		o.logf("added column %s %s to %s", col, typ, t)
	}
	m.cols[col] = ddlColumn(col, typ)
	return nil
}

var varcharRe = regexp.MustCompile(`^(?i)(var)?char\((\d+)\)$`)

// ddlColumn describes a column from the type in its DDL.
func ddlColumn(name, typ string) *colMeta {
	lt := strings.ToLower(typ)
	c := &colMeta{name: name, typ: lt, super: lt == "super"}
	if m := varcharRe.FindStringSubmatch(typ); m != nil {
		c.maxLen, _ = strconv.Atoi(m[2])
		c.typ = "character varying"
		if m[1] == "" {
			c.typ = "character"
		}
	}
	return c
}
