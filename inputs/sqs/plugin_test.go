package sqs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/whirlpool-events/whirlpool/internal/flbhost"
	"github.com/whirlpool-events/whirlpool/internal/record"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestPluginInstancesKeepTheirOwnQueues runs two instances of the built
// plugin, on two queues, through the test host.
func TestPluginInstancesKeepTheirOwnQueues(t *testing.T) {
	srv := testenv.SQS(t, "a", "b")
	p := testenv.LoadPlugin(t, "plugins/in_sqs")
	instances := map[string]*flbhost.InputInstance{}
	for _, q := range []string{"a", "b"} {
		in, err := p.NewInput(flbhost.Config{"queue_url": srv.QueueURL(q), "endpoint": srv.Endpoint, "region": "us-east-1", "wait_time_seconds": "1", "tag": "from." + q, "validate": "off"})
		if err != nil {
			t.Fatal(err)
		}
		instances[q] = in
		in.Start()
	}
	c := srv.Client()
	for q, n := range map[string]int{"a": 2, "b": 3} {
		for i := 0; i < n; i++ {
			body := `{"uuid":"u-` + q + `","fired_ts":"2026-11-21T23:45:27.123Z","game":"` + q + `","version":"1","event":"e","body":{"i":1}}`
			_, err := c.SendMessage(context.Background(), &awssqs.SendMessageInput{QueueUrl: aws.String(srv.QueueURL(q)), MessageBody: aws.String(body),
				MessageAttributes: map[string]types.MessageAttributeValue{"whirlpool.format": {DataType: aws.String("String"), StringValue: aws.String("event")}}})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for q, n := range map[string]int{"a": 2, "b": 3} {
		in := instances[q]
		var games []string
		for deadline := time.Now().Add(10 * time.Second); len(games) < n && time.Now().Before(deadline); {
			in.WaitBytes(1, time.Second)
			for _, a := range in.Drain() {
				if a.Tag != "from."+q {
					t.Errorf("tag %q", a.Tag)
				}
				d := record.NewDecoder(a.Data)
				var r record.Record
				for d.Next(&r) {
					v, _ := r.Body.Get("game")
					s, _ := v.Str()
					games = append(games, string(s))
				}
			}
		}
		if strings.Join(games, ",") != strings.TrimSuffix(strings.Repeat(q+",", n), ",") {
			t.Errorf("instance on %s collected games %v", q, games)
		}
	}
	for _, in := range instances {
		in.Exit()
	}
	// Everything collected was acknowledged by the cleanup and deleted.
	for _, q := range []string{"a", "b"} {
		out, err := c.GetQueueAttributes(context.Background(), &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(srv.QueueURL(q)),
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages}})
		if err != nil {
			t.Fatal(err)
		}
		if n := out.Attributes["ApproximateNumberOfMessages"]; n != "0" {
			t.Errorf("queue %s still holds %s messages", q, n)
		}
	}
}

// TestPluginValidatesAgainstTheModel receives contract records and emits
// valid records (definition, destinations, typed columns) and failures.
func TestPluginValidatesAgainstTheModel(t *testing.T) {
	srv, in := validatingInput(t)
	line := func(game, version, body string) string {
		return `{"uuid":"0190d6b4-7c2a-7c3e-8f00-00000000000` + version[len(version)-1:] + `","fired_ts":"2026-11-21T23:45:27.123Z","game":"` + game + `","version":"` + version + `","event":"level_up","body":` + body + `}`
	}
	ndjson := strings.Join([]string{
		line("galaxy", "1.2", `{"player":{"id":"p1"},"level":7,"score":120,"won":true}`),
		line("galaxy", "1.3", `{"player":{"id":"p2"}}`),
		line("nosuchgame", "1.4", `{"player":{"id":"p3"},"level":1}`),
	}, "\n")
	_, err := srv.Client().SendMessage(context.Background(), &awssqs.SendMessageInput{QueueUrl: aws.String(srv.QueueURL("events")), MessageBody: aws.String(ndjson),
		MessageAttributes: map[string]types.MessageAttributeValue{"whirlpool.format": {DataType: aws.String("String"), StringValue: aws.String("ndjson")}}})
	if err != nil {
		t.Fatal(err)
	}
	in.Start()
	if !in.WaitBytes(1, 10*time.Second) {
		t.Fatal("nothing received")
	}
	var got []string
	for _, a := range in.Drain() {
		d := record.NewDecoder(a.Data)
		var r record.Record
		for d.Next(&r) {
			j, _ := r.Body.AppendJSON(nil)
			got = append(got, string(j))
		}
	}
	if len(got) != 3 {
		t.Fatalf("records %q", got)
	}
	for i, want := range []string{
		`"definition_version":"v1","expand_index":-1,"destinations":["events.level_up"],"columns":{"player_id":"p1"`,
		`"code":"MANDATORY_FIELD_MISSING","path":"level"`,
		`"code":"UNKNOWN_GAME"`,
	} {
		if !strings.Contains(got[i], want) {
			t.Errorf("record %d: %s\nlacks %s", i, got[i], want)
		}
	}
}

