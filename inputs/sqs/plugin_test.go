package sqs_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/whirlpool-events/whirlpool/plugins/flbhost"
	"github.com/whirlpool-events/whirlpool/plugins/record"
	"github.com/whirlpool-events/whirlpool/plugins/testenv"
)

func TestMain(m *testing.M) {
	testenv.ProcessEnv(testenv.AWSTestEnv)
	code := m.Run()
	flbhost.Cleanup()
	os.Exit(code)
}

// TestPluginInstancesKeepTheirOwnQueues runs two instances of the built
// plugin, on two queues, through the test host.
func TestPluginInstancesKeepTheirOwnQueues(t *testing.T) {
	srv := testenv.SQS(t, "a", "b")
	so, err := flbhost.Build("plugins/in_sqs")
	if err != nil {
		t.Fatal(err)
	}
	p, err := flbhost.Load(so)
	if err != nil {
		t.Fatal(err)
	}
	instances := map[string]*flbhost.InputInstance{}
	for _, q := range []string{"a", "b"} {
		in, err := p.NewInput(flbhost.Config{"queue_url": srv.QueueURL(q), "endpoint": srv.Endpoint, "region": "us-east-1", "wait_time_seconds": "1", "tag": "from." + q})
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
	p.Close()
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
