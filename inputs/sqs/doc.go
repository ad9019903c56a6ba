// Package sqs is the logic of the sqs input (plugin name "sqs"): long-polling
// receivers that turn SQS messages into Fluent Bit records and delete each
// message only after Fluent Bit holds all of its records.
//
// # Formats read
//
// The message attribute whirlpool.format, written by the sqs output, says how
// the body is laid out: "event" (one JSON record), "ndjson" (one JSON record
// per line), "ndjson.gz.b64" (gzip of the ndjson, then base64) or
// "ndjson.s2.b64" (an S2 block of the ndjson, then base64). A message
// without the attribute is read as one JSON record, as fluentd's sqs plugin
// writes them.
//
// # The queue is untrusted
//
// Anyone who can write to the queue (or send through an edge's inputs) can
// send any JSON. So a JSON record is reduced to the record contract of
// package enrich: its string fields uuid, fired_ts, game, version and event
// and its body are kept (body as the exact bytes of the client's object, or
// the text of a string body, which the sqs output writes for a body that is
// not one compact object; the record time parsed from fired_ts), and every
// other key is
// dropped: the keys of the validated-record form (definition_version,
// expand_index, destinations, columns, errors) never come from a message.
// A record that is not in the contract (a key missing, twice, or not a
// string, a body neither an object nor a string, any other JSON object) becomes an
// ENDPOINT_INVALID failure record holding its raw text, unless enrich is on
// (below). With validate on,
// every contract record is validated as the decoder cuts it out of its line
// (validate.AppendContract); the only records passed on as failures are
// those the decoder built itself, which it marks when it builds them
// (piece), never by their keys.
//
// # Records fluentd writes
//
// With enrich on, a record without all six contract keys is given an
// envelope (fluentd.go): one with uuid, fired_ts, game, version and event
// at its top level (and no body) takes those as its envelope, the rest of
// its keys as its body; any other object is a fluentd record, whose event
// key comes from its fields or tag_regex over its tag field (tag_key,
// fluent-plugin-sqs's "__tag"), fired_ts from its time field (time_key),
// else SentTimestamp, and uuid from its uuid field, else derived from the
// message id and its position, so a redelivered message gets the same
// uuids. Its body is the record without the tag and time fields. A record
// that cannot be given an envelope is an ENDPOINT_INVALID failure naming
// the field. Every record is then validated like any other.
//
// A message, or one line of one, that cannot be decoded becomes a failure
// record (code UNDECODABLE_MESSAGE, the raw text kept as a JSON string in
// body) and is deleted like any other: it is never dropped silently and never
// left to loop. With a validator, a contract line whose only fault is a body
// that is not JSON is the validator's PAYLOAD_NOT_JSON failure instead, under
// its own event key: the decoder skims the body and the validator checks it. A failure's uuid is derived from the message id and the
// line, so a redelivered message yields the same failure. Every failure the
// decoder builds keeps at most max_event_size bytes of its text, with the
// whole text's length and SHA-256 (body_bytes, body_sha256) when cut, as
// every failure record does (see filters/validate).
//
// A message is never decoded whole: what it may cost is bounded before it is
// read (a 1 KiB gzip can hold 1 GiB). Gunzip streams through a reader
// limited to max_message_bytes, lines are counted against
// max_records_per_message, and the records' bytes against the room left
// under max_buffered_bytes, as they are produced. At the first bound crossed
// the records so far are dropped and the message becomes one
// UNDECODABLE_MESSAGE failure naming the bound, holding its first 64 KiB
// decoded (at most max_event_size) with the length and SHA-256 of its body
// as received in body_bytes and body_sha256; it is deleted like any other. A message that is
// over only the room left (other messages fill the buffer) is not a failure:
// it waits, kept invisible, until Fluent Bit collects, and is decoded again
// with the whole bound.
//
// # Acknowledgement
//
// Collect hands Fluent Bit whole messages; the messages are deleted
// (DeleteMessageBatch, checking every entry) only when Fluent Bit's cleanup
// callback for that buffer has run. Messages held longer than half their
// visibility timeout get it extended. Pause stops receiving; the buffer of
// received but uncollected messages is bounded by max_buffered_bytes
// (counted while decoding, validated records included). On Close, messages
// that were not collected are made visible again at once for other
// consumers.
//
// # The forward path
//
// A Go input's collect runs once a second, fixed by Fluent Bit, and with
// the edge's on the same whole second of the node's clock. With
// forward_unix_path the records of each receive go instead to a forward
// input of the same Fluent Bit over its unix socket (forward.go), as
// PackedForward messages that ask for an acknowledgement; the forward
// input appends them to a chunk and acknowledges, and only then are the
// messages deleted. What the forward input cannot take (no socket, paused,
// no acknowledgement within forward_timeout) takes the collect path.
package sqs
