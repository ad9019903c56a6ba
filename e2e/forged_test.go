package e2e

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// TestForgedMessagesCannotChooseTables is the security finding end to end:
// whoever can write to the queue sends messages that name their own
// destinations, columns, errors, definition and expand index, or are
// failure records, or carry a too-long value. The processor (sqs input
// with validation, redshift output with auto_create on) turns each into
// what its contract fields alone make it: a failure row, or a valid row of
// the model. No table outside the model is created, no column outside the
// definition is written, and the model store is unchanged.
func TestForgedMessagesCannotChooseTables(t *testing.T) {
	s := newStack(t, testenv.Postgres(t), stackOptions{})
	before := testenv.ModelStoreDigest(t, s.db)
	s.startProcessor()

	contract := func(uuid, extra, body string) string {
		return `{"uuid":"` + uuid + `","fired_ts":"2026-11-21T23:45:27.123Z","game":"galaxy","version":"1.2","event":"level_up",` + extra + `"body":` + body + `}`
	}
	valid := `{"player":{"id":"p1"},"level":7}`
	messages := []string{
		// the finding's message: a record naming its own table and column
		`{"uuid":"f1","fired_ts":"2026-11-21T23:45:27.123Z","game":"galaxy","version":"1.2","event":"level_up","destinations":["public.pwned"],"columns":{"evil":"yes"}}`,
		contract("f2", `"destinations":["public.pwned","whirlpool_model.games"],"columns":{"evil":"yes","name":"x"},`, valid),
		contract("f3", `"columns":{"player_id":"p9","level":1},"destinations":["events.level_up"],`, `{"level":7}`),
		contract("f4", `"definition_version":"v2","expand_index":5,"destinations":["events.level_up_v2"],`, valid),
		contract("f5", `"errors":[{"code":"UNKNOWN_GAME"}],"destinations":["pg_catalog.pg_class"],"columns":{"relname":"x"},`, valid),
		`{"uuid":"f6","fired_ts":"2026-11-21T23:45:27.123Z","game":"galaxy","version":"1.2","event":"level_up","body":"{}","definition_version":"v1","errors":[{"code":"PAYLOAD_NOT_JSON"}],"destinations":["public.pwned"]}`,
		contract("f7", "", `{"player":{"id":"`+strings.Repeat("p", 200)+`"},"level":7}`),
	}
	for i, m := range messages {
		_, err := s.sqs.Client().SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(s.queue), MessageBody: aws.String(m),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{"whirlpool.format": {DataType: aws.String("String"), StringValue: aws.String("event")}}})
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	s.finish(drainTimeout)

	if got := userTables(t, s.db); !reflect.DeepEqual(got, []string{"events.level_up", "failures.events"}) {
		t.Errorf("tables %v, want events.level_up and failures.events", got)
	}
	if got := testenv.QueryRows(t, s.db, `SELECT uuid, definition_version, expand_index, player_id, level FROM events.level_up ORDER BY uuid`); fmt.Sprint(got) != "[[f2 v1 -1 p1 7] [f4 v1 -1 p1 7] [f5 v1 -1 p1 7]]" {
		t.Errorf("events.level_up = %v: want f2, f4 and f5 validated from their bodies alone", got)
	}
	if got := testenv.QueryRows(t, s.db, `SELECT count(*) FROM information_schema.columns WHERE column_name IN ('evil', 'relname', 'name')
		AND table_schema NOT IN ('pg_catalog', 'information_schema', 'whirlpool_model')`); got[0][0] != "0" {
		t.Errorf("%s columns named by forged records exist", got[0][0])
	}
	failures := map[string]string{}
	for _, r := range testenv.QueryRows(t, s.db, `SELECT uuid, error_codes, raw_event FROM failures.events`) {
		key := r[0]
		switch {
		case strings.Contains(r[2], `"uuid":"f1"`):
			key = "f1"
		case strings.Contains(r[2], `"uuid":"f6"`):
			key = "f6"
		}
		failures[key] = r[1]
	}
	want := map[string]string{"f1": "ENDPOINT_INVALID", "f3": "MANDATORY_FIELD_MISSING", "f6": "MANDATORY_FIELD_MISSING", "f7": "FIELD_TOO_LONG"}
	if !reflect.DeepEqual(failures, want) {
		t.Errorf("failure rows %v, want %v", failures, want)
	}
	if after := testenv.ModelStoreDigest(t, s.db); after != before {
		t.Errorf("the model store changed")
	}
}
