package redshift

import (
	"sync"
	"sync/atomic"
	"time"
)

// Stats are the output's counters (a later step exports them). All are
// safe to read at any time.
type Stats struct {
	// Batches is the number of batch loads tried; Transactions those that
	// committed; FailedBatches those that did not (their flushes retried).
	Batches, Transactions, FailedBatches atomic.Int64
	// Retries is the number of flushes answered Retry.
	Retries atomic.Int64
	// Flushes is the number of flushes answered by committed batches.
	Flushes atomic.Int64
	// BatchRows sums the rows of committed batches; BatchRowsMax is the
	// largest batch.
	BatchRows, BatchRowsMax atomic.Int64
	// FailuresDropped counts failure rows the failures table refused even
	// in their minimal form (logged at error level each).
	FailuresDropped atomic.Int64
	// Conflicts counts transactions rolled back by a conflict with another
	// transaction (Redshift error 1023, serialization failure, deadlock).
	Conflicts atomic.Int64
	// LoadsRefused counts tables whose rows were given up on after
	// max_load_attempts refusals that named no row.
	LoadsRefused atomic.Int64
	// LoadNanos sums the time batch loads took; LoadNanosMax is the longest.
	LoadNanos, LoadNanosMax atomic.Int64

	mu       sync.Mutex
	rows     map[string]*atomic.Int64
	failures map[string]*atomic.Int64
}

func (s *Stats) init() {
	s.rows = map[string]*atomic.Int64{}
	s.failures = map[string]*atomic.Int64{}
}

func counter(mu *sync.Mutex, m map[string]*atomic.Int64, k string) *atomic.Int64 {
	mu.Lock()
	defer mu.Unlock()
	c, ok := m[k]
	if !ok {
		c = new(atomic.Int64)
		m[k] = c
	}
	return c
}

func snapshot(mu *sync.Mutex, m map[string]*atomic.Int64) map[string]int64 {
	mu.Lock()
	defer mu.Unlock()
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v.Load()
	}
	return out
}

func (s *Stats) addRows(table string, n int64)    { counter(&s.mu, s.rows, table).Add(n) }
func (s *Stats) addFailures(code string, n int64) { counter(&s.mu, s.failures, code).Add(n) }

// RowsLoaded returns the rows committed per table ("schema.table"),
// failures table included; tables the data model does not name count
// under metrics.Other.
func (s *Stats) RowsLoaded() map[string]int64 { return snapshot(&s.mu, s.rows) }

// FailuresByCode returns the failure rows committed per error code; codes
// filters/validate does not declare count under metrics.Other.
func (s *Stats) FailuresByCode() map[string]int64 { return snapshot(&s.mu, s.failures) }

func storeMax(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

func (s *Stats) observe(units []*unit, err error, took time.Duration) {
	s.Batches.Add(1)
	s.LoadNanos.Add(int64(took))
	storeMax(&s.LoadNanosMax, int64(took))
	if err != nil {
		s.FailedBatches.Add(1)
		return
	}
	var rows int64
	for _, u := range units {
		rows += int64(u.rows)
	}
	s.Transactions.Add(1)
	s.Flushes.Add(int64(len(units)))
	s.BatchRows.Add(rows)
	storeMax(&s.BatchRowsMax, rows)
}
