package sqs

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/forward"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/awsconf"
	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/freelist"
	"github.com/whirlpool-events/whirlpool/internal/metrics"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

// Plugin registers the input with the glue.
var Plugin = plugin.InputPlugin{
	Name:        "sqs",
	Description: "Whirlpool SQS receiver",
	Properties:  Properties.Declared(),
	New:         New,
}

// threadedDeleteWarning is logged at start when the input runs threaded:
// the engine's cleanup then fires when the records reach the input's ring
// buffer, before a chunk holds them, and a message deleted then is lost if
// the process dies.
const threadedDeleteWarning = "runs threaded: a message is deleted from SQS when its records reach Fluent Bit's ring buffer, " +
	"before they are in a chunk, and a crash then loses them. " +
	"Set 'threaded off' on this input so that a message is deleted only once its records are in a chunk (on disk with storage.type filesystem)"

// held is one received message whose records wait for collection or for
// Fluent Bit's cleanup.
type held struct {
	id      string
	receipt string
	records []byte
	since   time.Time // received, or last visibility extension
}

// Receiver is one sqs input instance.
type Receiver struct {
	cfg    *config
	log    plugin.Logger
	client *awssqs.Client
	stats  Stats
	// validator, when set, turns every received record into valid and
	// failure records before Fluent Bit sees it.
	validator *validate.Validator
	// fwd, when set, sends records to a forward input (forward.go).
	fwd *forwarder

	ctx      context.Context // receiving; cancelled at Close
	cancel   context.CancelFunc
	extend   chan struct{}  // closed at Close: the extender stops
	polling  sync.WaitGroup // the pollers
	wg       sync.WaitGroup // the extender
	deleting sync.WaitGroup // the deleter

	mu       sync.Mutex
	cond     *sync.Cond // signalled when buffered bytes drop or state changes
	pending  []*held    // received, not yet collected
	inflight map[*held]struct{}
	waiting  map[*held]struct{} // decoded when the buffer has room; kept invisible
	bytes    int64              // records bytes of pending
	paused   bool
	closed   bool

	metrics *metrics.Instance

	deletes     chan []*held
	stopDeletes chan struct{} // closed by Close: the deleter drains and exits
	deleteWait  time.Duration // how long Close waits for the deleter

	// spare holds the record buffers of collected messages for the pollers
	// to validate the next messages into: a fresh buffer per message was
	// most of the input's garbage, and its pages faulted in anew after
	// each collection. spareBytes is the capacity it holds, at most
	// max_buffered_bytes.
	spare      *freelist.List[[]byte]
	spareBytes atomic.Int64
}

// Spare record buffers: at most spareBuffers are kept, none larger than
// spareMaxBytes, and together at most max_buffered_bytes (a message of 500
// events validates to about 200 KiB).
const (
	spareBuffers  = 128
	spareMaxBytes = 1 << 20
)

// getSpare returns a kept record buffer, or nil.
func (r *Receiver) getSpare() []byte {
	b, ok := r.spare.Get()
	if ok {
		r.spareBytes.Add(-int64(cap(b)))
	}
	return b[:0]
}

// putSpare keeps b for a poller, if it is within the bounds.
func (r *Receiver) putSpare(b []byte) {
	n := int64(cap(b))
	if n > spareMaxBytes || r.spareBytes.Load()+n > r.cfg.maxBuffered {
		return
	}
	if r.spare.Put(b[:0]) {
		r.spareBytes.Add(n)
	}
}

// Stats are the instance's counters.
type Stats struct {
	mu                                    sync.Mutex
	Received, Records, Failures, Deleted  int64
	DeleteErrors, Extended, ReceiveErrors int64
	// Forwarded counts messages whose records the forward input
	// acknowledged (forward_unix_path); the others took the collect path.
	Forwarded int64
	// Requests counts SQS API calls, failed ones included: what SQS bills.
	Requests int64
}

func (s *Stats) add(f func(*Stats)) { s.mu.Lock(); f(s); s.mu.Unlock() }

