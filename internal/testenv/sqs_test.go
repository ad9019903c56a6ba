package testenv_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// These tests pin what the emulator does for the behaviour Whirlpool relies
// on, so a change of local-aws-sqs version that breaks it shows here first.

func receiveAll(t *testing.T, c *sqs.Client, url string) []types.Message {
	t.Helper()
	var all []types.Message
	for {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl:              &url,
			MaxNumberOfMessages:   10,
			MessageAttributeNames: []string{"All"},
			//lint:ignore SA1019 the emulator reads the older AttributeNames only, not MessageSystemAttributeNames
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return all
		}
		all = append(all, out.Messages...)
	}
}

func TestSQSStandardQueue(t *testing.T) {
	s := testenv.SQS(t, "events")
	c := s.Client()
	url := s.QueueURL("events")
	if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("endpoint %q is not on loopback", s.Endpoint)
	}
	got, err := c.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("events")})
	if err != nil {
		t.Fatal(err)
	}
	if *got.QueueUrl != url {
		t.Errorf("GetQueueUrl = %q, QueueURL = %q", *got.QueueUrl, url)
	}

	attrs := map[string]types.MessageAttributeValue{
		"whirlpool.format": {DataType: aws.String("String"), StringValue: aws.String("ndjson")},
		"whirlpool.count":  {DataType: aws.String("Number"), StringValue: aws.String("2")},
	}
	out, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
		QueueUrl: &url,
		Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("0"), MessageBody: aws.String("{\"a\":1}\n{\"b\":\"é\"}"), MessageAttributes: attrs},
			{Id: aws.String("1"), MessageBody: aws.String("second")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 2 || len(out.Failed) != 0 {
		t.Fatalf("batch: %d ok, %d failed", len(out.Successful), len(out.Failed))
	}
	msgs := receiveAll(t, c, url)
	if len(msgs) != 2 {
		t.Fatalf("received %d messages, want 2", len(msgs))
	}
	bodies := map[string]types.Message{}
	for _, m := range msgs {
		bodies[*m.Body] = m
	}
	m, ok := bodies["{\"a\":1}\n{\"b\":\"é\"}"]
	if !ok {
		t.Fatalf("body not kept byte for byte: %d messages", len(bodies))
	}
	if f := m.MessageAttributes["whirlpool.format"]; f.StringValue == nil || *f.StringValue != "ndjson" || *f.DataType != "String" {
		t.Errorf("string attribute: %+v", f)
	}
	if n := m.MessageAttributes["whirlpool.count"]; n.StringValue == nil || *n.StringValue != "2" || *n.DataType != "Number" {
		t.Errorf("number attribute: %+v", n)
	}
}

func TestSQSMessageSizeLimit(t *testing.T) {
	s := testenv.SQS(t, "big")
	c := s.Client()
	url := s.QueueURL("big")
	attr := map[string]types.MessageAttributeValue{
		"k": {DataType: aws.String("String"), StringValue: aws.String("v")},
	}
	// 1 MiB counts the body and the attributes (name, type, value).
	attrBytes := len("k") + len("String") + len("v")
	fits := strings.Repeat("x", 1<<20-attrBytes)
	over := fits + "x"
	out, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
		QueueUrl: &url,
		Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("fits"), MessageBody: &fits, MessageAttributes: attr},
		},
	})
	if err != nil {
		t.Fatalf("a message of exactly 1 MiB with its attributes: %v", err)
	}
	if len(out.Successful) != 1 {
		t.Fatalf("a message of exactly 1 MiB failed: %+v", out.Failed)
	}
	out, err = c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
		QueueUrl: &url,
		Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("over"), MessageBody: &over, MessageAttributes: attr},
		},
	})
	if err != nil {
		// The batch is also over 1 MiB: the emulator refuses it whole.
		var ae smithy.APIError
		if !errors.As(err, &ae) || !strings.Contains(ae.ErrorCode(), "BatchRequestTooLong") {
			t.Fatalf("1 MiB + 1 byte: %v", err)
		}
	} else if len(out.Failed) != 1 {
		t.Fatalf("1 MiB + 1 byte was accepted")
	}

	// Two messages of 600 KB each fit alone but not in one batch.
	half := strings.Repeat("y", 600_000)
	_, err = c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
		QueueUrl: &url,
		Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("a"), MessageBody: &half},
			{Id: aws.String("b"), MessageBody: &half},
		},
	})
	var ae smithy.APIError
	if !errors.As(err, &ae) || !strings.Contains(ae.ErrorCode(), "BatchRequestTooLong") {
		t.Fatalf("a batch over 1 MiB: got %v, want BatchRequestTooLong", err)
	}
}

