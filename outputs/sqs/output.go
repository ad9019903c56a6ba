package sqs

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/internal/freelist"
	"github.com/whirlpool-events/whirlpool/internal/metrics"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/record"
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
	// flushes keeps the working sets of finished flushes, arenas and gzip
	// writer included, for the next ones: kept across garbage collections
	// (sync.Pool's are not), a flush writes into memory already mapped.
	flushes *freelist.List[*flush]
}

// keptFlushes is how many flush working sets an instance keeps: Fluent
// Bit's Workers flush at once (the shipped conf/ runs 2), each holding one.
// A kept arena is at most keptArena bytes. Under load a chunk is tens of
// megabytes (the eventing input hands Fluent Bit a second's events in one
// buffer) and its flush holds an arena that size while it runs; keeping
// it saves faulting its pages in again, but what is kept stays live at
// rest, and a live heap near go_memory_limit (64M by default) makes the
// collector run without pause: so the kept sets stay a quarter of it.
const (
	keptFlushes = 2
	keptArena   = 8 << 20
)

// New starts an instance from its Fluent Bit properties.
func New(env plugin.Env) (plugin.Output, error) {
	cfg, err := ParseConfig(env.Config)
	if err != nil {
		return nil, err
	}
	cfg.GoMemory.Apply()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, region, err := newClient(ctx, cfg)
	if err != nil {
		return nil, err
	}
	m, err := cfg.Metrics.Start("sqs", env.Name, env.Log)
	if err != nil {
		return nil, err
	}
	o := NewWithAPI(cfg, client, env.Log)
	o.name = env.Name
	o.metrics = m
	m.Register(metricTable(&o.stats))
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

// metricTable declares the output's metrics over its Stats.
func metricTable(s *Stats) []metrics.Func {
	return []metrics.Func{
		{Name: "sqs_out_events_total", Help: "Events delivered to SQS.", Value: metrics.Uint(s.Events.Load)},
		{Name: "sqs_out_messages_total", Help: "Messages delivered.", Value: metrics.Uint(s.Messages.Load)},
		{Name: "sqs_out_batches_total", Help: "SendMessageBatch requests that delivered everything they carried.", Value: metrics.Uint(s.Batches.Load)},
		{Name: "sqs_out_requests_total", Help: "SendMessageBatch calls, resends included.", Value: metrics.Uint(s.Requests.Load)},
		{Name: "sqs_out_bytes_total", Help: "Message bytes delivered (bodies and attributes).", Value: metrics.Uint(s.Bytes.Load)},
		{Name: "sqs_out_entries_retried_total", Help: "Failed entries resent within a flush.", Value: metrics.Uint(s.EntriesRetried.Load)},
		{Name: "sqs_out_requests_retried_total", Help: "Whole requests resent within a flush.", Value: metrics.Uint(s.RequestsRetried.Load)},
		{Name: "sqs_out_chunks_retried_total", Help: "Flushes that returned RETRY to Fluent Bit.", Value: metrics.Uint(s.ChunksRetried.Load)},
		{Name: "sqs_out_oversize_total", Help: "Events left out: too large for a message even alone.", Value: metrics.Uint(s.Oversize.Load)},
		{Name: "sqs_out_rejected_total", Help: "Events in messages SQS refused as the sender's fault.", Value: metrics.Uint(s.Rejected.Load)},
		{Name: "sqs_out_undecodable_total", Help: "Chunks whose records could not be decoded to the end.", Value: metrics.Uint(s.Undecodable.Load)},
		{Name: "sqs_out_not_enriched_total", Help: "Records sent as failures (the key parts not found empty) because no valid event key was found.", Value: metrics.Uint(s.NotEnriched.Load)},
	}
}

// NewWithAPI builds an instance around an SQS API (the real client, or a
// stand-in that discards for benchmarks).
func NewWithAPI(cfg *Config, api API, log plugin.Logger) *Output {
	ctx, cancel := context.WithCancel(context.Background())
	return &Output{cfg: cfg, api: api, log: log, mem: newMemory(memoryChunks, memoryTTL), ctx: ctx, cancel: cancel,
		flushes: freelist.New[*flush](keptFlushes)}
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

// flush is the per-call working set, kept for reuse (Output.flushes).
type flush struct {
	enc     encoder
	pk      packer
	dec     record.Decoder
	rec     record.Record
	seen    seen
	scratch []byte // a wrapped record's JSON
}

func (o *Output) getFlush() *flush {
	if f, ok := o.flushes.Get(); ok {
		return f
	}
	return &flush{}
}

func (o *Output) putFlush(f *flush) {
	f.pk.release()
	if cap(f.pk.arena) > keptArena {
		f.pk.arena = nil // do not pin a huger chunk's arena
	}
	f.pk.arena = f.pk.arena[:0]
	if cap(f.pk.events) > keptArena/256 {
		f.pk.events = nil // nor its events
	}
	clear(f.pk.events)
	f.pk.events = f.pk.events[:0]
	clear(f.pk.msgs)
	f.pk.msgs = f.pk.msgs[:0]
	f.pk.dropped = f.pk.dropped[:0]
	f.rec = record.Record{}
	f.seen = seen{}
	f.dec.Reset(nil)
	o.flushes.Put(f)
}

// chunkID is a chunk's identity, its hash computed at first use: only a
// flush that wraps records or must remember the chunk needs it.
type chunkID struct {
	tag   string
	chunk []byte
	key   chunkKey
	ok    bool
}

func (c *chunkID) get() chunkKey {
	if !c.ok {
		c.key, c.ok = chunkHash(c.tag, c.chunk), true
	}
	return c.key
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
	// The chunk's hash keys the retry memory and seeds the uuids of wrapped
	// records. When nothing is remembered, a chunk of trusted contract
	// records needs it only if this flush fails, so it is computed then.
	id := chunkID{tag: tag, chunk: chunk}
	lookup := o.mem.len() > 0
	if lookup {
		id.get()
	}
	st, remembered := o.mem.take(id.key, lookup)
	f := o.getFlush()
	defer o.putFlush(f)

	report := !st.reported
	notes := o.encode(f, chunk, tag, &id, report)
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
	o.mem.put(id.get(), st)
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
	noKey         int // records sent as failures: no valid event key
	firstNoKey    string
	firstNoKeyAt  int
	untrusted     int // records in the contract under a tag contract_match does not trust
	firstUntrAt   int
	extra         int // records in the contract sent without their other keys
	extraKeys     int
	firstExtra    string
	firstExtraAt  int
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
	if n.untrusted > 0 {
		o.log.Warnf("tag %q does not match contract_match %q: %d records carry the whole record contract but are wrapped as events like any other record, with a new uuid and fired_ts (first: record %d); if they come from an eventing input, add its Tag to contract_match",
			tag, strings.Join(o.cfg.ContractMatch, " "), n.untrusted, n.firstUntrAt)
	}
	if n.extra > 0 {
		o.log.Warnf("tag %q: %d records in the record contract carry %d keys outside it, which are not sent (first: record %d, key %q)",
			tag, n.extra, n.extraKeys, n.firstExtraAt, n.firstExtra)
	}
	if n.noKey > 0 {
		o.stats.NotEnriched.Add(uint64(n.noKey))
		o.log.Errorf("tag %q: %d records have no valid event key; they are sent in the record contract with the parts not found empty, so the processor records each as an ENDPOINT_INVALID failure naming the key; first, record %d: %s",
			tag, n.noKey, n.firstNoKeyAt, n.firstNoKey)
	}
}

// encode decodes the chunk and writes every record's JSON line, in the
// record contract, into the arena: records in the contract under a tag
// contract_match trusts as their six keys, every other record wrapped
// (wrap).
func (o *Output) encode(f *flush, chunk []byte, tag string, id *chunkID, report bool) (n notes) {
	arena := f.pk.arena[:0]
	if cap(arena) < len(chunk)+len(chunk)/2 {
		arena = make([]byte, 0, len(chunk)+len(chunk)/2+64)
	}
	trusted := o.cfg.Trusts(tag)
	tk := enrich.Tag{Value: tag, Source: "tag"}
	f.dec.Reset(chunk)
	idx := 0
	for f.dec.Next(&f.rec) {
		i := idx
		idx++
		start := len(arena)
		f.seen.scan(f.rec.Body)
		var out sent
		var err error
		if trusted && f.seen.inContract() {
			arena, out, err = appendContract(arena, &f.seen)
			n.noteExtra(&f.seen, i)
		} else {
			if f.seen.inContract() {
				n.noteUntrusted(i)
			}
			arena, out, err = o.wrap(f, arena, tag, &tk, id, i, &n)
		}
		if err != nil {
			n.unencodable++
			if n.firstUnencErr == nil {
				n.firstUnencErr = fmt.Errorf("record %d: %w", i, err)
			}
			continue
		}
		f.pk.events = append(f.pk.events, event{off: start, n: len(arena) - start,
			uuid: out[keyUUID], group: out[o.cfg.groupIdx], dedup: out[o.cfg.dedupIdx]})
		arena = append(arena, '\n')
	}
	if err := f.dec.Err(); err != nil {
		n.decodeErr, n.decodeOffset, n.decoded = err, f.dec.Offset(), idx
	}
	f.pk.arena = arena
	return n
}

func (n *notes) noteExtra(s *seen, i int) {
	if s.extra == 0 {
		return
	}
	if n.extra == 0 {
		n.firstExtra, n.firstExtraAt = string(s.first), i
	}
	n.extra++
	n.extraKeys += s.extra
}

func (n *notes) noteUntrusted(i int) {
	if n.untrusted == 0 {
		n.firstUntrAt = i
	}
	n.untrusted++
}

// wrap writes the contract record of the i-th record of the chunk, wrapped:
// body is the whole record as JSON, fired_ts the record time, uuid derived
// from the chunk's hash and i (a retried chunk gets the same uuids), and the
// event key found by eventKey; a record without a valid key is noted.
func (o *Output) wrap(f *flush, dst []byte, tag string, tk *enrich.Tag, id *chunkID, i int, n *notes) ([]byte, sent, error) {
	var err error
	f.scratch, err = f.rec.Body.AppendJSON(f.scratch[:0])
	if err != nil {
		return dst, sent{}, err
	}
	w := wrapped{fired: f.rec.Time, body: f.scratch}
	var why string
	w.key, why = o.cfg.Keys.Find(func(name string) (string, bool) {
		if v, ok := f.rec.Body.Get(name); ok {
			if s, ok := v.Str(); ok {
				return string(s), true
			}
		}
		return "", false
	}, tk)
	if why != "" {
		if n.noKey == 0 {
			n.firstNoKey, n.firstNoKeyAt = why, i
		}
		n.noKey++
	}
	w.uuid = enrich.DeterministicUUID(f.rec.Time, id.get(), i)
	dst, out := f.enc.appendWrapped(dst, &w)
	return dst, out, nil
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