var _ plugin.Input = (*Receiver)(nil)

// New reads the properties and starts the pollers.
func New(env plugin.Env) (plugin.Input, error) {
	cfg, err := parseConfig(env.Config)
	if err != nil {
		return nil, err
	}
	cfg.goMemory.Apply()
	awsCfg, err := cfg.aws.Config(context.Background(), awsconf.RegionFromURL(cfg.queueURL))
	if err != nil {
		return nil, err
	}
	client := awssqs.NewFromConfig(awsCfg, func(o *awssqs.Options) {
		if cfg.aws.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.aws.Endpoint)
		}
	})
	m, err := cfg.metrics.Start("sqs", env.Name, env.Log)
	if err != nil {
		return nil, err
	}
	var v *validate.Validator
	if cfg.validate {
		if v, err = validate.Open(cfg.validator, env.Log); err != nil {
			m.Close()
			return nil, err
		}
	}
	if env.Threaded {
		env.Log.Warnf("%s", threadedDeleteWarning)
	}
	r := start(cfg, env.Log, client, v)
	r.metrics = m
	m.Register(r.metricTable())
	return r, nil
}

// metricTable declares the input's metrics over its Stats and buffer.
func (r *Receiver) metricTable() []metrics.Func {
	stat := func(v func(*Stats) int64) func() float64 {
		return func() float64 { r.stats.mu.Lock(); defer r.stats.mu.Unlock(); return float64(v(&r.stats)) }
	}
	return []metrics.Func{
		{Name: "sqs_in_messages_received_total", Help: "SQS messages received.", Value: stat(func(s *Stats) int64 { return s.Received })},
		{Name: "sqs_in_records_total", Help: "Records decoded from messages (failures included).", Value: stat(func(s *Stats) int64 { return s.Records })},
		{Name: "sqs_in_undecodable_total", Help: "Records the input made failures itself: UNDECODABLE_MESSAGE, or ENDPOINT_INVALID for a record not in the contract.", Value: stat(func(s *Stats) int64 { return s.Failures })},
		{Name: "sqs_in_messages_deleted_total", Help: "Messages deleted after Fluent Bit's cleanup (or the forward input's acknowledgement).", Value: stat(func(s *Stats) int64 { return s.Deleted })},
		{Name: "sqs_in_delete_errors_total", Help: "Messages whose delete failed (they reappear after the visibility timeout).", Value: stat(func(s *Stats) int64 { return s.DeleteErrors })},
		{Name: "sqs_in_visibility_extended_total", Help: "Visibility timeout extensions of held messages.", Value: stat(func(s *Stats) int64 { return s.Extended })},
		{Name: "sqs_in_requests_total", Help: "SQS API calls (ReceiveMessage, DeleteMessageBatch, ChangeMessageVisibilityBatch), failed ones included: what SQS bills.", Value: stat(func(s *Stats) int64 { return s.Requests })},
		{Name: "sqs_in_messages_forwarded_total", Help: "Messages whose records the forward input of forward_unix_path acknowledged; the others took the one-second collect.", Value: stat(func(s *Stats) int64 { return s.Forwarded })},
		{Name: "sqs_in_receive_errors_total", Help: "Failed ReceiveMessage calls.", Value: stat(func(s *Stats) int64 { return s.ReceiveErrors })},
		{Name: "sqs_in_buffered_bytes", Help: "Record bytes received but not yet collected by Fluent Bit.", Gauge: true, Value: func() float64 {
			r.mu.Lock()
			defer r.mu.Unlock()
			return float64(r.bytes)
		}},
	}
}