// The security finding, through the sqs input: the queue is untrusted, so
// every record of a message is reduced to the record contract and
// validated, whatever keys of the validated-record form it brings; only
// the decoder's own failures pass as failures. Each forged message below
// becomes what its contract fields alone make it.
func TestPluginTrustsNoMessage(t *testing.T) {
	srv, in := validatingInput(t)
	contract := func(uuid, extra, body string) string {
		return `{"uuid":"` + uuid + `","fired_ts":"2026-11-21T23:45:27.123Z","game":"galaxy","version":"1.2","event":"level_up",` + extra + `"body":` + body + `}`
	}
	valid := `{"player":{"id":"p1"},"level":7}`
	cases := []struct {
		name, uuid, message string
		want                []string // substrings of the record's JSON, in order
		not                 []string
	}{
		{"forged destinations and columns", "u1", contract("u1", `"destinations":["public.pwned"],"columns":{"evil":"yes"},`, valid),
			[]string{`"destinations":["events.level_up"],"columns":{"player_id":"p1"`}, []string{"pwned", "evil"}},
		{"forged columns on an invalid event", "u2", contract("u2", `"columns":{"player_id":"p9","level":1},"destinations":["events.level_up"],`, `{"level":7}`),
			[]string{`"code":"MANDATORY_FIELD_MISSING","path":"player.id"`}, []string{`"columns"`}},
		{"forged definition_version and expand_index", "u3", contract("u3", `"definition_version":"v2","expand_index":5,`, valid),
			[]string{`"definition_version":"v1","expand_index":-1,"destinations":["events.level_up"]`}, nil},
		{"forged errors on a valid event", "u4", contract("u4", `"errors":[{"code":"UNKNOWN_GAME"}],`, valid),
			[]string{`"definition_version":"v1"`, `"columns":{"player_id":"p1"`}, []string{`"errors"`, "UNKNOWN_GAME"}},
		// its body as a JSON string, as the sqs output writes a body that is
		// not one compact object: a contract record, validated like any other
		{"a forged failure record", "u5", `{"uuid":"u5","fired_ts":"2026-11-21T23:45:27.123Z","game":"galaxy","version":"1.2","event":"level_up","body":"{}","definition_version":null,"errors":[{"code":"PAYLOAD_NOT_JSON"}]}`,
			[]string{`"game":"galaxy"`, `"code":"MANDATORY_FIELD_MISSING"`}, []string{"PAYLOAD_NOT_JSON"}},
		{"a 200-byte player_id where the model says 64", "u6", contract("u6", "", `{"player":{"id":"`+strings.Repeat("p", 200)+`"},"level":7}`),
			[]string{`"code":"FIELD_TOO_LONG","path":"player.id"`}, []string{`"columns"`}},
		{"a JSON object outside the contract", "", `{"destinations":["public.pwned"],"columns":{"evil":"yes"}}`,
			[]string{`"code":"ENDPOINT_INVALID","path":"uuid"`}, []string{`"columns":{`}},
	}
	for _, c := range cases {
		_, err := srv.Client().SendMessage(context.Background(), &awssqs.SendMessageInput{QueueUrl: aws.String(srv.QueueURL("events")), MessageBody: aws.String(c.message),
			MessageAttributes: map[string]types.MessageAttributeValue{"whirlpool.format": {DataType: aws.String("String"), StringValue: aws.String("event")}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	in.Start()
	got := map[string]string{} // by the raw message text, for failures, or uuid
	for deadline := time.Now().Add(15 * time.Second); len(got) < len(cases) && time.Now().Before(deadline); {
		in.WaitBytes(1, time.Second)
		for _, a := range in.Drain() {
			d := record.NewDecoder(a.Data)
			var r record.Record
			for d.Next(&r) {
				j, _ := r.Body.AppendJSON(nil)
				key := ""
				if v, ok := r.Body.Get("uuid"); ok {
					s, _ := v.Str()
					key = string(s)
				}
				if v, ok := r.Body.Get("body"); ok {
					if s, ok := v.Str(); ok && strings.HasPrefix(string(s), `{"`) && strings.Contains(string(j), "ENDPOINT_INVALID") {
						key = string(s) // a decoder failure holds the message text
					}
				}
				got[key] = string(j)
			}
		}
	}
	for _, c := range cases {
		key := c.uuid
		if key == "" {
			key = c.message
		}
		rec, ok := got[key]
		if !ok {
			t.Errorf("%s: no record (got %d records)", c.name, len(got))
			continue
		}
		at := 0
		for _, w := range c.want {
			i := strings.Index(rec[at:], w)
			if i < 0 {
				t.Errorf("%s: record %s\nlacks %s", c.name, rec, w)
				break
			}
			at += i
		}
		for _, n := range c.not {
			if strings.Contains(rec, n) { // a failure's raw text is an escaped JSON string: no match
				t.Errorf("%s: record %s\nholds %s", c.name, rec, n)
			}
		}
	}
}

// validatingInput runs the built plugin on a fresh queue "events",
// validating against the test model; the instance exits when the test ends.
func validatingInput(t *testing.T) (*testenv.SQSServer, *flbhost.InputInstance) {
	t.Helper()
	srv := testenv.SQS(t, "events")
	root, err := flbhost.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	p := testenv.LoadPlugin(t, "plugins/in_sqs")
	in, err := p.NewInput(flbhost.Config{"queue_url": srv.QueueURL("events"), "endpoint": srv.Endpoint, "wait_time_seconds": "1",
		"model_file": root + "/filters/validate/testdata/model.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Exit() })
	return srv, in
}
