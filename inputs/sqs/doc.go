// Package sqs is the logic of the sqs input (plugin name "sqs"): long-polling
// receivers that turn SQS messages into Fluent Bit records and delete each
// message only after Fluent Bit holds all of its records.
//
// # Formats read
//
// The message attribute whirlpool.format, written by the sqs output, says how
// the body is laid out: "event" (one JSON record), "ndjson" (one JSON record
// per line) or "ndjson.gz.b64" (gzip of the ndjson, then base64). A message
// without the attribute is read as one JSON record, as fluentd's sqs plugin
// writes them (a "__tag" key, when present, is kept as a field).
//
// A JSON record in the record contract of package enrich (string fields
// uuid, fired_ts, game, version, event and an object body) becomes the same
// contract record again, with body the exact bytes of the client's object
// and the record time parsed from fired_ts. Any other JSON object becomes a
// record with the same fields (numbers that are integers as integers, others
// as floats) and the message's SentTimestamp as its time.
//
// A message, or one line of one, that cannot be decoded becomes a failure
// record (code UNDECODABLE_MESSAGE, the raw text kept as a JSON string in
// body) and is deleted like any other: it is never dropped silently and never
// left to loop.
//
// # Acknowledgement
//
// Collect hands Fluent Bit whole messages; the messages are deleted
// (DeleteMessageBatch, checking every entry) only when Fluent Bit's cleanup
// callback for that buffer has run. Messages held longer than half their
// visibility timeout get it extended. Pause stops receiving; the buffer of
// received but uncollected messages is bounded by max_buffered_bytes. On
// Close, messages that were not collected are made visible again at once for
// other consumers.
package sqs