func start(cfg *config, log plugin.Logger, client *awssqs.Client, v *validate.Validator) *Receiver {
	ctx, cancel := context.WithCancel(context.Background())
	r := &Receiver{cfg: cfg, log: log, client: client, validator: v, ctx: ctx, cancel: cancel,
		extend: make(chan struct{}), inflight: map[*held]struct{}{}, waiting: map[*held]struct{}{}, deletes: make(chan []*held, 1024), stopDeletes: make(chan struct{}),
		deleteWait: 30 * time.Second, spare: freelist.New[[]byte](spareBuffers)}
	r.cond = sync.NewCond(&r.mu)
	if cfg.forward.Path != "" {
		r.fwd = &forwarder{c: forward.New(cfg.forward, log), wait: cfg.forward.Timeout}
	}
	for i := 0; i < cfg.pollers; i++ {
		r.polling.Add(1)
		go r.poll()
	}
	r.wg.Add(1)
	go r.extender()
	r.deleting.Add(1)
	go r.deleter()
	log.Infof("receiving from %s with %d pollers", cfg.queueURL, cfg.pollers)
	return r
}

// poll receives until Close, waiting while paused or while the buffer is full.
func (r *Receiver) poll() {
	defer r.polling.Done()
	dec := newDecoder(r.cfg.bounds)
	dec.enrich, dec.validator = r.cfg.enrich, r.validator
	backoff := time.Duration(0)
	for {
		r.mu.Lock()
		for !r.closed && (r.paused || r.bytes >= r.cfg.maxBuffered) {
			r.cond.Wait()
		}
		closed := r.closed
		r.mu.Unlock()
		if closed {
			return
		}
		// A message's visibility clock starts when SQS picks it, which can
		// be well before the long poll returns: count from the call's start.
		started := time.Now()
		r.stats.add(func(s *Stats) { s.Requests++ })
		out, err := r.client.ReceiveMessage(r.ctx, &awssqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(r.cfg.queueURL),
			MaxNumberOfMessages:         r.cfg.maxMessages,
			WaitTimeSeconds:             r.cfg.wait,
			VisibilityTimeout:           int32(r.cfg.visibility / time.Second),
			MessageAttributeNames:       []string{FormatAttribute},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameSentTimestamp},
		})
		if err != nil {
			if r.ctx.Err() != nil {
				return
			}
			r.stats.add(func(s *Stats) { s.ReceiveErrors++ })
			backoff = min(max(2*backoff, 100*time.Millisecond), 30*time.Second)
			if backoff == 100*time.Millisecond || backoff == 30*time.Second {
				r.log.Warnf("receiving from %s: %v (retrying with back-off)", r.cfg.queueURL, err)
			}
			select {
			case <-r.ctx.Done():
				return
			case <-time.After(backoff/2 + rand.N(backoff/2+1)):
			}
			continue
		}
		backoff = 0
		now := time.Now()
		b := batch{r: r, dec: dec}
		for i, m := range out.Messages {
			msg := message{id: aws.ToString(m.MessageId), body: aws.ToString(m.Body), sent: now}
			if v, ok := m.MessageAttributes[FormatAttribute]; ok {
				msg.format = aws.ToString(v.StringValue)
			}
			if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
				msg.sent = time.UnixMilli(ms).UTC()
			}
			h := &held{id: msg.id, receipt: aws.ToString(m.ReceiptHandle), since: started}
			if !b.add(h, msg) {
				// Closed while the message waited for room: it and the
				// rest of the batch go back to the queue at once.
				back := []*held{h}
				for _, m := range out.Messages[i+1:] {
					back = append(back, &held{id: aws.ToString(m.MessageId), receipt: aws.ToString(m.ReceiptHandle)})
				}
				r.changeVisibility(back, 0, time.Now())
				break
			}
		}
		b.publish()
	}
}

// batch gathers the decoded messages of one receive until they are
// published to pending.
type batch struct {
	r    *Receiver
	dec  *decoder
	msgs []*held
	size int64
}

