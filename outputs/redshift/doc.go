// Package redshift is the pure-Go logic of the "redshift" output: it loads
// validated records (see filters/validate) into Amazon Redshift or
// PostgreSQL, valid events into their destination tables and failures into
// one failures table. plugins/out_redshift registers Plugin.
//
// # Shape
//
// Like a Vector sink: config (Properties) → router (record → rows per
// table, Flush) → batcher (group commit, run) → service (plan: table
// metadata and auto_create; load: one transaction per batch, two with
// dedupe on Redshift (stage, then append); S3 staging for load_method
// copy). A Flush returns OK only after the transaction appending its
// records committed, Retry when it did not (nothing of the batch is in its
// tables then, and dedupe makes the re-flush exact).
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
// Event tables, as auto_create makes them (layout.go): the metadata
// columns, then the data columns. Redshift:
//
//	CREATE TABLE IF NOT EXISTS "s"."t" (
//	  "uuid" CHAR(36) ENCODE ZSTD NOT NULL, "fired_ts" TIMESTAMP ENCODE RAW NOT NULL,
//	  "game" VARCHAR(128) ENCODE ZSTD, "version" VARCHAR(128) ENCODE ZSTD, "event" VARCHAR(128) ENCODE ZSTD,
//	  "definition_version" VARCHAR(128) ENCODE ZSTD, "expand_index" INTEGER ENCODE AZ64 NOT NULL,
//	  "loaded_at" TIMESTAMP DEFAULT GETDATE() ENCODE AZ64, <data columns>
//	) DISTSTYLE KEY DISTKEY ("uuid") SORTKEY ("fired_ts")
//
// PostgreSQL: uuid VARCHAR(36) NOT NULL, fired_ts TIMESTAMP NOT NULL, game,
// version, event, definition_version text, expand_index INTEGER NOT NULL,
// loaded_at TIMESTAMP DEFAULT (now() AT TIME ZONE 'UTC'), and CREATE INDEX
// "<table>_whirlpool_key" ON "s"."t" ("uuid", "expand_index") for dedupe.
// Data columns take their types from TableSchemas (the model: string
// VARCHAR(max_length), integer BIGINT, number DOUBLE PRECISION, boolean
// BOOLEAN, timestamp TIMESTAMP, object/array SUPER; TEXT on PostgreSQL) or
// from the msgpack value (str VARCHAR(256), the model's default max_length,
// /text; int BIGINT; float DOUBLE PRECISION; bool BOOLEAN; array, map
// SUPER/text); a longer string is a LOAD_REJECTED row, never cut. On
// Redshift every column states its encoding, since stating one turns ENCODE
// AUTO off for the table: RAW for fired_ts (the first sort key column),
// AZ64 for integers and timestamps, ZSTD for CHAR and VARCHAR; BOOLEAN,
// DOUBLE PRECISION and SUPER keep Redshift's defaults (RAW, RAW, ZSTD).
//
// The failures table (failures_table, default failures.events), the same
// way, with DISTKEY ("uuid") SORTKEY ("fired_ts") and an index on (uuid) on
// PostgreSQL:
//
//	uuid CHAR(36)/VARCHAR(36) NOT NULL, expand_index INTEGER NOT NULL (-1: not expanded),
//	fired_ts TIMESTAMP NOT NULL (the chunk record's time when the record has no readable one; 1970-01-01 for an undecodable chunk),
//	game, version, event, definition_version VARCHAR(128)/text,
//	raw_event SUPER/text   the client's event (a valid record's JSON for load failures),
//	errors SUPER/text      JSON list of {code, path, rule, expected, actual, message},
//	error_codes VARCHAR(1024)/text  the distinct codes, comma-joined, for filtering,
//	failed_at TIMESTAMP NOT NULL (when the output received it), loaded_at TIMESTAMP DEFAULT ...,
//	raw_event_bytes BIGINT, raw_event_sha256 VARCHAR(64)/text
//	                       when raw_event holds only the first bytes of the raw text (or none, for
//	                       a row the table refused whole): the whole text's length and SHA-256 (hex)
//	raw_event_truncated BOOLEAN    raw_event holds less than the whole text
//	raw_event_s3_uri VARCHAR(1024)/text  s3:// object holding the text raw_event could not
//	replayed_at TIMESTAMP  when replay (whirlpool-model replay) loaded the event as rows; NULL
//	                       until then. The output never writes it.
//
// Timestamps are UTC without zone; COMMENT ON COLUMN says so on fired_ts,
// loaded_at, failed_at and replayed_at. auto_create creates only the tables valid
// records name, which the model allows (and the failures table), and marks
// each with COMMENT ON TABLE ... IS 'whirlpool auto_create' (kept in
// pg_description on both databases). It adds columns (ALTER TABLE ... ADD
// COLUMN "c" <type> [ENCODE e], one per statement, nullable, without
// DEFAULT) only to tables with that comment: a table someone else made is
// never altered.
//
// loaded_at comes from its DEFAULT: the output leaves a loaded_at with a
// default out of every column list (INSERT, COPY, staging), so the
// database's clock fills it. A table from before the default (the old
// layout: uuid VARCHAR(64) nullable, no NOT NULL or DISTKEY, loaded_at
// without DEFAULT) keeps loading unchanged, and the output sends loaded_at
// itself: the batch's time, the same for every row of one transaction.
//
// A failure row always fits: its uuid is the record's when that is 1 to 36
// printable ASCII characters (Redshift's CHAR holds single-byte characters
// only), else a UUIDv7 derived from it, the raw text and fired_ts (the same
// record failing again gets the same uuid, so dedupe keeps one row); a
// pre-created failures table may omit columns (only uuid is required); its
// text is made loadable (invalid UTF-8 and NUL become U+FFFD; cut to a
// VARCHAR(n)). raw_event keeps at most max_event_size bytes
// (WithMaxEventSize), cut at a character boundary, whether the record's
// body was cut upstream (its body_bytes and body_sha256 are kept) or here
// (the digest is of the text as received); see filters/validate. In a SUPER
// raw_event (superlimit.go) the text stays whole only when it is JSON of at
// most 3 MB whose strings fit SUPER's 65,535 bytes (nesting within 1,000),
// or other text of at most 65,535 bytes; else raw_event holds its first
// 65,535 bytes as a SUPER string, and with load_method copy the whole text
// is written to s3://<s3_bucket>/<s3_prefix>raw_events/<sha256 of it>
// (raw_event_s3_uri). A SUPER errors list over 500 KB keeps the errors that
// fit, each string cut to 4 KB, then one {"rule": "truncated"} object
// saying how many were left out. So a row's COPY line stays under 4 MB.
//
// # SQL, per batch, dedupe on
//
// Redshift (insert and copy): two transactions. The first stages every
// table's rows, the failures table last:
//
//	BEGIN
//	CREATE TEMP TABLE "whirlpool_stage_N" (LIKE "s"."t")
//	INSERT INTO "whirlpool_stage_N" (<cols>) VALUES ('..', ..), (..)   -- as many as fit in 16 MB each
//	... the same for every table ...
//	COMMIT
//
// (LIKE, AWS's documented merge pattern, keeps the target's column types,
// encodings and keys; CREATE TABLE AS ... LIMIT 0 would not.) A temporary
// table lives as long as the session, so the stages outlive this COMMIT;
// should the second transaction fail they are dropped (one DROP TABLE IF
// EXISTS naming them all) before the batch is retried. The second appends, under a lock:
//
//	BEGIN
//	LOCK "s"."t"                               -- every target, in the order of their quoted names
//	DELETE FROM "whirlpool_stage_N" USING "s"."t" WHERE "whirlpool_stage_N"."uuid" = "s"."t"."uuid"
//	  AND "whirlpool_stage_N"."expand_index" = "s"."t"."expand_index"
//	  AND "s"."t"."fired_ts" BETWEEN '<lo>' AND '<hi>'
//	INSERT INTO "s"."t" (<cols>) SELECT <cols> FROM "whirlpool_stage_N"
//	DROP TABLE "whirlpool_stage_N"
//	... every table, in the same order ...
//	COMMIT
//
// Exactly once with many loaders: processors are competing consumers, and
// a retried chunk may reach another loader while the first is still
// loading it. Without a lock two loaders can each find a key absent and
// both insert it: under snapshot isolation (the default of Serverless
// workgroups and of new provisioned clusters) nothing stops them, under
// serializable one of them fails with error 1023. The lock makes the check
// and the append one step per target. Redshift takes a transaction's
// snapshot at its first SELECT, DML or CREATE/DROP/ALTER TABLE, not at
// BEGIN or LOCK; LOCK is the first statement of the second transaction, so
// its snapshot is taken once the lock is held and sees what the previous
// holder committed (which is also why staging, whose CREATE TEMP TABLE
// takes a snapshot, is a transaction of its own). Staging takes no lock:
// the slow part (INSERTs, COPY from S3) runs in parallel across loaders,
// and the lock is held only for the dedupe, the append and the COMMIT. The
// price is a second COMMIT per batch. Locking in one order (sorted quoted
// names, the failures table among them) means two loaders never hold one
// lock each while waiting for the other's.
//
// The lock is Redshift's LOCK on the target itself (ACCESS EXCLUSIVE): it
// also holds readers of that table for that span, and waits for queries
// running on it. A per-target sentinel table would spare readers, but it
// is an object the output would have to create (and be allowed to create)
// next to every table, and exclusion holds only if every loader locks the
// same object: a loader that could not make the sentinel could not fall
// back to locking the target without letting a duplicate through. The
// target's own lock needs nothing beyond the table, and is held briefly.
// A LOCK that fails (no privilege, a lock timeout) fails the batch, which
// is retried: it never diverts rows.
//
// The fired_ts bound: fired_ts is fixed per uuid at the edge and a retry
// carries the same events, so a row already loaded with a batch row's key
// holds the same fired_ts. <lo> and <hi> are the batch's least and
// greatest fired_ts for that table, widened to whole seconds and to both
// readings of a time with a zone offset (the UTC instant, and the clock
// time a TIMESTAMP keeps when it ignores the offset), so Redshift scans
// only the blocks of that range (event tables are sorted by fired_ts). A
// failure row may have no fired_ts (a record without a readable one): when
// some of the batch's failure rows have none, the bound becomes
// ("fired_ts" BETWEEN .. OR "fired_ts" IS NULL), so their duplicates,
// also NULL, are still found. The failures table is sorted by failed_at,
// which cannot bound anything (a retry fails again later), but its zone
// maps still skip blocks out of the fired_ts range. No bound is added to a
// table whose fired_ts is not a TIMESTAMP (text compares as text,
// timestamptz in the session's zone) or when a batch row's fired_ts cannot
// be read.
//
// Values are string literals the database coerces to the column type
// ('12' into BIGINT), so a bad value is a data error of its row, never a
// silent conversion; JSON text bound for SUPER columns is JSON_PARSE('..').
// Redshift literals double quotes and backslashes; PostgreSQL gets E'..'.
//
// copy (Redshift only): per table, the rows as gzip'd JSON lines, exactly
// one line per row (JSON text for SUPER columns is compacted; see
// encode.go), files of at most 32 MB before compression (one COPY per
// table reads them all through its manifest), a JSONPaths file and a
// manifest under
// s3://<s3_bucket>/<s3_prefix>YYYY/MM/DD/<batch UUIDv7>/<attempt>/<schema>.<table>/
// (a folder per attempt of the batch: line n of an attempt's file is always
// the same row, even when the load error view shows it only after a later
// attempt), then in the first transaction
//
//	COPY "whirlpool_stage_N" (<cols>) FROM 's3://.../manifest.json' IAM_ROLE 'arn:...' (or IAM_ROLE default, or CREDENTIALS '...')
//	  MANIFEST FORMAT AS JSON 's3://.../jsonpaths.json' GZIP TIMEFORMAT 'auto' [REGION '<s3_region>'] COMPUPDATE OFF STATUPDATE OFF
//
// instead of the INSERTs. Staged objects are not deleted: give the prefix
// an S3 lifecycle rule.
//
// pg_copy and insert on PostgreSQL: dedupe reads the keys instead of
// staging (the same result without writing each row twice), in one
// transaction:
//
//	BEGIN
//	LOCK TABLE "s"."t" IN SHARE ROW EXCLUSIVE MODE      -- serialises loaders; readers go on
//	SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off
//	SELECT "uuid", "expand_index" FROM "s"."t" WHERE "uuid" = ANY(CAST(E'{"u1",...}' AS text[]))
//	  AND "fired_ts" BETWEEN '<lo>' AND '<hi>'
//	RESET enable_seqscan; RESET enable_bitmapscan
//	COPY "s"."t" (<cols>) FROM STDIN                    -- (insert: INSERT INTO "s"."t" ... VALUES ...) the rows not found
//	... every table, the failures table last ...
//	COMMIT
//
// Every loader locks the event tables in name order, then the failures
// table. PostgreSQL's default isolation (read committed) gives each
// statement a fresh snapshot, so the SELECT after the LOCK sees every row
// committed before it. The settings around the SELECT make it probe the
// (uuid, expand_index) index once per key (txn.go, indexProbesOnly, says
// why), so that its cost follows the batch, not the table.
//
// With dedupe off the rows go straight into the table, in one
// transaction. Duplicates inside one batch are removed before any SQL.
//
// # Errors
//
// A database error of SQLSTATE class 22 (data exception) or 23 (integrity)
// while loading a table is narrowed to the rows at fault by bisection:
// each probe is BEGIN, the table's statements for half the rows (on
// Redshift: staging them), ROLLBACK (no SAVEPOINT, which Redshift lacks).
// Those rows become LOAD_REJECTED failures with the database's message and
// the batch is loaded again without them. In copy mode the COPY fails with
// "Load into table '...' failed. Check 'stl_load_errors' system table for
// details." on a provisioned cluster, "... Check 'sys_load_error_detail'
// ..." on Serverless; either way, after the ROLLBACK the rows are found in
//
//	SELECT TRIM(file_name), line_number, TRIM(column_name), error_code, TRIM(error_message)
//	  FROM sys_load_error_detail WHERE file_name LIKE 's3://.../<batch UUIDv7>/%/<schema>.<table>/%' ORDER BY start_time, line_number
//
// (file and line name the row). SYS_LOAD_ERROR_DETAIL exists on both kinds
// of cluster (STL tables cannot be queried on Serverless), and it is read
// by the files' S3 folder (the batch's, across its attempts), not by
// pg_last_copy_id(), which a COPY whose transaction rolled back does not
// update. COPY stops at the first bad row (MAXERROR 0), so each attempt
// isolates one.
//
// A refusal that names no row (bisection finds none, or the load error
// view has no new line of the batch's files, perhaps not yet) is tried
// again, up to max_load_attempts times for that table within the batch;
// then the table's rows become LOAD_REJECTED failures with the database's
// message (Stats.LoadsRefused), so the batch cannot loop forever. Only
// such refusals count: an outage (connection refused or lost, timeouts, S3
// errors, the transient SQLSTATEs below) or a conflict is retried without
// limit and loses nothing. A failure row the failures table refuses is
// stored without its raw event; refused again, it is dropped with an
// error log (Stats.FailuresDropped). When the failures table refuses
// without naming a row, its rows go the same way, each step after
// max_load_attempts refusals.
//
// A conflict with another transaction (Redshift's "ERROR: 1023 DETAIL:
// Serializable isolation violation on table ...", SQLSTATE XX000; or
// SQLSTATE 40001, 40P01) rolls the batch back: nothing of it committed.
// It is counted (Stats.Conflicts), logged with the database's message, and
// the batch runs again at once, up to 3 times, then Fluent Bit's retry
// takes over. With the locks above only a writer that takes none (not a
// whirlpool loader) can cause one.
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
// batch_max_wait (default 60 s with dialect redshift, where every commit is
// costly and few large batches load best; 2 s with postgres) has passed
// since its first flush, or as soon as every
// flush in progress is waiting on it and as many are waiting as ever ran
// at once (so with Workers 0 or 1, or a lull, nothing waits for the
// timer). One batch loads at a time per instance.
package redshift
