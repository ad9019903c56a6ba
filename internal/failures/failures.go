// Package failures reads the failures table outputs/redshift writes: counts
// by game, event and code (the model studio's violations view), sample
// failures with their errors, and the bodies of UNKNOWN_EVENT failures
// that a draft definition is proposed from. It only reads; replay
// (internal/replay) marks rows.
//
// The SQL is the subset PostgreSQL and Amazon Redshift share; the table
// name is checked and quoted as the output does (redshift.QuoteTable), and
// every value is a bind parameter.
package failures

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
)

// Count is how many failures of one game and event carried one code over
// the last hour and the last day (by failed_at, when the output received
// them). A failure with several codes counts once under each.
type Count struct {
	Game, Event, Code string
	LastHour, LastDay int64
}

// tsLayout is how a time is passed to compare with a TIMESTAMP column
// (UTC, no zone), whatever the session's TimeZone.
const tsLayout = "2006-01-02 15:04:05.999999"

// Timestamp formats t for a CAST(... AS TIMESTAMP) parameter compared
// with the failures table's UTC TIMESTAMP columns.
func Timestamp(t time.Time) string { return t.UTC().Format(tsLayout) }

// Summary counts the failures of the last day by game, event and code,
// most frequent first (by the last day, then the last hour).
func Summary(ctx context.Context, db *sql.DB, table string, now time.Time) ([]Count, error) {
	q, err := redshift.QuoteTable(table)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT COALESCE(game, ''), COALESCE(event, ''), COALESCE(error_codes, ''),
		SUM(CASE WHEN failed_at >= CAST($1 AS TIMESTAMP) THEN 1 ELSE 0 END), COUNT(*)
		FROM `+q+` WHERE failed_at >= CAST($2 AS TIMESTAMP) GROUP BY 1, 2, 3`,
		Timestamp(now.Add(-time.Hour)), Timestamp(now.Add(-24*time.Hour)))
	if err != nil {
		return nil, fmt.Errorf("counting the failures in %s: %w", table, err)
	}
	defer rows.Close()
	type key struct{ game, event, code string }
	sums := map[key]*Count{}
	for rows.Next() {
		var game, event, codes string
		var hour, day int64
		if err := rows.Scan(&game, &event, &codes, &hour, &day); err != nil {
			return nil, fmt.Errorf("reading the failure counts of %s: %w", table, err)
		}
		for _, c := range Codes(codes) {
			k := key{game, event, c}
			if sums[k] == nil {
				sums[k] = &Count{Game: game, Event: event, Code: c}
			}
			sums[k].LastHour += hour
			sums[k].LastDay += day
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the failure counts of %s: %w", table, err)
	}
	out := make([]Count, 0, len(sums))
	for _, c := range sums {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.LastDay != b.LastDay {
			return a.LastDay > b.LastDay
		}
		if a.LastHour != b.LastHour {
			return a.LastHour > b.LastHour
		}
		return a.Game+"\x00"+a.Event+"\x00"+a.Code < b.Game+"\x00"+b.Event+"\x00"+b.Code
	})
	return out, nil
}

// Codes splits an error_codes value ("A,B") into its codes.
func Codes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Sample is one failure row: the raw event as kept (at most max_event_size
// bytes: Truncated says it was cut), its errors and what identifies it.
type Sample struct {
	UUID              string
	FiredTS, FailedAt time.Time
	Game, Version     string
	Event             string
	DefinitionVersion string // "" when no definition was resolved
	RawEvent          string
	Codes             []string
	Errors            []Error
	Truncated         bool
}

// Error is one entry of a failure's errors.
type Error struct {
	Code     string `json:"code"`
	Path     string `json:"path"`
	Rule     string `json:"rule"`
	Expected string `json:"expected"`
	Actual   string `json:"actual"`
	Message  string `json:"message"`
}

// Samples returns the latest failures of game and event that carry code
// ("" for any of the three: no filter), newest first, at most limit.
func Samples(ctx context.Context, db *sql.DB, table, game, event, code string, limit int) ([]Sample, error) {
	q, err := redshift.QuoteTable(table)
	if err != nil {
		return nil, err
	}
	where, args, err := Filter{Game: game, Event: event, Code: code}.SQL(1)
	if err != nil {
		return nil, err
	}
	cols, err := Columns(ctx, db, table)
	if err != nil {
		return nil, err
	}
	truncated := "FALSE"
	if cols["raw_event_bytes"] != "" {
		truncated = "raw_event_bytes IS NOT NULL"
	}
	rows, err := db.QueryContext(ctx, `SELECT uuid, fired_ts, failed_at, COALESCE(game, ''), COALESCE(version, ''), COALESCE(event, ''),
		COALESCE(definition_version, ''), `+Text(cols, "raw_event")+`, `+Text(cols, "errors")+`, COALESCE(error_codes, ''), `+truncated+`
		FROM `+q+` WHERE `+where+` ORDER BY failed_at DESC, uuid LIMIT `+fmt.Sprint(max(limit, 0)), args...)
	if err != nil {
		return nil, fmt.Errorf("reading failures from %s: %w", table, err)
	}
	defer rows.Close()
	var out []Sample
	for rows.Next() {
		var s Sample
		var errs, codes string
		if err := rows.Scan(&s.UUID, &s.FiredTS, &s.FailedAt, &s.Game, &s.Version, &s.Event, &s.DefinitionVersion,
			&s.RawEvent, &errs, &codes, &s.Truncated); err != nil {
			return nil, fmt.Errorf("reading failures from %s: %w", table, err)
		}
		if errs == "" {
			errs = "[]"
		}
		if err := json.Unmarshal([]byte(errs), &s.Errors); err != nil {
			return nil, fmt.Errorf("failure %s in %s: its errors are not a JSON list: %w", s.UUID, table, err)
		}
		s.Codes = Codes(codes)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading failures from %s: %w", table, err)
	}
	return out, nil
}

// UnknownEventSamples returns the bodies of the latest UNKNOWN_EVENT
// failures of game and event, newest first, at most limit: the events a
// game sent before anyone defined them, to draft a definition from. Bodies
// that were cut or are not a JSON object are left out.
func UnknownEventSamples(ctx context.Context, db *sql.DB, table, game, event string, limit int) ([][]byte, error) {
	if game == "" || event == "" {
		return nil, fmt.Errorf("a game and an event are needed")
	}
	samples, err := Samples(ctx, db, table, game, event, string(failcode.UnknownEvent), limit)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, s := range samples {
		b := []byte(s.RawEvent)
		if !s.Truncated && json.Valid(b) && strings.HasPrefix(strings.TrimSpace(s.RawEvent), "{") {
			out = append(out, b)
		}
	}
	return out, nil
}

// Columns returns the columns of a failures table with their
// information_schema data_type (lower case); none if it does not exist.
// Its columns came over time (outputs/redshift's failureCols), so readers
// ask which it has.
func Columns(ctx context.Context, db *sql.DB, table string) (map[string]string, error) {
	if _, err := redshift.QuoteTable(table); err != nil {
		return nil, err
	}
	schema, name, _ := strings.Cut(strings.ToLower(table), ".")
	rows, err := db.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`, schema, name)
	if err != nil {
		return nil, fmt.Errorf("reading the columns of %s: %w", table, err)
	}
	defer rows.Close()
	cols := map[string]string{}
	for rows.Next() {
		var c, typ string
		if err := rows.Scan(&c, &typ); err != nil {
			return nil, fmt.Errorf("reading the columns of %s: %w", table, err)
		}
		cols[c] = strings.ToLower(typ)
	}
	return cols, rows.Err()
}