// add decodes msg into h within the room left under max_buffered_bytes. A
// message that would overfill the buffer waits, kept invisible, until
// Fluent Bit collects it, then gets the whole bound: only one whose records
// alone exceed max_buffered_bytes becomes a failure. add returns false if
// the receiver closed while the message waited.
func (b *batch) add(h *held, msg message) bool {
	r := b.r
	// Validated, the records go into a kept buffer that Collect gives back
	// once it has copied them; unvalidated, into the message's own.
	var dst []byte
	if r.validator != nil {
		dst = r.getSpare()
	}
	for whole := false; ; whole = true {
		r.mu.Lock()
		room := r.cfg.maxBuffered - r.bytes - b.size
		if whole || r.bytes+b.size == 0 {
			room = r.cfg.maxBuffered
		}
		r.mu.Unlock()
		b.dec.room = max(room, 1)
		records, pieces := b.dec.appendMessage(dst[:0], msg)
		if b.dec.over == overBuffered && room < r.cfg.maxBuffered {
			dst = records
			if !b.waitForRoom(h) {
				return false
			}
			continue
		}
		n, failed := len(pieces), failures(pieces)
		switch {
		case b.dec.over != withinBounds:
			r.log.Warnf("message %s is over %s: it becomes one %s failure holding its first bytes and its SHA-256", msg.id, b.dec.over, failcode.UndecodableMessage)
		case failed > 0:
			r.log.Warnf("message %s: %d of %d records could not be decoded or are not in the record contract; they become %s or %s failures",
				msg.id, failed, n, failcode.UndecodableMessage, failcode.EndpointInvalid)
		}
		r.stats.add(func(s *Stats) { s.Received++; s.Records += int64(n); s.Failures += int64(failed) })
		h.records = records
		b.msgs = append(b.msgs, h)
		b.size += int64(len(records))
		return true
	}
}

// waitForRoom publishes what the batch holds and waits until Fluent Bit has
// collected the buffer, keeping h invisible meanwhile. It returns false if
// the receiver closed.
func (b *batch) waitForRoom(h *held) bool {
	b.publish()
	r := b.r
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waiting[h] = struct{}{}
	for !r.closed && r.bytes > 0 {
		r.cond.Wait()
	}
	delete(r.waiting, h)
	return !r.closed
}

// publish hands the batch's messages to Collect (after Close, Close hands
// them back); with forward_unix_path, first to the forward input, and to
// Collect only those it did not take.
func (b *batch) publish() {
	r := b.r
	if r.fwd != nil && len(b.msgs) > 0 {
		b.forward()
	}
	r.mu.Lock()
	r.pending = append(r.pending, b.msgs...)
	r.bytes += b.size
	r.mu.Unlock()
	b.msgs, b.size = nil, 0
}

// forward sends the batch's messages to the forward input, queues those it
// acknowledged for deletion, and keeps the rest in the batch.
func (b *batch) forward() {
	r := b.r
	r.mu.Lock()
	for _, h := range b.msgs {
		r.inflight[h] = struct{}{} // kept invisible while they are sent
	}
	r.mu.Unlock()
	n := r.fwd.forward(r.ctx, b.msgs)
	sent, rest := b.msgs[:n:n], b.msgs[n:]
	r.mu.Lock()
	for _, h := range sent {
		b.size -= int64(len(h.records))
		if r.validator != nil {
			r.putSpare(h.records)
		}
		h.records = nil
	}
	for _, h := range rest {
		delete(r.inflight, h)
	}
	r.mu.Unlock()
	if n > 0 {
		r.stats.add(func(s *Stats) { s.Forwarded += int64(n) })
		r.queueDeletes(sent)
	}
	b.msgs = rest
}

// Collect appends every pending message's records, whole, and returns done,
// which queues exactly those messages for deletion.
//
// The records go into buf in one piece: when buf cannot hold them, it grows
// once to their size (growing by appends copied the first collects of a
// drain several times over, into fresh pages). A validated message's
// buffer goes back to the pollers once copied.
func (r *Receiver) Collect(buf []byte) ([]byte, func()) {
	r.mu.Lock()
	taken := r.pending
	r.pending = nil
	buf = slices.Grow(buf, int(r.bytes))
	for _, h := range taken {
		buf = append(buf, h.records...)
		if r.validator != nil {
			r.putSpare(h.records)
		}
		h.records = nil
		r.inflight[h] = struct{}{}
	}
	r.bytes = 0
	r.cond.Broadcast()
	r.mu.Unlock()
	if len(taken) == 0 {
		return buf, nil
	}
	var once sync.Once
	return buf, func() { once.Do(func() { r.queueDeletes(taken) }) }
}

