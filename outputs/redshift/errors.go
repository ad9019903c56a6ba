package redshift

import (
	"errors"
	"strings"

	"github.com/lib/pq"
)

// sqlState returns the SQLSTATE of a database error, or "".
func sqlState(err error) string {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return string(pe.Code)
	}
	return ""
}

// isDataError reports whether the database refused a value (SQLSTATE
// class 22, data exception, or 23, integrity constraint violation), or a
// row cannot be sent at all: the rows at fault are isolated and become
// LOAD_REJECTED failure rows. Everything else is retried.
func isDataError(err error) bool {
	var big *rowTooBig
	if errors.As(err, &big) {
		return true
	}
	st := sqlState(err)
	return strings.HasPrefix(st, "22") || strings.HasPrefix(st, "23")
}

// isTransient reports whether err may go away on its own, so the batch is
// retried: anything that is not the database's answer (connection refused
// or lost, timeouts, S3), and the SQLSTATE classes 08 (connection), 40
// (serialization failure, deadlock), 53 (insufficient resources), 57
// (operator intervention: cancel, shutdown), 58 (system error) and XX
// (internal error). Any other database error is the answer for that
// statement: retrying cannot change it.
func isTransient(err error) bool {
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return true
	}
	switch pe.Code.Class() {
	case "08", "40", "53", "57", "58", "XX":
		return true
	}
	return false
}

// isCopyLoadError reports Redshift's COPY failure that names
// stl_load_errors ("Load into table ... failed. Check 'stl_load_errors'").
func isCopyLoadError(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "stl_load_errors")
}

// errorMessage is the database's message for a failure row.
func errorMessage(err error) string {
	var pe *pq.Error
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.Detail != "" {
			msg += " (" + pe.Detail + ")"
		}
		if pe.Where != "" {
			msg += " [" + strings.ReplaceAll(pe.Where, "\n", "; ") + "]"
		}
		return msg + " (SQLSTATE " + string(pe.Code) + ")"
	}
	return err.Error()
}
