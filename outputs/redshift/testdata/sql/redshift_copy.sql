BEGIN
CREATE TEMP TABLE "whirlpool_stage_1" (LIKE "game"."ledger")
COPY "whirlpool_stage_1" ("uuid", "fired_ts", "game", "version", "event", "definition_version", "expand_index", "loaded_at", "item", "amount") FROM 's3://stage/wp/<day>/<batch>/0/game.ledger/manifest.json' IAM_ROLE default MANIFEST FORMAT AS JSON 's3://stage/wp/<day>/<batch>/0/game.ledger/jsonpaths.json' GZIP TIMEFORMAT 'auto' REGION 'us-east-1' COMPUPDATE OFF STATUPDATE OFF
CREATE TEMP TABLE "whirlpool_stage_2" (LIKE "game"."purchase")
COPY "whirlpool_stage_2" ("uuid", "fired_ts", "game", "version", "event", "definition_version", "expand_index", "loaded_at", "item", "amount") FROM 's3://stage/wp/<day>/<batch>/0/game.purchase/manifest.json' IAM_ROLE default MANIFEST FORMAT AS JSON 's3://stage/wp/<day>/<batch>/0/game.purchase/jsonpaths.json' GZIP TIMEFORMAT 'auto' REGION 'us-east-1' COMPUPDATE OFF STATUPDATE OFF
CREATE TEMP TABLE "whirlpool_stage_3" (LIKE "failures"."events")
COPY "whirlpool_stage_3" ("uuid", "expand_index", "fired_ts", "game", "version", "event", "definition_version", "raw_event", "errors", "error_codes", "failed_at", "loaded_at") FROM 's3://stage/wp/<day>/<batch>/0/failures.events/manifest.json' IAM_ROLE default MANIFEST FORMAT AS JSON 's3://stage/wp/<day>/<batch>/0/failures.events/jsonpaths.json' GZIP TIMEFORMAT 'auto' REGION 'us-east-1' COMPUPDATE OFF STATUPDATE OFF
COMMIT
BEGIN
LOCK "failures"."events"
LOCK "game"."ledger"
LOCK "game"."purchase"
DELETE FROM "whirlpool_stage_3" USING "failures"."events" WHERE "whirlpool_stage_3"."uuid" = "failures"."events"."uuid" AND "whirlpool_stage_3"."expand_index" = "failures"."events"."expand_index" AND "failures"."events"."fired_ts" BETWEEN '2026-11-21 23:45:27' AND '2026-11-21 23:45:28'
INSERT INTO "failures"."events" ("uuid", "expand_index", "fired_ts", "game", "version", "event", "definition_version", "raw_event", "errors", "error_codes", "failed_at", "loaded_at") SELECT "uuid", "expand_index", "fired_ts", "game", "version", "event", "definition_version", "raw_event", "errors", "error_codes", "failed_at", "loaded_at" FROM "whirlpool_stage_3"
DROP TABLE "whirlpool_stage_3"
DELETE FROM "whirlpool_stage_1" USING "game"."ledger" WHERE "whirlpool_stage_1"."uuid" = "game"."ledger"."uuid" AND "whirlpool_stage_1"."expand_index" = "game"."ledger"."expand_index" AND "game"."ledger"."fired_ts" BETWEEN '2026-11-21 23:45:27' AND '2026-11-21 23:45:28'
INSERT INTO "game"."ledger" ("uuid", "fired_ts", "game", "version", "event", "definition_version", "expand_index", "loaded_at", "item", "amount") SELECT "uuid", "fired_ts", "game", "version", "event", "definition_version", "expand_index", "loaded_at", "item", "amount" FROM "whirlpool_stage_1"
DROP TABLE "whirlpool_stage_1"
DELETE FROM "whirlpool_stage_2" USING "game"."purchase" WHERE "whirlpool_stage_2"."uuid" = "game"."purchase"."uuid" AND "whirlpool_stage_2"."expand_index" = "game"."purchase"."expand_index" AND "game"."purchase"."fired_ts" BETWEEN '2026-11-21 23:45:27' AND '2026-11-21 23:45:28'
INSERT INTO "game"."purchase" ("uuid", "fired_ts", "game", "version", "event", "definition_version", "expand_index", "loaded_at", "item", "amount") SELECT "uuid", "fired_ts", "game", "version", "event", "definition_version", "expand_index", "loaded_at", "item", "amount" FROM "whirlpool_stage_2"
DROP TABLE "whirlpool_stage_2"
COMMIT
