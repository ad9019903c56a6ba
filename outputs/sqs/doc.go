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
//	whirlpool.format  String  event | ndjson | ndjson.gz.b64 | ndjson.s2.b64
//	whirlpool.count   Number  how many events the message holds
//
// and its body is, by format:
//
//	event          one record as a JSON object
//	ndjson         records as JSON objects, one per line, separated by "\n"
//	               (no trailing newline; a reader should accept one)
//	ndjson.gz.b64  the ndjson body, gzip-compressed, then standard base64
//	               (RFC 4648 with padding)
//	ndjson.s2.b64  the ndjson body as one S2 block (klauspost/compress/s2,
//	               whose header holds the decoded length), then standard
//	               base64
//
// Every record is sent as one JSON object with exactly the six keys of the
// record contract of package enrich, in contract order: uuid, fired_ts,
// game, version, event (strings) and body (see The record contract below).
// Its body, a string, is written raw when its text is one valid JSON
// object without a newline byte, byte for byte; any other body (a string
// that is not an object, an object spread over several lines) is written
// as a JSON string. A reader gets the client's exact original text back
// either way: the raw bytes of the object, or the value of the string.
//
// Size: SQS counts a message as its body plus, per attribute, the bytes of
// its name, data type and value. A message never exceeds max_message_bytes
// by that count, and a request never exceeds max_batch_bytes (the sum of its
// messages' counts).
//
// FIFO queues (a queue URL ending in .fifo): MessageGroupId is the static
// message_group_id if set, else the value of the contract key named by
// message_group_id_key (default "game"), else "default"; events of
// different groups never share a message, and batches are sent one at a
// time. MessageDeduplicationId is, for a message of one event, that event's
// value of deduplication_id_key (default "uuid") when it is a valid id;
// otherwise the hex SHA-256 of the values (or JSON lines, for events with
// an empty one) of the message's events, newline-separated. Both keys must
// name uuid, fired_ts, game, version or event: no other key is sent. A
// chunk is always packed into the same messages, so a resent message has
// the same id and SQS
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
// # The record contract
//
// The edge never forwards a record outside the contract. The processor
// reduces every message to the contract and validates every record, but
// the edge does its part: it sends nothing but the contract's keys, and
// takes uuid and fired_ts only from the input that makes them.
//
// Trust is by tag. contract_match lists Fluent Bit Match patterns ('*'
// matches any run of characters, dots included; case-sensitive; default
// "events eventing.*": the eventing input's Tag in conf/, and Fluent Bit's
// tag for an eventing input without one). A record of a chunk whose tag
// matches, carrying every contract key once as a string, is sent as those
// six keys: its own uuid and fired_ts, and nothing else (other keys are
// dropped, with a warning per chunk naming the first). A pattern of only
// '*' is refused: it would trust every input.
//
// Every other record is wrapped: body is the whole record as JSON (see
// record.Map.AppendJSON; nil, bool and number map keys are written as
// strings), fired_ts the record's Fluent Bit time, and uuid a UUIDv7 of
// that time whose other bits derive from the chunk's hash (SHA-256 of tag
// and bytes) and the record's index, so a retried chunk gets the same
// uuids. That holds for a record that carries uuid, fired_ts and an event
// key itself: a Forward client (conf/edge.conf routes the forward input
// into the same output) never chooses its uuid or fired_ts; what it sent
// stays inside body. Such a record under an untrusted tag is logged once
// per chunk at warning level, naming contract_match, for the user who
// renamed the eventing input's Tag.
//
// The event key of a wrapped record: with enrich on, each part is read from
// the record's string field named by game_key, version_key or event_key,
// or else from the tag's named group game, version or event of tag_regex.
// A part that is not found, or not valid (enrich.ValidatePart), is sent as
// the empty string: the processor's validator turns an empty key part into
// an ENDPOINT_INVALID failure whose path names the key, so the record is
// kept where it can be seen and replayed, and still travels in the
// contract. Such records are logged (tag and reason, once per chunk) and
// counted (sqs_out_not_enriched_total). With enrich off no key is looked
// for: every wrapped record is sent with all three parts empty, so an edge
// meant only for eventing records turns anything else into failures.
//
// A record that cannot be written as JSON at all (a map key that is an
// array or a map, or a malformed value) is logged, counted as undecodable
// and left out.
package sqs
