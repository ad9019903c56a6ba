// Package enrich turns one client event into one Whirlpool record. It is a
// pure-Go stage that several plugins run in-process (the eventing input at
// the edge; the sqs output for records that arrived through other inputs).
//
// # The record contract
//
// Each accepted event becomes one Fluent Bit record in the current form
//
//	[[EventTime, {}], body]
//
// (see record.AppendRecord). The record time is the receipt time and the
// metadata map is empty. body is a msgpack map with exactly these keys, in
// this order, every value a msgpack str:
//
//	uuid      a UUIDv7 (RFC 9562), unique per event and time-ordered: its
//	          48-bit millisecond timestamp is the receipt time, followed by a
//	          counter that makes the UUIDs of one Enricher strictly increasing
//	          (also for the events of one request, which share a receipt time)
//	fired_ts  the receipt time in UTC, RFC 3339 with milliseconds (truncated),
//	          e.g. 2026-11-21T23:45:27.123Z
//	game      the event key, taken from the URL path (or the equivalent
//	version   routing information of another input), never from the body;
//	event     each part 1-128 bytes of [A-Za-z0-9._+-]
//	body      the client's event JSON object exactly as received, byte for
//	          byte; for an array or NDJSON request, the bytes of that one
//	          element or line, trimmed of surrounding whitespace
//
// # Collision rule
//
// Added fields never go inside the client's object: the client's JSON is
// carried untouched in body and the added fields sit beside it. A client
// field can therefore never be overwritten, and a client may send its own
// "uuid", "game" or "fired_ts" fields: they stay as they are inside body,
// distinct from the envelope's fields of the same name.
package enrich
