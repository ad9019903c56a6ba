BEGIN
LOCK TABLE "game"."ledger" IN SHARE ROW EXCLUSIVE MODE
SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off
SELECT "uuid", "expand_index" FROM "game"."ledger" WHERE "uuid" = ANY(CAST(E'{"u1"}' AS text[])) AND "fired_ts" BETWEEN '2026-11-21 23:45:27' AND '2026-11-21 23:45:28'
RESET enable_seqscan; RESET enable_bitmapscan
INSERT INTO "game"."ledger" ("uuid", "fired_ts", "game", "version", "event", "definition_version", "expand_index", "loaded_at", "item", "amount") VALUES (E'u1', E'2026-11-21T23:45:27.123Z', E'space', E'1.2', E'buy', E'3', E'-1', E'<now>', E'sword', E'3')
LOCK TABLE "game"."purchase" IN SHARE ROW EXCLUSIVE MODE
SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off
SELECT "uuid", "expand_index" FROM "game"."purchase" WHERE "uuid" = ANY(CAST(E'{"u1","u2"}' AS text[])) AND "fired_ts" BETWEEN '2026-11-21 23:45:27' AND '2026-11-21 23:45:28'
RESET enable_seqscan; RESET enable_bitmapscan
INSERT INTO "game"."purchase" ("uuid", "fired_ts", "game", "version", "event", "definition_version", "expand_index", "loaded_at", "item", "amount") VALUES (E'u1', E'2026-11-21T23:45:27.123Z', E'space', E'1.2', E'buy', E'3', E'-1', E'<now>', E'sword', E'3'), (E'u2', E'2026-11-21T23:45:27.123Z', E'space', E'1.2', E'buy', E'3', E'0', E'<now>', E'it''s', E'4')
LOCK TABLE "failures"."events" IN SHARE ROW EXCLUSIVE MODE
SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off
SELECT "uuid", "expand_index" FROM "failures"."events" WHERE "uuid" = ANY(CAST(E'{"f1"}' AS text[])) AND "fired_ts" BETWEEN '2026-11-21 23:45:27' AND '2026-11-21 23:45:28'
RESET enable_seqscan; RESET enable_bitmapscan
INSERT INTO "failures"."events" ("uuid", "expand_index", "fired_ts", "game", "version", "event", "definition_version", "raw_event", "errors", "error_codes", "failed_at", "loaded_at") VALUES (E'f1', E'-1', E'2026-11-21 23:45:27.123', E'space', E'1.2', E'kill', NULL, E'{"score":"high"}', E'[{"code":"FIELD_TYPE_MISMATCH","message":"m","path":"$.score"}]', E'FIELD_TYPE_MISMATCH', E'<now>', E'<now>')
COMMIT
