package sqs

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/plugins/metrics"
	"github.com/whirlpool-events/whirlpool/plugins/plugin"
	"github.com/whirlpool-events/whirlpool/plugins/record"
)

// Plugin registers the output with Fluent Bit (see plugins/out_sqs).
var Plugin = plugin.OutputPlugin{
	Name:        "sqs",
	Description: "Sends events to Amazon SQS in packed batches",
	Properties:  Properties.Declared(),
	New:         New,
}

// Retry memory bounds: chunks handed back for retry whose delivered
// messages are remembered, and for how long.
const (
	memoryChunks = 4096
	memoryTTL    = time.Hour
)

// Output is one configured sqs output instance. Flush is safe for
// concurrent use (Fluent Bit Workers > 1): the configuration is read-only,
// the client is shared, counters are atomic and the retry memory is locked.
type Output struct {
	cfg   *Config
	api   API
	log   plugin.Logger
	name  string
	mem   *memory
	stats Stats

	metrics *metrics.Instance

	ctx    context.Context
	cancel context.CancelFunc
	pool   sync.Pool // *flush
}

// New starts an instance from its Fluent Bit properties.
func New(env plugin.Env) (plugin.Output, error) {
	cfg, err := ParseConfig(env.Config)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, region, err := newClient(ctx, cfg)
	if err != nil {
		return nil, err
	}
	m, err := metrics.Read(Properties.Read(env.Config), "sqs", env.Name)
	if err != nil {
		return nil, err
	}
	o := NewWithAPI(cfg, client, env.Log)
	o.name = env.Name
	o.metrics = m
	for _, c := range []struct {
		name, help string
		v          *atomic.Uint64
	}{
		{"sqs_out_events_total", "Events delivered to SQS.", &o.stats.Events},
		{"sqs_out_messages_total", "Messages delivered.", &o.stats.Messages},
		{"sqs_out_batches_total", "SendMessageBatch requests that delivered everything they carried.", &o.stats.Batches},
		{"sqs_out_requests_total", "SendMessageBatch calls, resends included.", &o.stats.Requests},
		{"sqs_out_bytes_total", "Message bytes delivered (bodies and attributes).", &o.stats.Bytes},
		{"sqs_out_entries_retried_total", "Failed entries resent within a flush.", &o.stats.EntriesRetried},
		{"sqs_out_requests_retried_total", "Whole requests resent within a flush.", &o.stats.RequestsRetried},
		{"sqs_out_chunks_retried_total", "Flushes that returned RETRY to Fluent Bit.", &o.stats.ChunksRetried},
		{"sqs_out_oversize_total", "Events left out: too large for a message even alone.", &o.stats.Oversize},
		{"sqs_out_rejected_total", "Events in messages SQS refused as the sender's fault.", &o.stats.Rejected},
		{"sqs_out_undecodable_total", "Chunks whose records could not be decoded to the end.", &o.stats.Undecodable},
		{"sqs_out_not_enriched_total", "Records sent as they were because no event key was found.", &o.stats.NotEnriched},
	} {
		v := c.v
		m.CounterFunc(c.name, c.help, func() float64 { return float64(v.Load()) })
	}
	endpoint := cfg.AWS.Endpoint
	if endpoint == "" {
		endpoint = "(AWS_ENDPOINT_URL_SQS or the SDK default)"
	}
	role := "(default credential chain)"
	if cfg.AWS.RoleARN != "" {
		role = cfg.AWS.RoleARN
	}
	env.Log.Infof("sending to %s (region %s, endpoint %s, role %s); %s", cfg.QueueURL, region, endpoint, role, cfg)
	if cfg.FIFO && cfg.Concurrency > 1 {
		env.Log.Infof("FIFO queue: batches are sent one at a time to keep the order within message groups")
	}
	return o, nil
}

// NewWithAPI builds an instance around an SQS API (the real client, or a
// stand-in that discards for benchmarks).
func NewWithAPI(cfg *Config, api API, log plugin.Logger) *Output {
	ctx, cancel := context.WithCancel(context.Background())
	return &Output{cfg: cfg, api: api, log: log, mem: newMemory(memoryChunks, memoryTTL), ctx: ctx, cancel: cancel}
}

// Stats returns the instance's counters.
func (o *Output) Stats() *Stats { return &o.stats }

// Close stops the instance; flushes still retrying stop at once.
func (o *Output) Close() error {
	o.cancel()
	if o.metrics != nil {
		o.metrics.Close()
	}
	return nil
}

// flush is the per-call working set, pooled.
type flush struct {
	enc     encoder
	pk      packer
	dec     record.Decoder
	rec     record.Record
	seen    seen
	scratch []byte // enrichment: the record's JSON
	recBuf  []byte // enrichment: the enriched record
}

func (o *Output) getFlush() *flush {
	if f, ok := o.pool.Get().(*flush); ok {
		return f
	}
	return &flush{}
}