// Text is the SQL expression reading column col of a failures table as
// text (empty for NULL): raw_event and errors are SUPER on Redshift, read as
// their JSON text.
func Text(cols map[string]string, col string) string {
	if cols[col] == "super" {
		return "COALESCE(JSON_SERIALIZE(" + col + "), '')"
	}
	return "COALESCE(" + col + ", '')"
}

// Filter selects failure rows; a zero field selects all.
type Filter struct {
	Game, Event, Code string
	Since             time.Time // failed_at at or after it
}

// SQL is the WHERE condition of f, with bind parameters numbered from
// first on, and their values. A code must be a known failure code.
func (f Filter) SQL(first int) (string, []any, error) {
	conds := []string{"1 = 1"}
	var args []any
	param := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", first+len(args)-1)
	}
	if f.Game != "" {
		conds = append(conds, "game = "+param(f.Game))
	}
	if f.Event != "" {
		conds = append(conds, "event = "+param(f.Event))
	}
	if f.Code != "" {
		if !failcode.Known(failcode.Code(f.Code)) {
			return "", nil, fmt.Errorf("%q is not a failure code", f.Code)
		}
		// error_codes is "A,B": match whole codes only.
		conds = append(conds, "POSITION("+param(","+f.Code+",")+" IN ',' || error_codes || ',') > 0")
	}
	if !f.Since.IsZero() {
		conds = append(conds, "failed_at >= CAST("+param(Timestamp(f.Since))+" AS TIMESTAMP)")
	}
	return strings.Join(conds, " AND "), args, nil
}
