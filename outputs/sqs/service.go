package sqs

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// API is the part of the SQS client the output uses; *sqs.Client is one.
type API interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Back-off between resends within a flush: full jitter over an exponential
// ceiling.
var (
	backoffBase = 100 * time.Millisecond
	backoffMax  = 5 * time.Second
)

// requestTimeout bounds one SendMessageBatch call.
const requestTimeout = 30 * time.Second

// backoff is the pause before resend attempt (0 for the first resend):
// "full jitter" (AWS Architecture Blog, Exponential Backoff and Jitter),
// uniform in [0, min(backoffMax, backoffBase*2^attempt)]. Spreading over
// the whole range, not its upper half, keeps many outputs throttled at
// once from resending in step.
func backoff(attempt int) time.Duration {
	return rand.N(backoffCeiling(attempt) + 1)
}

// backoffCeiling is min(backoffMax, backoffBase*2^attempt), safe from
// overflow for any attempt.
func backoffCeiling(attempt int) time.Duration {
	if attempt < 0 {
		attempt = 0
	}
	if attempt >= 32 {
		return backoffMax
	}
	d := backoffBase << attempt
	if d > backoffMax || d <= 0 {
		d = backoffMax
	}
	return d
}

// sendResult is what happened to one batch.
type sendResult struct {
	delivered []int // message indexes SQS accepted
	rejected  []rejection
	// err is the last whole-request error or retryable entry failure when
	// some messages are still undelivered after the bounded retries.
	err error
}

// rejection is a message SQS refused as the sender's fault (resending the
// same bytes cannot succeed).
type rejection struct {
	msg     int
	code    string
	message string
}

// sendBatch sends the messages of b, resending only the entries that failed
// (and whole requests that failed for a retryable reason), at most
// maxRetries times.
func (o *Output) sendBatch(ctx context.Context, msgs []message, b batch) sendResult {
	var res sendResult
	pending := append([]int(nil), b...)
	entries := make([]types.SendMessageBatchRequestEntry, 0, len(b))
	for attempt := 0; ; attempt++ {
		entries = entries[:0]
		for _, i := range pending {
			entries = append(entries, o.entry(msgs, i))
		}
		rctx, cancel := context.WithTimeout(ctx, requestTimeout)
		out, err := o.api.SendMessageBatch(rctx, &sqs.SendMessageBatchInput{
			QueueUrl: &o.cfg.QueueURL,
			Entries:  entries,
		})
		cancel()
		o.stats.Requests.Add(1)
		if err != nil {
			res.err = err
			if !retryable(err) || attempt >= o.cfg.MaxRetries || ctx.Err() != nil {
				return res
			}
			o.log.Debugf("SendMessageBatch of %d messages failed (attempt %d), resending: %v", len(pending), attempt+1, err)
			o.stats.RequestsRetried.Add(1)
			o.stats.EntriesRetried.Add(uint64(len(pending)))
			sleep(ctx, backoff(attempt))
			continue
		}
		byID := make(map[string]int, len(pending))
		for _, i := range pending {
			byID[entryID(i)] = i
		}
		for _, s := range out.Successful {
			if s.Id == nil {
				continue
			}
			if i, ok := byID[*s.Id]; ok {
				res.delivered = append(res.delivered, i)
				delete(byID, *s.Id)
			}
		}
		var retry []int
		var lastFail error
		for _, f := range out.Failed {
			if f.Id == nil {
				continue
			}
			i, ok := byID[*f.Id]
			if !ok {
				continue
			}
			delete(byID, *f.Id)
			code, text := aws.ToString(f.Code), aws.ToString(f.Message)
			if f.SenderFault && !throttleCode(code) {
				res.rejected = append(res.rejected, rejection{msg: i, code: code, message: text})
				continue
			}
			retry = append(retry, i)
			lastFail = &entryError{code: code, message: text}
		}
		// Entries in neither list: unknown outcome; resend them (at worst a
		// duplicate, never a loss).
		for _, i := range pending {
			if _, ok := byID[entryID(i)]; ok {
				retry = append(retry, i)
				lastFail = errors.New("entry " + entryID(i) + " missing from the response")
			}
		}
		if len(retry) == 0 {
			res.err = nil
			return res
		}
		res.err = lastFail
		if attempt >= o.cfg.MaxRetries || ctx.Err() != nil {
			return res
		}
		o.log.Debugf("%d of %d entries failed (attempt %d), resending them: %v", len(retry), len(pending), attempt+1, lastFail)
		o.stats.EntriesRetried.Add(uint64(len(retry)))
		pending = retry
		sleep(ctx, backoff(attempt))
	}
}

type entryError struct{ code, message string }

func (e *entryError) Error() string { return "entry failed: " + e.code + ": " + e.message }

// entry builds the request entry of message i.
func (o *Output) entry(msgs []message, i int) types.SendMessageBatchRequestEntry {
	m := &msgs[i]
	e := types.SendMessageBatchRequestEntry{
		Id:          aws.String(entryID(i)),
		MessageBody: aws.String(m.body),
		MessageAttributes: map[string]types.MessageAttributeValue{
			AttrFormat: {DataType: aws.String(typeString), StringValue: aws.String(o.cfg.WireFormat())},
			AttrCount:  {DataType: aws.String(typeNumber), StringValue: aws.String(strconv.Itoa(m.count))},
		},
	}
	if o.cfg.FIFO {
		e.MessageGroupId = aws.String(m.group)
		e.MessageDeduplicationId = aws.String(m.dedup)
	}
	return e
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// retryable reports whether a whole-request error may pass if the request
// is sent again: throttling, server errors (5xx), timeouts and network
// errors. Other errors (access denied, no such queue, a malformed request)
// are not resent within the flush; the chunk goes back to Fluent Bit.
func retryable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if isThrottle(err) {
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		s := re.HTTPStatusCode()
		return s == 429 || s >= 500
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	// No HTTP response at all: a connection that failed or was dropped.
	var api smithy.APIError
	return !errors.As(err, &api)
}

// isThrottle reports whether err is SQS (or the SDK) saying slow down.
func isThrottle(err error) bool {
	var rt *types.RequestThrottled
	if errors.As(err, &rt) {
		return true
	}
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && throttleCode(api.ErrorCode())
}

func throttleCode(code string) bool {
	if _, ok := retry.DefaultThrottleErrorCodes[code]; ok {
		return true
	}
	c := strings.ToLower(code)
	return strings.Contains(c, "throttl") || strings.Contains(c, "toomanyrequests") || strings.Contains(c, "overlimit")
}
