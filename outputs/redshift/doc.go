// Package redshift is the pure-Go logic of the "redshift" output: it loads
// validated records (see filters/validate) into Amazon Redshift or
// PostgreSQL, valid events into their destination tables and failures into
// one failures table. plugins/out_redshift registers Plugin.
//
// # Shape
//
// Like a Vector sink: config (Properties) → router (record → rows per
// table, Flush) → batcher (group commit, run) → service (plan: table
// metadata and auto_create; load: one transaction per batch; S3 staging
// for load_method copy). A Flush returns OK only after the transaction
// holding its records committed, Retry when it did not (nothing of the
// batch is committed then, and dedupe makes the re-flush exact).
//
// # Routing
//
// A valid record (uuid, fired_ts, game, version, event,
// definition_version, expand_index, destinations, columns) becomes one row
// in each destination ("schema.table"): its columns plus the metadata
// columns. A failure record (errors, body) becomes one failures row. Any
// other record is validated when a Validator is given (WithValidator),
// else it becomes an INTERNAL_ERROR failure ("record was not validated").
//
// Valid records are not trusted: any input can send one. Before any SQL,
// each is checked against the data model (Validator.Allowed): its game,
// event and definition_version must name a usable definition, every
// destination must be one of that definition's (exactly as the model
// writes it) and every column one of its fields, with a value of the
// field's type within max_length and min/max. A record that fails is a
// MODEL_MISMATCH failure row holding the whole record and is loaded
// nowhere (the model is re-read first, at most once a second, in case it
// lags the validator upstream). Without a Validator (validate off) no
// valid record can be checked: each is a NOT_VERIFIED failure row.
//
// Identifiers are the model's (^[a-z_][a-z0-9_]{0,126}$, no reserved
// words), checked again here ([A-Za-z_][A-Za-z0-9_$]{0,126} per part) and
// always quoted. A valid record that cannot be loaded somewhere (missing
// table with auto_create off, or a table that cannot be created:
// DESTINATION_NOT_FOUND; a column the table lacks, which auto_create may
// not add: DESTINATION_SCHEMA_MISMATCH; a row the database refuses, or a
// table it cannot load: LOAD_REJECTED) also becomes one failures row
// holding all its errors, while its other destinations load. A nil value
// for a column the table lacks is just NULL.
//
// # Tables
//
// Event tables: the data columns plus
//
//	uuid VARCHAR(64)/text, fired_ts TIMESTAMP, game, version, event VARCHAR(128)/text,
//	definition_version VARCHAR(128)/text, expand_index INTEGER, loaded_at TIMESTAMP
//
// (Redshift/PostgreSQL types as auto_create makes them; timestamps are UTC
// without zone; loaded_at is the batch's time, the same for every row of one
// transaction). auto_create creates only the tables valid records name,
// which the model allows (and the failures table); it adds SORTKEY
// (fired_ts) on Redshift and an index on (uuid, expand_index) on
// PostgreSQL, takes data column types from TableSchemas (the model) or
// infers them from the msgpack values (str VARCHAR(65535)/text, int
// BIGINT, float DOUBLE PRECISION, bool BOOLEAN), and marks each table it
// makes with COMMENT ON TABLE ... IS 'whirlpool auto_create' (kept in
// pg_description on both databases). It adds columns (ALTER TABLE ... ADD
// COLUMN) only to tables with that comment: a table someone else made is
// never altered.
//
// The failures table (failures_table, default failures.events):
//
//	uuid VARCHAR(64), expand_index INTEGER (-1: not expanded), fired_ts TIMESTAMP,
//	game, version, event, definition_version VARCHAR(128),
//	raw_event SUPER/text   the client's event (a valid record's JSON for load failures),
//	errors SUPER/text      JSON list of {code, path, rule, expected, actual, message},
//	error_codes VARCHAR(1024)/text  the distinct codes, comma-joined, for filtering,
//	failed_at TIMESTAMP (when the output received it), loaded_at TIMESTAMP,
//	raw_event_bytes BIGINT, raw_event_sha256 VARCHAR(64)/text
//	                       when raw_event holds only the first bytes of the raw text (or none, for
//	                       a row the table refused whole): the whole text's length and SHA-256 (hex)
//
// with SORTKEY (failed_at) on Redshift. A pre-created failures table may
// omit columns (only uuid is required); a failure row's text is made
// loadable (invalid UTF-8 and NUL become U+FFFD; cut to a VARCHAR(n)).
// raw_event keeps at most max_event_size bytes (WithMaxEventSize), cut at
// a character boundary, whether the record's body was cut upstream (its
// body_bytes and body_sha256 are kept) or here (the digest is of the text
// as received); see filters/validate.
//
// # SQL, per batch (one transaction), dedupe on
//
// insert (both dialects), Redshift:
//
//	BEGIN
//	CREATE TEMP TABLE "whirlpool_stage_N" AS SELECT <cols> FROM "s"."t" LIMIT 0
//	INSERT INTO "whirlpool_stage_N" (<cols>) VALUES ('..', ..), (..)   -- as many as fit in 16 MB each
//	DELETE FROM "whirlpool_stage_N" USING "s"."t" WHERE "whirlpool_stage_N"."uuid" = "s"."t"."uuid" AND "whirlpool_stage_N"."expand_index" = "s"."t"."expand_index"
//	INSERT INTO "s"."t" (<cols>) SELECT <cols> FROM "whirlpool_stage_N"
//	DROP TABLE "whirlpool_stage_N"
//	... the same for every table, the failures table last (keyed by uuid, expand_index) ...
//	COMMIT
//
// Values are string literals the database coerces to the column type
// ('12' into BIGINT), so a bad value is a data error of its row, never a
// silent conversion; JSON text bound for SUPER columns is JSON_PARSE('..').
// Redshift literals double quotes and backslashes; PostgreSQL gets E'..'.
//
// copy (Redshift only): per table, the rows as gzip'd JSON lines, exactly
// one line per row (JSON text for SUPER columns is compacted; see
// encode.go), files of at most 32 MB before compression, a JSONPaths file
// and a manifest under
// s3://<s3_bucket>/<s3_prefix>YYYY/MM/DD/<batch UUIDv7>/<schema>.<table>/,
// then in the transaction the same staging pattern with
//
//	COPY "whirlpool_stage_N" (<cols>) FROM 's3://.../manifest.json' IAM_ROLE 'arn:...' (or IAM_ROLE default, or CREDENTIALS '...')
//	  MANIFEST FORMAT AS JSON 's3://.../jsonpaths.json' GZIP TIMEFORMAT 'auto' [REGION '<s3_region>'] COMPUPDATE OFF STATUPDATE OFF
//
// instead of the INSERTs. Staged objects are not deleted: give the prefix
// an S3 lifecycle rule.
//
// pg_copy and insert on PostgreSQL: dedupe reads the keys instead of
// staging (the same result without writing each row twice):
//
//	BEGIN
//	LOCK TABLE "s"."t" IN SHARE ROW EXCLUSIVE MODE      -- serialises loaders; readers go on
//	SELECT "uuid", "expand_index" FROM "s"."t" WHERE "uuid" = ANY(CAST(E'{"u1",...}' AS text[]))
//	COPY "s"."t" (<cols>) FROM STDIN                    -- (insert: INSERT INTO "s"."t" ... VALUES ...) the rows not found
//	... every table, the failures table last ...
//	COMMIT
//
// With dedupe off the rows go straight into the table. Duplicates inside
// one batch are removed before any SQL.
//
// # Errors
//
// A database error of SQLSTATE class 22 (data exception) or 23 (integrity)
// while loading a table is narrowed to the rows at fault by bisection:
// each probe is BEGIN, the table's statements for half the rows,
// ROLLBACK (no SAVEPOINT, which Redshift lacks). Those rows become
// LOAD_REJECTED failures with the database's message and the batch is
// loaded again without them. In copy mode the rows are found instead in
// STL_LOAD_ERRORS (SELECT ... FROM stl_load_errors WHERE query =
// pg_last_copy_id(), after the ROLLBACK: file and line name the row); COPY
// stops at the first bad row (MAXERROR 0), so each attempt isolates one.
// A failure row the failures table refuses is stored without its raw
// event; refused again, it is dropped with an error log
// (Stats.FailuresDropped).
//
// Errors of one event table never fail the batch: when a table's
// description, CREATE, ALTER or load fails with an error retrying cannot
// change (any SQLSTATE but the classes below: no privilege, a view, a
// schema that cannot be made, ...), every row bound to that table becomes
// a failure row (DESTINATION_NOT_FOUND for its DDL, DESTINATION_SCHEMA_MISMATCH
// for an added column, LOAD_REJECTED for its load) and the batch is loaded
// again without it, so a bad table cannot stall the pipeline under
// Retry_Limit no_limits. Transient errors (anything that is not the
// database's answer: connection refused or lost, timeouts, S3 errors; and
// SQLSTATE classes 08, 40 serialization and deadlock, 53, 57, 58, XX) and
// any error of the failures table fail the whole batch: every flush in it
// answers Retry, logged once per outage and again when loading resumes.
//
// # Group commit
//
// Flushes that run at once (Fluent Bit Workers N) and flushes that come
// while a batch loads share one transaction, up to batch_max_rows rows and
// batch_max_bytes bytes. A batch starts when a limit is reached, when
// batch_max_wait has passed since its first flush, or as soon as every
// flush in progress is waiting on it and as many are waiting as ever ran
// at once (so with Workers 0 or 1, or a lull, nothing waits for the
// timer). One batch loads at a time per instance.
package redshift