// queueDeletes hands messages whose records Fluent Bit holds to the
// deleter, without blocking when it is far behind (Fluent Bit's thread
// calls it). After Close, undeleted messages reappear after their
// visibility timeout (at-least-once).
func (r *Receiver) queueDeletes(taken []*held) {
	select {
	case r.deletes <- taken:
	default:
		go func() {
			select {
			case r.deletes <- taken:
			case <-r.stopDeletes:
			}
		}()
	}
}

// deleter deletes acknowledged messages in batches of ten, checking every
// entry; a failed entry is retried a few times, then left to reappear after
// its visibility timeout (at-least-once: the loader deduplicates).
func (r *Receiver) deleter() {
	defer r.deleting.Done()
	for {
		select {
		case taken := <-r.deletes:
			r.deleteAll(taken)
		case <-r.stopDeletes:
			for {
				select {
				case taken := <-r.deletes:
					r.deleteAll(taken)
				default:
					return
				}
			}
		}
	}
}

func (r *Receiver) deleteAll(taken []*held) {
	for len(taken) > 0 {
		n := min(10, len(taken))
		r.deleteBatch(taken[:n])
		taken = taken[n:]
	}
}

func (r *Receiver) deleteBatch(msgs []*held) {
	todo := msgs
	for attempt := 0; attempt < 4 && len(todo) > 0; attempt++ {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt*attempt) * 200 * time.Millisecond)
		}
		entries := make([]types.DeleteMessageBatchRequestEntry, len(todo))
		byID := make(map[string]*held, len(todo))
		for i, h := range todo {
			id := strconv.Itoa(i)
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(id), ReceiptHandle: aws.String(h.receipt)}
			byID[id] = h
		}
		// Deletes must outlive Close: use a context of their own.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		r.stats.add(func(s *Stats) { s.Requests++ })
		out, err := r.client.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(r.cfg.queueURL), Entries: entries})
		cancel()
		if err != nil {
			r.log.Warnf("deleting %d messages: %v", len(todo), err)
			continue
		}
		r.done(out.Successful, byID)
		var again []*held
		for _, f := range out.Failed {
			h := byID[aws.ToString(f.Id)]
			r.log.Warnf("deleting message %s: %s: %s", h.id, aws.ToString(f.Code), aws.ToString(f.Message))
			if !f.SenderFault {
				again = append(again, h)
			} else {
				r.forget(h, false)
			}
		}
		todo = again
	}
	for _, h := range todo {
		r.forget(h, false)
	}
}

func (r *Receiver) done(ok []types.DeleteMessageBatchResultEntry, byID map[string]*held) {
	for _, e := range ok {
		r.forget(byID[aws.ToString(e.Id)], true)
	}
}

func (r *Receiver) forget(h *held, deleted bool) {
	r.mu.Lock()
	delete(r.inflight, h)
	r.mu.Unlock()
	r.stats.add(func(s *Stats) {
		if deleted {
			s.Deleted++
		} else {
			s.DeleteErrors++
		}
	})
}

// extender keeps held messages invisible to other consumers: every message
// held for half its visibility timeout gets another full timeout.
func (r *Receiver) extender() {
	defer r.wg.Done()
	// Extend at half the timeout, checking every eighth: a slow
	// ChangeMessageVisibility call still lands before the deadline.
	after := r.cfg.visibility / 2
	tick := time.NewTicker(max(r.cfg.visibility/8, 200*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-r.extend:
			return
		case now := <-tick.C:
			var due []*held
			r.mu.Lock()
			for _, h := range r.pending {
				if now.Sub(h.since) >= after {
					due = append(due, h)
				}
			}
			for _, m := range [...]map[*held]struct{}{r.inflight, r.waiting} {
				for h := range m {
					if now.Sub(h.since) >= after {
						due = append(due, h)
					}
				}
			}
			r.mu.Unlock()
			r.changeVisibility(due, int32(r.cfg.visibility/time.Second), now)
		}
	}
}