func TestSQSBatchEntryErrors(t *testing.T) {
	s := testenv.SQS(t, "q")
	c := s.Client()
	url := s.QueueURL("q")
	// A bad entry fails alone; the others of the batch are accepted.
	out, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
		QueueUrl: &url,
		Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("ok"), MessageBody: aws.String("fine")},
			{Id: aws.String("bad"), MessageBody: aws.String("x"), DelaySeconds: 10_000},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Successful) != 1 || *out.Successful[0].Id != "ok" {
		t.Errorf("successful: %+v", out.Successful)
	}
	if len(out.Failed) != 1 || *out.Failed[0].Id != "bad" || !out.Failed[0].SenderFault {
		t.Errorf("failed: %+v", out.Failed)
	}
	if n := len(receiveAll(t, c, url)); n != 1 {
		t.Errorf("queue holds %d messages, want 1", n)
	}
}

func TestSQSFIFOQueue(t *testing.T) {
	s := testenv.SQS(t, "events.fifo")
	c := s.Client()
	url := s.QueueURL("events.fifo")
	qa, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl:       &url,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	if qa.Attributes["FifoQueue"] != "true" {
		t.Fatalf("queue attributes: %v", qa.Attributes)
	}
	send := func(id, group, dedup, body string) *sqs.SendMessageBatchOutput {
		t.Helper()
		e := types.SendMessageBatchRequestEntry{Id: &id, MessageBody: &body, MessageGroupId: &group}
		if dedup != "" {
			e.MessageDeduplicationId = &dedup
		}
		out, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
			QueueUrl: &url, Entries: []types.SendMessageBatchRequestEntry{e},
		})
		if err != nil {
			t.Fatalf("send %s: %v", id, err)
		}
		return out
	}
	send("a", "g1", "d1", "one")
	send("b", "g1", "d2", "two")
	// The same deduplication id within 5 minutes is accepted and dropped.
	if out := send("c", "g1", "d1", "one again"); len(out.Successful) != 1 {
		t.Fatalf("a duplicate is reported as sent by SQS: %+v", out)
	}
	msgs := receiveAll(t, c, url)
	var got []string
	for _, m := range msgs {
		got = append(got, *m.Body)
		if m.Attributes["MessageGroupId"] != "g1" {
			t.Errorf("MessageGroupId = %q", m.Attributes["MessageGroupId"])
		}
	}
	if strings.Join(got, ",") != "one,two" {
		t.Fatalf("received %q, want [one two]: in order, the duplicate dropped", got)
	}

	// Without a deduplication id (and without ContentBasedDeduplication) the
	// whole request is refused.
	_, err = c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
		QueueUrl: &url,
		Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("x"), MessageBody: aws.String("b"), MessageGroupId: aws.String("g")},
		},
	})
	if err == nil {
		t.Error("a FIFO entry without a deduplication id was accepted")
	}
}

// A long poll answers as soon as a message is there, as SQS does, even when
// it asked for ten: local-aws-sqs alone would hold it until it had ten or
// the wait was over (server.js polls it instead). The receive below waits
// up to 20 s; its context ends at 10 s, so only an answer on arrival passes.
func TestSQSLongPollAnswersOnArrival(t *testing.T) {
	s := testenv.SQS(t, "events")
	c := s.Client()
	url := s.QueueURL("events")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type result struct {
		out *sqs.ReceiveMessageOutput
		err error
	}
	got := make(chan result, 1)
	go func() {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 20})
		got <- result{out, err}
	}()
	if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("hello")}); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil {
		t.Fatalf("the long poll did not answer when the message arrived: %v", r.err)
	}
	if len(r.out.Messages) != 1 || *r.out.Messages[0].Body != "hello" {
		t.Fatalf("received %+v, want the one message", r.out.Messages)
	}
}
