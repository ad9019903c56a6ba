// Package sqs is the logic of Whirlpool's Fluent Bit output "sqs": it packs
// the records of each chunk into SQS messages and sends them with
// SendMessageBatch. It is pure Go; plugins/out_sqs registers it.
//
// The stages, in the shape of a Vector sink: config (Properties, the
// Fluent Bit properties) → encoder (a record → one JSON line) → packer (JSON
// lines → message bodies, filled close to max_message_bytes) → batcher
// (messages → requests of at most 10 entries and max_batch_bytes) → service
// (SendMessageBatch with bounded, jittered resends of what failed).
//
// # Wire format
//
// Every message carries two message attributes:
//
//	whirlpool.format  String  event | ndjson | ndjson.gz.b64
//	whirlpool.count   Number  how many events the message holds
//
// and its body is, by format:
//
//	event          one record as a JSON object
//	ndjson         records as JSON objects, one per line, separated by "\n"
//	               (no trailing newline; a reader should accept one)
//	ndjson.gz.b64  the ndjson body, gzip-compressed, then standard base64
//	               (RFC 4648 with padding)
//
// A record becomes a JSON object of its body map, fields in record order
// (see record.Map.AppendJSON for how values are written), with one rule for
// the record contract of package enrich: a str field named "body" whose text
// is one valid JSON object without a newline byte is written raw, as that
// object, byte for byte. Any other body (a string that is not an object, an
// object spread over several lines) is written as a JSON string. A reader
// gets the client's exact original text back either way: the raw bytes of
// the object, or the value of the string.
//
// With format event, records outside the contract are written as their JSON
// object, which is what fluent-plugin-sqs consumers expect.
//
// Size: SQS counts a message as its body plus, per attribute, the bytes of
// its name, data type and value. A message never exceeds max_message_bytes
// by that count, and a request never exceeds max_batch_bytes (the sum of its
// messages' counts).
//
// FIFO queues (a queue URL ending in .fifo): MessageGroupId is the static
// message_group_id if set, else the value of the record field named by
// message_group_id_key (default "game"), else "default"; events of
// different groups never share a message, and batches are sent one at a
// time. MessageDeduplicationId is, for a message of one event, that event's
// value of deduplication_id_key (default "uuid") when it is a valid id;
// otherwise the hex SHA-256 of the values (or JSON lines, for events without
// one) of the message's events, newline-separated. A chunk is always packed
// into the same messages, so a resent message has the same id and SQS
// drops the copy within its 5-minute deduplication window.
//
// # Delivery
//
// Every entry of every SendMessageBatch response is checked. Entries that
// failed for a reason that can pass (throttling, a server-side fault) are
// resent alone, up to max_retries times per flush with exponential back-off
// and full jitter; so are whole requests that failed for throttling, a 5xx,
// a timeout or a network error. What is still not delivered then makes the
// flush return RETRY. Fluent Bit then flushes the whole chunk again; the
// output remembers (per chunk: SHA-256 of tag and bytes; at most 4096
// chunks, for an hour) which of its messages were delivered, and sends only
// the others. Entries SQS refuses as the sender's fault (e.g. characters SQS
// does not allow in a body) are logged with the first event's uuid, counted
// and left out: resending the same bytes cannot succeed.
//
// An event too large for a message even alone is logged once at error
// level with its uuid (never its body), counted and left out, so it cannot
// block its chunk. A chunk that cannot be decoded to its end: the records
// before the bad one are sent, the error is logged with the byte offset and
// counted, and the flush returns OK once those are delivered (the tail can
// never be decoded, so retrying it would block the pipeline forever).
//
// # Enrichment
//
// With enrich on, a record that is not in the contract (string fields
// uuid, fired_ts, game, version, event, and body) is turned into one: its
// event key is read from the fields named by game_key, version_key and
// event_key, or else from the tag's named groups game, version and event of
// tag_regex; body is the record as JSON; fired_ts is the record's time; uuid
// is a UUIDv7 of the record's time whose other bits derive from the chunk's
// hash and the record's index, so a retried chunk gets the same uuids. A
// record without a valid event key is not dropped: it is logged (tag and
// reason, once per chunk), counted, and sent as it is, not enriched, so that
// the processor turns it into a failure row (ENDPOINT_INVALID or
// UNKNOWN_GAME) where it can be seen and replayed.
package sqs