func (o *Output) putFlush(f *flush) {
	f.pk.release()
	if cap(f.pk.arena) > 16<<20 {
		f.pk.arena = nil // do not pin a huge chunk's arena
	}
	f.pk.arena = f.pk.arena[:0]
	clear(f.pk.events)
	f.pk.events = f.pk.events[:0]
	clear(f.pk.msgs)
	f.pk.msgs = f.pk.msgs[:0]
	f.pk.dropped = f.pk.dropped[:0]
	f.rec = record.Record{}
	f.seen = seen{}
	f.dec.Reset(nil)
	o.pool.Put(f)
}

// chunkHash identifies a chunk by its tag and bytes.
func chunkHash(tag string, chunk []byte) chunkKey {
	h := sha256.New()
	h.Write([]byte(tag))
	h.Write([]byte{0})
	h.Write(chunk)
	var k chunkKey
	h.Sum(k[:0])
	return k
}

// Flush sends one chunk. See the package documentation for what is
// retried, remembered and left out.
func (o *Output) Flush(chunk []byte, tag string) plugin.Result {
	// The chunk's hash keys the retry memory and seeds enriched uuids. When
	// nothing is remembered and nothing is enriched it is needed only if
	// this flush fails, so it is computed then.
	var key chunkKey
	haveKey := o.cfg.Enrich || o.mem.len() > 0
	if haveKey {
		key = chunkHash(tag, chunk)
	}
	st, remembered := o.mem.take(key, haveKey)
	f := o.getFlush()
	defer o.putFlush(f)

	report := !st.reported
	notes := o.encode(f, chunk, tag, key, report)
	f.pk.cfg = o.cfg
	f.pk.pack()
	msgs := f.pk.msgs
	if report {
		o.reportDropped(f, tag)
		notes.log(o, tag, len(chunk))
		st.reported = true
	}

	batches := makeBatches(msgs, func(i int) bool { return st.delivered[i] }, o.cfg.MaxBatchBytes)
	if remembered {
		o.log.Debugf("retried chunk (tag %q): %d of %d messages were delivered before, sending %d batches",
			tag, len(st.delivered), len(msgs), len(batches))
	}
	results := o.sendAll(batches, msgs)

	var lastErr error
	for _, r := range results {
		for _, i := range r.delivered {
			st.delivered[i] = true
			o.stats.Messages.Add(1)
			o.stats.Events.Add(uint64(msgs[i].count))
			o.stats.Bytes.Add(uint64(msgs[i].size))
		}
		for _, rj := range r.rejected {
			st.delivered[rj.msg] = true // final: resending the same bytes cannot help
			m := &msgs[rj.msg]
			o.stats.Rejected.Add(uint64(m.count))
			o.log.Errorf("SQS refused a message of %d events (first uuid %s; tag %q): %s: %s; the events are left out",
				m.count, uuidOrNone(f.pk.events[m.first].uuid), tag, rj.code, rj.message)
		}
		if r.err == nil && len(r.rejected) == 0 {
			o.stats.Batches.Add(1)
		}
		if r.err != nil {
			lastErr = r.err
		}
	}
	if len(st.delivered) == len(msgs) {
		return plugin.OK
	}
	if !haveKey {
		key = chunkHash(tag, chunk)
	}
	o.mem.put(key, st)
	o.stats.ChunksRetried.Add(1)
	o.log.Warnf("chunk (tag %q): %d of %d messages not delivered after %d retries, handing the chunk back for retry (delivered messages will not be sent again): %v",
		tag, len(msgs)-len(st.delivered), len(msgs), o.cfg.MaxRetries, lastErr)
	return plugin.Retry
}

