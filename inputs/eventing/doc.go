// Package eventing is the HTTP event collector behind the in_eventing Fluent
// Bit input: game clients POST events, which are validated cheaply, enriched
// per the record contract of package enrich and handed to Fluent Bit through
// Collect.
//
// # Requests
//
// Events are POSTed to {path_prefix}/{game}/{version}/{event}. The body is
// one JSON object, a JSON array of objects, or newline-delimited JSON objects
// (Content-Type application/x-ndjson, or detected: the first line is a
// complete JSON value and more lines follow; blank lines are skipped).
// Content-Encoding gzip is accepted; max_body_bytes limits the body both as
// sent and decompressed. Each event (the whole body, one array element or one
// line) is limited to max_event_bytes, must be valid JSON (encoding/json's
// strict check) and must be an object; it is emitted byte for byte, trimmed
// of surrounding whitespace.
//
// Every error is answered with
//
//	{"error":{"code":"...","message":"...","index":N}}
//
// where index (0-based, counting the events of the request) appears when the
// error belongs to one event of an array or NDJSON body. When a batch is
// rejected because of bad events, a "rejected" list beside "error" names
// every bad event the same way. Codes: PAYLOAD_NOT_JSON, PAYLOAD_EMPTY,
// PAYLOAD_NOT_OBJECT (400), PAYLOAD_TOO_LARGE (413), ENDPOINT_INVALID (404),
// METHOD_NOT_ALLOWED (405, with Allow), UNSUPPORTED_ENCODING (415, with
// Accept-Encoding), UNAUTHORIZED (401), REQUEST_TIMEOUT (408), OVERLOADED
// (503, with Retry-After).
// A body that is not valid gzip is PAYLOAD_NOT_JSON. Nothing from a rejected
// request is ever emitted.
//
// Success is 200 (ack buffered) or 202 (ack received) with
// {"accepted":N,"rejected":[...]}; rejected is empty unless partial_batch is
// accept, and then lists the bad events as above.
//
// GET /healthz answers 200 {"status":"ok"}, or 503 {"status":"paused"} while
// Fluent Bit has paused the input.
//
// # Acknowledgement
//
// Each request's records form one batch, queued whole, collected whole, in
// arrival order. With ack buffered the response waits until Fluent Bit's
// cleanup for the Collect that carried the batch has run (the done func), so
// a 200 means the events are in Fluent Bit's buffer. If the batch has not
// been collected within ack_timeout it is withdrawn (never emitted) and the
// request gets 503; once collected, the response waits for done however long
// it takes. A client that disconnects before collection has its batch
// withdrawn too. With ack received the response is 202 as soon as the batch
// is queued: a crash may lose what was queued, up to about one second of
// events (Fluent Bit collects once a second).
//
// max_buffered_bytes bounds the records queued but not collected; a request
// that does not fit gets 503 OVERLOADED with Retry-After: 1 (a single batch
// larger than the bound is still taken when the queue is empty). From then
// until Fluent Bit's next collect (or a withdrawal) makes room, every request
// gets that 503 before its body is read: under overload, reading, checking
// and enriching events only to refuse them cost most of the input's CPU.
//
// # The forward path
//
// With forward_unix_path (ack buffered only), an accepted request's records
// go instead to a forward input of the same Fluent Bit over its unix
// socket (forward.go, internal/forward), as a PackedForward message that
// asks for an acknowledgement; requests that arrive while one is out share
// the next message. The forward input appends them to its chunk, then
// acknowledges, and the request is answered 200: no wait for the one-second
// collect, and no cap of max_buffered_bytes a second. What the forward
// input cannot take (no socket, paused, no acknowledgement within
// forward_timeout) takes the queue and the collect as above; the socket is
// tried again 50 ms later, then at doubling intervals up to a second while
// it keeps failing. Records sent but not acknowledged in time
// may then arrive twice, with the same uuids, which the loader
// deduplicates.
//
// The forward path has its own max_buffered_bytes, claimed once a body is
// split and before its records are built; a request finding no room there
// takes the queue. Once both have refused a request, every request gets
// the 503 before its body is read until one of them makes room: without
// the claim, under overload every client's request was in memory at
// once, enriched, only to be refused (94 MiB of Go heap with 256 clients).
//
// # Limits
//
// The body buffer grows as bytes arrive, never to a declared
// Content-Length. At most max_connections connections are open (further
// ones wait to be accepted). A body must be complete within
// min_send_rate_grace plus its size divided by min_send_rate, else 408
// REQUEST_TIMEOUT and nothing of it is emitted: the deadline is the
// connection's read deadline, moved before each read of the body.
//
// Pause (Fluent Bit back-pressure) makes new requests get 503 until Resume;
// Close refuses new requests, withdraws the uncollected batches (503) and
// stops the server within a few seconds.
//
// # API keys
//
// With api_keys or api_keys_file set, a request needs the header
// api_key_header carrying one of its game's keys, or gets 401. Keys are
// compared as SHA-256 digests in constant time and never logged or echoed.
// api_keys_file is re-read every api_keys_reload_interval and its keys
// replaced when its content changed (keyring): polling the content, not an
// inotify watch, so a Kubernetes Secret volume's symlink swap is seen. A
// file that cannot be read or parsed, is empty, or would leave no key at
// all keeps the previous keys, with an error naming the file and line.
package eventing
