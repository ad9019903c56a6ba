BEGIN
LOCK TABLE "game"."ledger" IN SHARE ROW EXCLUSIVE MODE
SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off
SELECT "uuid", "expand_index" FROM "game"."ledger" WHERE "uuid" = ANY(CAST(E'{"u1"}' AS text[])) AND "fired_ts" BETWEEN '2026-11-21 23:45:27' AND '2026-11-21 23:45:28'
RESET enable_seqscan; RESET enable_bitmapscan
COPY "game"."ledger" ("uuid", "fired_ts", "game", "version", "event", "definition_version", "expand_index", "loaded_at", "item", "amount") FROM STDIN
	u1	2026-11-21T23:45:27.123Z	space	1.2	buy	3	-1	<now>	sword	3
LOCK TABLE "game"."purchase" IN SHARE ROW EXCLUSIVE MODE
SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off
SELECT "uuid", "expand_index" FROM "game"."purchase" WHERE "uuid" = ANY(CAST(E'{"u1","u2"}' AS text[])) AND "fired_ts" BETWEEN '2026-11-21 23:45:27' AND '2026-11-21 23:45:28'
RESET enable_seqscan; RESET enable_bitmapscan
COPY "game"."purchase" ("uuid", "fired_ts", "game", "version", "event", "definition_version", "expand_index", "loaded_at", "item", "amount") FROM STDIN
	u1	2026-11-21T23:45:27.123Z	space	1.2	buy	3	-1	<now>	sword	3
	u2	2026-11-21T23:45:27.123Z	space	1.2	buy	3	0	<now>	it's	4
LOCK TABLE "failures"."events" IN SHARE ROW EXCLUSIVE MODE
SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off
SELECT "uuid", "expand_index" FROM "failures"."events" WHERE "uuid" = ANY(CAST(E'{"f1"}' AS text[])) AND "fired_ts" BETWEEN '2026-11-21 23:45:27' AND '2026-11-21 23:45:28'
RESET enable_seqscan; RESET enable_bitmapscan
COPY "failures"."events" ("uuid", "expand_index", "fired_ts", "game", "version", "event", "definition_version", "raw_event", "errors", "error_codes", "failed_at", "loaded_at") FROM STDIN
	f1	-1	2026-11-21 23:45:27.123	space	1.2	kill	\N	{"score":"high"}	[{"code":"FIELD_TYPE_MISMATCH","message":"m","path":"$.score"}]	FIELD_TYPE_MISMATCH	<now>	<now>
COMMIT