// sendAll sends the batches with up to concurrency requests in flight
// (one at a time for FIFO queues) and returns each batch's result.
func (o *Output) sendAll(batches []batch, msgs []message) []sendResult {
	results := make([]sendResult, len(batches))
	workers := o.cfg.Concurrency
	if o.cfg.FIFO {
		workers = 1
	}
	if workers > len(batches) {
		workers = len(batches)
	}
	if workers <= 1 {
		for i, b := range batches {
			results[i] = o.sendBatch(o.ctx, msgs, b)
		}
		return results
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = o.sendBatch(o.ctx, msgs, batches[i])
			}
		}()
	}
	for i := range batches {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

// notes collects what to tell about a chunk's records, logged once per
// chunk (not again on its retries).
type notes struct {
	decodeErr     error
	decodeOffset  int
	decoded       int
	unencodable   int
	firstUnencErr error
	notEnriched   int
	firstNotEnr   string
	firstNotEnrAt int
}

func (n *notes) log(o *Output, tag string, size int) {
	if n.decodeErr != nil {
		o.stats.Undecodable.Add(1)
		o.log.Errorf("chunk (tag %q, %d bytes): cannot decode past byte offset %d (%d records before it are sent); the rest of the chunk is left out: %v",
			tag, size, n.decodeOffset, n.decoded, n.decodeErr)
	}
	if n.unencodable > 0 {
		o.stats.Undecodable.Add(uint64(n.unencodable))
		o.log.Errorf("chunk (tag %q): %d records cannot be written as JSON and are left out; first: %v", tag, n.unencodable, n.firstUnencErr)
	}
	if n.notEnriched > 0 {
		o.stats.NotEnriched.Add(uint64(n.notEnriched))
		o.log.Errorf("tag %q: %d records have no event key and are sent as they are, not enriched (the processor records them as failures); first, record %d: %s",
			tag, n.notEnriched, n.firstNotEnrAt, n.firstNotEnr)
	}
}

// encode decodes the chunk and writes every record's JSON line into the
// arena, enriching records when configured.
func (o *Output) encode(f *flush, chunk []byte, tag string, key chunkKey, report bool) (n notes) {
	f.enc.cfg = o.cfg
	arena := f.pk.arena[:0]
	if cap(arena) < len(chunk)+len(chunk)/2 {
		arena = make([]byte, 0, len(chunk)+len(chunk)/2+64)
	}
	f.dec.Reset(chunk)
	idx := 0
	for f.dec.Next(&f.rec) {
		i := idx
		idx++
		start := len(arena)
		var err error
		arena, err = f.enc.appendRecord(arena, f.rec.Body, &f.seen)
		if err != nil {
			n.unencodable++
			if n.firstUnencErr == nil {
				n.firstUnencErr = fmt.Errorf("record %d: %w", i, err)
			}
			continue
		}
		ev := event{off: start, n: len(arena) - start, uuid: f.seen.uuid, group: f.seen.group, dedup: f.seen.dedup}
		if o.cfg.Enrich && !f.seen.inContract() {
			k, why := o.eventKey(f.rec.Body, tag)
			if why != "" {
				n.notEnriched++
				if n.firstNotEnr == "" {
					n.firstNotEnr, n.firstNotEnrAt = why, i
				}
			} else if out, ok := o.enrichRecord(f, arena[:start], k, key, i); ok {
				arena = out
				ev = event{off: start, n: len(arena) - start, uuid: clone(f.seen.uuid), group: clone(f.seen.group), dedup: clone(f.seen.dedup)}
			}
		}
		f.pk.events = append(f.pk.events, ev)
		arena = append(arena, '\n')
	}
	if err := f.dec.Err(); err != nil {
		n.decodeErr, n.decodeOffset, n.decoded = err, f.dec.Offset(), idx
	}
	f.pk.arena = arena
	return n
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// enrichRecord replaces the record's JSON (written at dst's end) with the
// JSON of its enriched record: body is the record as JSON, fired_ts the
// record time, uuid derived from the chunk and the record's index.
func (o *Output) enrichRecord(f *flush, dst []byte, k enrich.Key, key chunkKey, i int) ([]byte, bool) {
	var err error
	f.scratch, err = f.rec.Body.AppendJSON(f.scratch[:0])
	if err != nil {
		return dst, false
	}
	u := enrich.DeterministicUUID(f.rec.Time, key, i)
	f.recBuf = enrich.AppendRecordUUID(f.recBuf[:0], k, f.scratch, f.rec.Time, u)
	var r record.Record
	d := record.NewDecoder(f.recBuf)
	if !d.Next(&r) {
		return dst, false
	}
	out, err := f.enc.appendRecord(dst, r.Body, &f.seen)
	if err != nil {
		return dst, false
	}
	return out, true
}

// eventKey finds the event key of a record outside the contract: from its
// fields, else from the tag; why says what is missing.
func (o *Output) eventKey(body record.Map, tag string) (enrich.Key, string) {
	parts := [3]string{}
	names := [3]string{o.cfg.GameKey, o.cfg.VersionKey, o.cfg.EventKey}
	var m []string
	for j, name := range names {
		if v, ok := body.Get(name); ok {
			if s, ok := v.Str(); ok && len(s) > 0 {
				parts[j] = string(s)
				continue
			}
		}
		if o.cfg.TagRegex != nil {
			if m == nil {
				m = o.cfg.TagRegex.FindStringSubmatch(tag)
			}
			if m != nil {
				parts[j] = m[o.cfg.tagGroupsIdx[j]]
			}
		}
	}
	k := enrich.Key{Game: parts[0], Version: parts[1], Event: parts[2]}
	for j, p := range parts {
		if p == "" {
			src := fmt.Sprintf("no string field %q", names[j])
			if o.cfg.TagRegex == nil {
				src += " and no tag_regex"
			} else if m == nil {
				src += fmt.Sprintf(" and tag %q does not match tag_regex", tag)
			} else {
				src += " and the tag_regex group is empty"
			}
			return k, fmt.Sprintf("%s: %s", []string{"game", "version", "event"}[j], src)
		}
	}
	if err := k.Validate(); err != nil {
		return k, err.Error()
	}
	return k, ""
}

// reportDropped logs and counts the events too large for any message.
func (o *Output) reportDropped(f *flush, tag string) {
	for _, i := range f.pk.dropped {
		e := &f.pk.events[i]
		o.stats.Oversize.Add(1)
		o.log.Errorf("event %s (tag %q) is %d bytes as JSON, too large for a message of max_message_bytes %d even alone; it is left out",
			uuidOrNone(e.uuid), tag, e.n, o.cfg.MaxMessageBytes)
	}
}

func uuidOrNone(u []byte) string {
	if len(u) == 0 || len(u) > 64 {
		return "(no uuid)"
	}
	return string(u)
}