// changeVisibility sets the visibility timeout of msgs, ten at a time.
func (r *Receiver) changeVisibility(msgs []*held, seconds int32, now time.Time) {
	for len(msgs) > 0 {
		n := min(10, len(msgs))
		entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, n)
		for i, h := range msgs[:n] {
			entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h.receipt), VisibilityTimeout: seconds}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		r.stats.add(func(s *Stats) { s.Requests++ })
		out, err := r.client.ChangeMessageVisibilityBatch(ctx, &awssqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(r.cfg.queueURL), Entries: entries})
		cancel()
		if err != nil {
			r.log.Warnf("changing the visibility of %d messages: %v", n, err)
		} else {
			failed := map[string]bool{}
			for _, f := range out.Failed {
				failed[aws.ToString(f.Id)] = true
			}
			r.mu.Lock()
			for i, h := range msgs[:n] {
				if !failed[strconv.Itoa(i)] {
					h.since = now
				}
			}
			r.mu.Unlock()
			r.stats.add(func(s *Stats) { s.Extended += int64(len(out.Successful)) })
		}
		msgs = msgs[n:]
	}
}

// Pause stops receiving (Fluent Bit back-pressure); held messages keep their
// visibility extended.
func (r *Receiver) Pause() {
	r.mu.Lock()
	r.paused = true
	r.mu.Unlock()
	r.log.Infof("paused by Fluent Bit (buffer limits, or shutting down) or by pause_above_rss: not receiving")
}

// Resume starts receiving again.
func (r *Receiver) Resume() {
	r.mu.Lock()
	r.paused = false
	r.cond.Broadcast()
	r.mu.Unlock()
	r.log.Infof("resumed")
}

// Close stops the pollers, hands uncollected messages back to the queue at
// once, and finishes the deletes of acknowledged ones.
func (r *Receiver) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.cond.Broadcast()
	r.mu.Unlock()
	// Stop extending and receiving first, so that nothing is received or
	// made invisible again after the uncollected messages are handed back.
	// Long polls in flight are let finish for a moment: one cut short may
	// leave the messages it was gathering hidden on the SQS side.
	close(r.extend)
	r.wg.Wait()
	polled := make(chan struct{})
	go func() { r.polling.Wait(); close(polled) }()
	select {
	case <-polled:
	case <-time.After(min(time.Duration(r.cfg.wait)*time.Second+2*time.Second, 5*time.Second)):
		r.cancel()
		<-polled
	}
	r.cancel()
	if r.fwd != nil {
		r.fwd.close()
	}
	r.mu.Lock()
	back := r.pending
	r.pending = nil
	r.mu.Unlock()
	r.changeVisibility(back, 0, time.Now())
	close(r.stopDeletes)
	// Whatever happens to the deletes, the validator and the metrics server
	// are released: a plugin reloaded in the same process would otherwise
	// find the metrics port taken and a model reload loop still running.
	defer r.release()
	done := make(chan struct{})
	go func() { r.deleting.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(r.deleteWait):
		return fmt.Errorf("deletes still running after %v; their messages will reappear after the visibility timeout", r.deleteWait)
	}
	r.mu.Lock()
	left := len(r.inflight)
	r.mu.Unlock()
	if left > 0 {
		r.log.Infof("stopped with %d messages collected but not acknowledged by Fluent Bit; they reappear after the visibility timeout", left)
	}
	return nil
}

// release closes the metrics instance (stopping its server when no other
// instance shares it) and the validator.
func (r *Receiver) release() {
	if r.metrics != nil {
		r.metrics.Close()
	}
	if r.validator != nil {
		if err := r.validator.Close(); err != nil {
			r.log.Warnf("closing the validator: %v", err)
		}
	}
}

func (r *Receiver) String() string { return fmt.Sprintf("sqs input %s", r.cfg.queueURL) }
