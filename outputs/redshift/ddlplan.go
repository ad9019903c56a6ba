package redshift

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"

	"github.com/whirlpool-events/whirlpool/filters/validate"
)

// ParseDialect reads a dialect property value: "postgres" or "redshift".
func ParseDialect(s string) (Dialect, error) {
	switch s {
	case "postgres":
		return Postgres, nil
	case "redshift":
		return Redshift, nil
	}
	return 0, fmt.Errorf("dialect %q: want postgres or redshift", s)
}

// PlanDDL lists the statements auto_create would run now in db for model
// m: for every destination table of m, the CREATE TABLE (and its schema,
// comments and index) of a missing one with every column of m that it
// loads, or the ALTER TABLE ADD COLUMN of each column a table auto_create
// made lacks; and the same for the failures table. Tables auto_create did
// not make are never altered, so they get no statement. The statements are
// built by the functions the output runs; an empty list means a load
// changes no table. The model studio shows it before publishing.
func PlanDDL(ctx context.Context, db *sql.DB, dialect string, m *validate.Model, failuresTable string) ([]string, error) {
	d, err := ParseDialect(dialect)
	if err != nil {
		return nil, err
	}
	failures, err := parseTableName(failuresTable)
	if err != nil {
		return nil, fmt.Errorf("failures table: %w", err)
	}
	v, err := validate.NewWithModel(m, validate.Options{})
	if err != nil {
		return nil, err
	}
	defer v.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	s := &dbSession{conn: conn}
	defer s.Close()
	o := &Output{cfg: &config{dialect: d, autoCreate: true}, meta: metaCache{}, schemas: modelSchemas{v}}

	var stmts []string
	tables, err := modelTables(m)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		var types []string
		for _, c := range t.cols {
			types = append(types, o.columnType(t.name, c, nil))
		}
		add, err := o.planTableDDL(ctx, s, t.name, append(slices.Clone(metaCols), t.cols...), append(metaTypes(d, metaCols), types...), false)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, add...)
	}
	add, err := o.planTableDDL(ctx, s, failures, failureCols, metaTypes(d, failureCols), true)
	if err != nil {
		return nil, err
	}
	return append(stmts, add...), nil
}

// planTableDDL is the DDL auto_create runs for table t to hold cols.
func (o *Output) planTableDDL(ctx context.Context, s Session, t tableName, cols, types []string, failures bool) ([]string, error) {
	m, err := o.describe(ctx, s, t, true)
	if err != nil {
		return nil, err
	}
	d := o.cfg.dialect
	if !m.exists {
		return d.createTableStatements(t, cols, types, failures), nil
	}
	if !m.owned {
		return nil, nil
	}
	var out []string
	for i, c := range cols {
		if !m.has(c) {
			out = append(out, d.addColumnSQL(t, c, types[i]))
		}
	}
	return out, nil
}

// modelTable is a destination table of a model with its data columns, in
// the order of the model's fields.
type modelTable struct {
	name tableName
	cols []string
}

// modelTables lists m's destination tables, sorted, with the columns the
// validator loads into them (every field but an expand field).
func modelTables(m *validate.Model) ([]modelTable, error) {
	byKey := map[string]*modelTable{}
	for _, g := range m.Games {
		for _, e := range g.Events {
			for _, def := range e.Definitions {
				for _, dest := range def.Destinations {
					n, err := parseTableName(dest)
					if err != nil {
						return nil, fmt.Errorf("destination of %s/%s %s: %w", g.Name, e.Name, def.Version, err)
					}
					t := byKey[n.String()]
					if t == nil {
						t = &modelTable{name: n}
						byKey[n.String()] = t
					}
					for _, f := range def.Fields {
						name := foldIdent([]byte(f.Name))
						if f.Expand || !validIdent([]byte(f.Name)) || isMetaCol(name) || slices.Contains(t.cols, name) {
							continue
						}
						t.cols = append(t.cols, name)
					}
				}
			}
		}
	}
	out := make([]modelTable, 0, len(byKey))
	for _, t := range byKey {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name.String() < out[j].name.String() })
	return out, nil
}

func metaTypes(d Dialect, cols []string) []string {
	types := make([]string, len(cols))
	for i, c := range cols {
		types[i] = d.ddlType(c)
	}
	return types
}

// AddReplayedAt adds replayed_at, the column failureCols ends with, to a
// failures table from before it, unless it has it (replay runs it;
// auto_create adds it too). It reports whether it added it.
func AddReplayedAt(ctx context.Context, db *sql.DB, d Dialect, failuresTable string) (bool, error) {
	t, err := parseTableName(failuresTable)
	if err != nil {
		return false, err
	}
	_, err = db.ExecContext(ctx, d.addColumnSQL(t, "replayed_at", d.ddlType("replayed_at")))
	if sqlState(err) == "42701" { // duplicate_column: another replay or loader added it
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("adding replayed_at to %s: %w", t, err)
	}
	return true, nil
}
