package redshift

import (
	"errors"
	"regexp"
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

// isConflict reports a conflict with another transaction: PostgreSQL's
// serialization failure (40001) or deadlock (40P01), and Redshift's
// serializable isolation violation, which it reports as error 1023 under
// SQLSTATE XX000 ("ERROR: 1023 DETAIL: Serializable isolation violation on
// table - 12345, transactions forming the cycle are: ..."). Nothing of the
// transaction was committed: the batch is simply run again.
func isConflict(err error) bool {
	switch sqlState(err) {
	case "40001", "40P01":
		return true
	case "":
		return false
	}
	msg := errorMessage(err)
	return strings.Contains(strings.ToLower(msg), "serializable isolation violation") || redshift1023Re.MatchString(msg)
}

// redshift1023Re is Redshift's error number 1023 at the start of a message.
var redshift1023Re = regexp.MustCompile(`^\s*(ERROR:\s*)?1023\b`)

// isCopyLoadError reports Redshift's COPY failure that points to its load
// error table: "Load into table 'x' failed. Check 'stl_load_errors' system
// table for details." on provisioned clusters, "... Check
// 'sys_load_error_detail' system table for details." on Serverless.
func isCopyLoadError(err error) bool {
	if err == nil {
		return false
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "stl_load_errors") || strings.Contains(msg, "sys_load_error_detail")
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
