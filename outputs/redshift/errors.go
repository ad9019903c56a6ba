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
