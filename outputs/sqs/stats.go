package sqs

import "sync/atomic"

// Stats are an instance's counters since it started. Every field is safe
// to read while flushes run.
type Stats struct {
	Events          atomic.Uint64 // events delivered to SQS
	Messages        atomic.Uint64 // messages delivered
	Batches         atomic.Uint64 // SendMessageBatch requests that delivered everything they carried
	Requests        atomic.Uint64 // SendMessageBatch calls made, resends included
	Bytes           atomic.Uint64 // message bytes delivered (bodies and attributes)
	EntriesRetried  atomic.Uint64 // entries resent within a flush
	RequestsRetried atomic.Uint64 // whole requests resent within a flush
	ChunksRetried   atomic.Uint64 // flushes that returned RETRY
	Oversize        atomic.Uint64 // events left out: too large for a message even alone
	Rejected        atomic.Uint64 // events in messages SQS refused as the sender's fault
	Undecodable     atomic.Uint64 // chunks whose msgpack could not be decoded to the end
	NotEnriched     atomic.Uint64 // records sent as failures: no valid event key found (key parts not found empty)
}

// StatsSnapshot is a copy of Stats at one moment.
type StatsSnapshot struct {
	Events, Messages, Batches, Requests, Bytes     uint64
	EntriesRetried, RequestsRetried, ChunksRetried uint64
	Oversize, Rejected, Undecodable, NotEnriched   uint64
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	return StatsSnapshot{
		Events: s.Events.Load(), Messages: s.Messages.Load(), Batches: s.Batches.Load(),
		Requests: s.Requests.Load(), Bytes: s.Bytes.Load(),
		EntriesRetried: s.EntriesRetried.Load(), RequestsRetried: s.RequestsRetried.Load(),
		ChunksRetried: s.ChunksRetried.Load(), Oversize: s.Oversize.Load(), Rejected: s.Rejected.Load(),
		Undecodable: s.Undecodable.Load(), NotEnriched: s.NotEnriched.Load(),
	}
}
