// Package validate checks Whirlpool records against a versioned data model
// and turns each into typed, valid records or one failure record. It is a
// pure-Go stage that plugins run in-process (the sqs input after receiving,
// or the redshift output before loading), configured with the same
// properties wherever it runs (Properties; New builds a Validator from a
// plugin instance's Env).
//
// # Input and output
//
// Input records follow the record contract of filters/enrich: a body map
// with the strings uuid, fired_ts, game, version, event and body (the
// client's JSON object as text). AppendValidated appends, keeping the input
// record's time and metadata (AppendContract, for a reader that holds the
// six strings already, appends the same without the record), either
//
//   - valid records, one per expanded element (one if the event does not
//     expand), whose body map has: uuid, fired_ts, game, version, event (as
//     in the input; an expanded element keeps its parent's uuid),
//     definition_version (the label, e.g. "v1"), expand_index (the element
//     index, -1 when not expanded), destinations (array of "schema.table")
//     and columns (map: column name → value for every field of the
//     definition but the expand field; str, int, float, bool or nil;
//     timestamps as RFC 3339 UTC strings with microseconds, e.g.
//     2026-11-21T23:45:27.123000Z; objects and arrays as compact JSON
//     text), or
//   - exactly one failure record, whose body map has: uuid, fired_ts, game,
//     version, event (nil when missing from the input), body (the raw event
//     text, untouched, or its first max_event_size bytes: see below),
//     definition_version (the label, or nil when the event did not resolve
//     to a definition) and errors: an array of maps {code, path, rule,
//     expected, actual, message}, every error found (at most MaxErrors;
//     actual is cut to MaxActual bytes).
//
// A record is never dropped. The keys of the valid and failure forms
// (definition_version, destinations, columns, ...; named in
// internal/fieldname) are never taken from untrusted input: a reader of a queue keeps only the contract's keys
// and validates every record, and builds its own failures for what it
// cannot read (AppendDecodeFailure: UNDECODABLE_MESSAGE, or ENDPOINT_INVALID
// for a record outside the contract), knowing which records it built; a
// loader checks each valid record's destinations and columns against its
// definition (Validator.Allowed) before any SQL. StatusOf tells the forms
// apart by their keys, for records a process made itself.
//
// # Raw text in failures
//
// A failure keeps at most max_event_size bytes of the raw text in body
// (CutText), so that a PAYLOAD_TOO_LARGE event or a record outside the
// contract (a queue message's record can be 64 MB) is no failure row of
// that size. The cut never splits a UTF-8 character. When body is cut the
// failure also has body_bytes (the whole text's length, an integer) and
// body_sha256 (its SHA-256, lower-case hex), so that the original can be
// matched (a client's log, a dead-letter queue); a failure kept whole has
// neither. The same two keys describe a queue message over a bound (the
// sqs input's UNDECODABLE_MESSAGE): there body holds at most 64 KiB of the
// decoded message (of an S2 block over max_message_bytes, which is never
// decoded, the body as received) and the digest is of the message body as
// received (for ndjson.gz.b64 and ndjson.s2.b64, its base64 text). The redshift output stores them as
// raw_event_bytes and raw_event_sha256.
//
// # The data model
//
// The model's file format, its field types, paths, expansion, version
// resolution, the failure codes and the store are described for users in
// docs/data-model.md at the repository root (a test keeps it in step with
// this package). Model and ParseModel read a model file, Model.Check checks
// it as the validator does (Model.Problems gives each problem as a Problem
// naming the game, mapping, event, definition and field it concerns),
// FormatModel writes one, Store keeps it in PostgreSQL with its history
// (who, why, retired definitions), and Codes lists the failure codes with
// their stages. For editing tools: Validator.Resolve says which definition
// a game version gets, DiffDefinitions and DiffMappings say what a change
// does and what it breaks, and DraftDefinition drafts a definition from
// sample events.
package validate
