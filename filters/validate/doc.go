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
// record's time and metadata, either
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
// decoded message and the digest is of the message body as received (for
// ndjson.gz.b64, its base64 text). The redshift output stores them as
// raw_event_bytes and raw_event_sha256.
//
// # Failure codes
//
// Each error's code, the stage that raises it and what it means. An event
// first gets its envelope checked (ENDPOINT_INVALID stops there); then its
// body is parsed (ingest) and its key resolved (resolve), both reported
// together; only an event that passed both is validated and expanded, and
// every error of those stages is reported.
//
//	code                         stage     meaning
//	PAYLOAD_NOT_JSON             ingest    the event body is not JSON (RFC 8259), e.g. truncated or with trailing data
//	PAYLOAD_EMPTY                ingest    the event body is empty or only white space
//	PAYLOAD_NOT_OBJECT           ingest    the event body is JSON but not an object (an array, a string, ...)
//	PAYLOAD_TOO_LARGE            ingest    the event body is larger than max_event_size; it is not parsed
//	ENDPOINT_INVALID             ingest    the record is not in the record contract: uuid, fired_ts, game, version, event or body missing or not a string, an empty key part, or fired_ts not RFC 3339 (path names the key); also raised by the sqs input for a message record that is not a JSON object of the contract (its text kept in body)
//	UNKNOWN_GAME                 resolve   the game is not in the model
//	UNKNOWN_EVENT                resolve   the game has no such event
//	VERSION_UNMAPPED             resolve   no mapping of the game matches the game version
//	VERSION_AMBIGUOUS            resolve   mappings of equal precedence match the version and name different definitions
//	DEFINITION_NOT_FOUND         resolve   the version maps to a definition label the event does not have
//	DEFINITION_INVALID           resolve   the definition exists but cannot be used (no destinations, a relative path without an expand field, two expand fields, an expand field that is not an array, a scalar field whose path contains another field's path); the model loads with a warning naming it
//	MANDATORY_FIELD_MISSING      validate  a mandatory field's path is absent
//	MANDATORY_FIELD_NULL         validate  a mandatory field is JSON null
//	FIELD_TYPE_MISMATCH          validate  the value's JSON type does not fit the field type (e.g. "5" for an integer, 2.5 for an integer, a number for a timestamp in rfc3339 format)
//	FIELD_FORMAT_INVALID         validate  a string fails its format (uuid, date, email, ipv4, ipv6, pattern:...) or is not valid UTF-8, or a timestamp string is not RFC 3339
//	FIELD_OUT_OF_RANGE           validate  a number is outside the field's min/max or its column: BIGINT for integers, a finite double for numbers
//	FIELD_TOO_LONG               validate  a string (bytes of UTF-8) or an object/array (bytes of JSON text) is longer than max_length; never truncated
//	TIMESTAMP_OUT_OF_RANGE       validate  a timestamp is outside the field's min/max, or by default before timestamp_min or more than timestamp_max_ahead after fired_ts
//	UNEXPECTED_FIELD             validate  a key no field path reaches, when the definition says additional_fields: reject
//	EXPAND_NOT_ARRAY             expand    the expand field is present but not an array
//	EXPAND_EMPTY                 expand    the expand field is an empty array (it would produce no record)
//	EXPAND_LIMIT_EXCEEDED        expand    the expand field has more elements than expand_limit
//	DESTINATION_NOT_FOUND        load      (raised by the redshift output) a destination table is missing (auto_create off) or cannot be created
//	DESTINATION_SCHEMA_MISMATCH  load      (raised by the redshift output) a destination table's columns do not fit the definition
//	LOAD_REJECTED                load      (raised by the redshift output) the database rejected the row, or loading its table failed for a reason retrying cannot change
//	MODEL_MISMATCH               load      (raised by the redshift output) a valid record names a definition, destination or column the data model does not have for its game and event, or a value its field's type does not allow: a forged record, never loaded
//	NOT_VERIFIED                 load      (raised by the redshift output) a valid record reached an output without a data model (validate off), which cannot check it and so loads it nowhere
//	UNDECODABLE_MESSAGE          any       (raised by the sqs input with AppendDecodeFailure) a queue message could not be decoded into records; body holds the message text (its first bytes, with body_bytes and body_sha256, for one over a bound)
//	INTERNAL_ERROR               any       an unexpected error (a bug) in the validator; the event is kept with it
//
// An unreachable model store or model file is never a failure: the current
// model stays in use (see Reload below).
//
// # The data model
//
// A model file is YAML or JSON (testdata/model.yaml is a complete example;
// default_model.yaml is embedded and used when no model is configured):
//
//	games:
//	  - name: galaxy                 # as in the record's game (1-128 of A-Z a-z 0-9 . _ + -)
//	    mappings:                    # game version → definition label
//	      - version: '1\.[0-4](\.[0-9]+)*'   # Go regexp (RE2), anchored: must match the whole version
//	        definition: v1
//	        priority: 0              # optional, default 0; higher wins
//	    events:
//	      - name: level_up
//	        definitions:
//	          - version: v1          # the label mappings name (1-64 of A-Z a-z 0-9 . _ -)
//	            additional_fields: ignore   # or reject (UNEXPECTED_FIELD)
//	            destinations: [events.level_up]   # schema.table, one or more
//	            fields:
//	              - name: player_id  # column name
//	                path: player.id  # where in the event body
//	                type: string     # string integer number boolean timestamp object array
//	                mandatory: true  # absent → MANDATORY_FIELD_MISSING, null → MANDATORY_FIELD_NULL
//	                max_length: 64   # string, object, array: bytes, 1-65535
//	                min: 1           # integer, number: a number; timestamp: an RFC 3339 time
//	                max: 1000
//	                format: uuid     # see below
//	                expand: false    # true on one array field: one record per element
//
// Unknown keys are errors. Field types and their checks:
//
//   - string: a JSON string of valid UTF-8, at most max_length bytes
//     (default 256, as VARCHAR(256); at most 65535, Redshift's largest
//     VARCHAR). format: uuid (8-4-4-4-12 hex), date (YYYY-MM-DD), email
//     (one @, a dotted domain, no spaces), ipv4, ipv6, or pattern:REGEX (a
//     Go regexp that must match the whole string).
//   - integer: a JSON number with an integral value (5, 5.0 and 5e0 are
//     5; 5.5 is a FIELD_TYPE_MISMATCH) within BIGINT, and min/max.
//   - number: a JSON number that is a finite double, within min/max.
//   - boolean: true or false.
//   - timestamp: with format rfc3339 (the default) a JSON string in RFC
//     3339 form with a time zone (2026-11-21T23:45:27Z,
//     2026-11-21T23:45:27.123456+02:00); with format epoch_seconds or
//     epoch_millis a JSON number of seconds or milliseconds since
//     1970-01-01 UTC (a fraction is allowed). Precision is cut to
//     microseconds (Redshift TIMESTAMP). It must lie within min/max when
//     given, else from timestamp_min (default 2000-01-01T00:00:00Z) to
//     fired_ts + timestamp_max_ahead (default 24h): both sane and within
//     Redshift's TIMESTAMP range.
//   - object, array: a JSON object or array, stored as compact JSON text of
//     at most max_length bytes (default 65535).
//
// Null or absent optional fields are nil columns.
//
// Identifiers: column names and the schema and table of every destination
// must match ^[a-z_][a-z0-9_]{0,126}$ and must not be a reserved word of
// Redshift or PostgreSQL (CheckIdentifier). A model with a bad identifier,
// an unknown type, a bad path, regexp, format, min/max or max_length, or a
// duplicate name is rejected as a whole (ModelError names the game, event,
// definition and field of every problem).
//
// # Paths
//
// A path is keys separated by '.', from the event body: "level",
// "player.id". Inside a key write '\.' for a dot, '\\' for a backslash and
// '\@' for a leading '@'. A key of digits also indexes an array
// ("tags.0"). In a definition with an expand field, a path starting with
// "@." is relative to the expanded element ("@.sku", "@.price.amount") and
// "@" is the element itself; other paths read the event body, and their
// values repeat in every expanded record. Error paths use the same syntax,
// with the element index after the expand field's path: "items.2.sku".
// With additional_fields: reject, the keys of every object along the
// declared paths are checked (objects under an object or array field, and
// arrays on the way, are not).
//
// # Expansion
//
// At most one field per definition has expand: true; its type is array.
// Each element becomes one valid record with expand_index = its index and
// the parent's uuid; all elements must be valid or the event is one
// failure listing the errors of every element. An absent or null optional
// expand field gives one record (expand_index -1) whose element columns are
// nil; an empty array is EXPAND_EMPTY; more than expand_limit elements is
// EXPAND_LIMIT_EXCEEDED.
//
// # Version resolution
//
// The mappings of the record's game whose pattern matches the whole game
// version are candidates. Precedence, deterministic and independent of the
// order of mappings:
//
//  1. the highest priority (an integer, default 0);
//  2. among those, literal patterns (patterns without regexp operators,
//     such as 1\.3\.7 for one hotfix build) beat other patterns;
//  3. the remaining candidates must all name the same definition label;
//     if they name different labels the event fails with
//     VERSION_AMBIGUOUS (never resolved by chance).
//
// No candidate is VERSION_UNMAPPED; a label the event lacks is
// DEFINITION_NOT_FOUND.
//
// # Model sources and reload
//
// The model comes from model_file, from the PostgreSQL store at model_dsn
// (schema whirlpool_model, created if missing; see Store), or, with
// neither, from the embedded default. It is re-read every
// model_reload_interval (default 30s, at most 60s). A new model replaces
// the old one atomically: every record is validated against exactly one
// model. If the source cannot be read (store down, file missing) the
// current model stays and one warning is logged per outage; a new model
// that fails its checks is rejected with the reason logged (once per
// distinct reason) and the current model stays. The first load must
// succeed, else New fails.
//
// # The store
//
// Store.Apply writes a model file's content (cmd/whirlpool-model apply): new
// games and events, and a new revision of each definition version and each
// game's mappings whose content changed; applying the same file again
// changes nothing, and nothing is ever deleted. The highest revision is
// current. Store.Rollback makes an older revision current by adding a new
// revision with its content, recorded as "rollback to revision N". Tables:
// games, events, definition_versions (game, event, label, revision,
// additional_fields, change, created_at), definition_fields,
// definition_destinations, mapping_versions, mappings.
package validate
