// Package trial runs one event through the pipeline's own code without
// queue or database: the record the edge would make of it (filters/enrich),
// the line outputs/sqs would send, the sqs input's decoding and validation,
// and the rows outputs/redshift would route per table, or the failure row
// it would write. The model studio's "try an event" shows its Result.
package trial

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/filters/validate"
	insqs "github.com/whirlpool-events/whirlpool/inputs/sqs"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
	outsqs "github.com/whirlpool-events/whirlpool/outputs/sqs"
)

// Result is what the pipeline would do with one event.
type Result struct {
	Tables   []Table
	Failures []Failure
}

// Table is the rows of one destination table; values are in PostgreSQL's
// COPY text format (\N is NULL), as the pg_copy load sends them.
type Table struct {
	Name    string
	Columns []string
	Rows    [][]string
}

// Failure is the failure row the event would get: its error codes, its
// errors and the raw event text the failures table keeps.
type Failure struct {
	UUID     string
	Codes    []string
	Errors   []Error
	RawEvent string
}

// Error is one entry of a failure's errors column.
type Error struct {
	Path    string `json:"path"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Run tries one event: body is the client's JSON as posted to the edge,
// game, version and event its key, now the receipt time. An error means
// the edge would refuse the event (a bad key), never that it fails
// validation: that is a Failure of the Result.
func Run(v *validate.Validator, game, version, event string, body []byte, now time.Time) (Result, error) {
	key := enrich.Key{Game: game, Version: version, Event: event}
	if err := key.Validate(); err != nil {
		return Result{}, fmt.Errorf("the edge refuses this event: %w", err)
	}
	var e enrich.Enricher
	validated, err := Validated(v, e.AppendRecord(nil, key, body, now), now)
	if err != nil {
		return Result{}, err
	}
	return Route(v, validated, now)
}

// Validated returns the records the sqs input emits for one record the
// edge made (a chunk of one record in the record contract): the line
// outputs/sqs sends for it, decoded and validated by the sqs input's own
// code. sent is the message's SentTimestamp.
func Validated(v *validate.Validator, chunk []byte, sent time.Time) ([]byte, error) {
	var rec record.Record
	d := record.NewDecoder(chunk)
	if !d.Next(&rec) {
		return nil, fmt.Errorf("decoding the record: %w", d.Err())
	}
	line, err := outsqs.AppendContractLine(nil, rec.Body)
	if err != nil {
		return nil, err
	}
	return insqs.DecodeAndValidate(v, line, sent), nil
}

// Route is what outputs/redshift does with validated records (the
// chunk Validated returns): the rows per table and the failure rows.
func Route(v *validate.Validator, validated []byte, now time.Time) (Result, error) {
	tables, failures := redshift.Preview(v, validated, now)
	var res Result
	for _, t := range tables {
		res.Tables = append(res.Tables, Table(t))
	}
	for _, f := range failures {
		var errs []Error
		if err := json.Unmarshal([]byte(f.Errors), &errs); err != nil {
			return Result{}, fmt.Errorf("reading the errors of a failure: %w", err)
		}
		var codes []string
		if f.ErrorCodes != "" {
			codes = strings.Split(f.ErrorCodes, ",")
		}
		res.Failures = append(res.Failures, Failure{UUID: f.UUID, Codes: codes, Errors: errs, RawEvent: f.RawEvent})
	}
	return res, nil
}
