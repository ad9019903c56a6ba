package sqs

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"slices"
	"strconv"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"

	"github.com/whirlpool-events/whirlpool/internal/fastb64"
)

// Message attribute names and types of the wire format.
const (
	AttrFormat = "whirlpool.format"
	AttrCount  = "whirlpool.count"
	typeString = "String"
	typeNumber = "Number"
)

// attrBytes is what SQS counts for the two attributes of a message holding
// count events: each attribute's name, data type and value.
func attrBytes(format string, count int) int {
	return len(AttrFormat) + len(typeString) + len(format) +
		len(AttrCount) + len(typeNumber) + digits(count)
}

func digits(n int) int {
	d := 1
	for n >= 10 {
		n /= 10
		d++
	}
	return d
}

// message is one SQS message ready to send.
type message struct {
	body  string
	count int // events in it
	size  int // body plus attributes, as SQS counts it
	group string
	dedup string
	first int // index (into events) of its first event, for logs
}

// packer groups the encoded events of one flush into messages. Its output
// depends only on its input and the configuration, so a retried chunk packs
// into the same messages.
type packer struct {
	cfg    *Config
	format string // wire format value
	arena  []byte
	events []event
	msgs   []message
	// dropped lists the events that cannot fit in a message even alone.
	dropped []int

	// gz compresses messages: klauspost/compress's gzip at BestSpeed
	// (BenchmarkCompress: 2-3x compress/gzip's speed at BestSpeed, for a like
	// ratio). It stays with the packer, which is kept between flushes.
	gz    *gzip.Writer
	gzBuf bytes.Buffer
	// s2Buf holds S2 blocks (s2's Encode, its fastest level: five to six
	// times klauspost gzip's BestSpeed, for 67% of its ratio on the
	// benchmark's events, BenchmarkCompress).
	s2Buf []byte
	// joinBuf joins lines that are not contiguous in the arena.
	joinBuf []byte
	// zipped is the last run compressed (in gzBuf or s2Buf).
	zipped []byte
}

// pack fills p.msgs (and p.dropped) from p.events.
func (p *packer) pack() {
	p.format = p.cfg.WireFormat()
	if !p.cfg.FIFO {
		p.packSeq(nil)
		return
	}
	// FIFO: events of different groups never share a message. Groups keep
	// the order of their first event; events keep their order in a group.
	order := []string{}
	seqs := map[string][]int32{}
	for i := range p.events {
		g := p.groupOf(i)
		p.events[i].gid = g
		if _, ok := seqs[g]; !ok {
			order = append(order, g)
		}
		seqs[g] = append(seqs[g], int32(i))
	}
	for _, g := range order {
		p.packSeq(seqs[g])
	}
}

func (p *packer) groupOf(i int) string {
	if p.cfg.GroupID != "" {
		return p.cfg.GroupID
	}
	if g := p.events[i].group; validSQSID(string(g)) {
		return string(g)
	}
	return "default"
}

// packSeq packs a sequence of event indexes (nil: all events, in order).
func (p *packer) packSeq(seq []int32) {
	n := len(p.events)
	if seq != nil {
		n = len(seq)
	}
	at := func(k int) int {
		if seq == nil {
			return k
		}
		return int(seq[k])
	}
	switch {
	case p.cfg.Format == FormatEvent:
		for k := 0; k < n; k++ {
			i := at(k)
			e := &p.events[i]
			if e.n+attrBytes(p.format, 1) > p.cfg.MaxMessageBytes {
				p.dropped = append(p.dropped, i)
				continue
			}
			p.emit([]int{i}, string(p.line(i)), e.n+attrBytes(p.format, 1))
		}
	case p.cfg.Compressed():
		p.packCompressed(n, at)
	default:
		p.packPlain(n, at)
	}
}

func (p *packer) line(i int) []byte {
	e := &p.events[i]
	return p.arena[e.off : e.off+e.n]
}

// packPlain fills ndjson messages up to the byte and event caps.
func (p *packer) packPlain(n int, at func(int) int) {
	max := p.cfg.MaxMessageBytes
	var cur []int
	raw := 0
	flush := func() {
		if len(cur) == 0 {
			return
		}
		p.emit(cur, p.joined(cur, raw), raw+attrBytes(p.format, len(cur)))
		cur = cur[:0]
		raw = 0
	}
	for k := 0; k < n; k++ {
		i := at(k)
		e := &p.events[i]
		if e.n+attrBytes(p.format, 1) > max {
			p.dropped = append(p.dropped, i)
			continue
		}
		add := e.n
		if len(cur) > 0 {
			add++ // the newline before it
		}
		if len(cur) > 0 && (raw+add+attrBytes(p.format, len(cur)+1) > max ||
			p.full(len(cur))) {
			flush()
			add = e.n
		}
		cur = append(cur, i)
		raw += add
	}
	flush()
}

// joined returns the lines of events idx joined by newlines (raw bytes long).
func (p *packer) joined(idx []int, raw int) string {
	b, _ := p.lines(idx, raw, nil)
	return string(b)
}

// lines returns the lines of events idx joined by newlines (raw bytes
// long). Consecutive events written one after another in the arena are one
// slice of it already; others are joined into buf (grown to raw), and
// copied says so.
func (p *packer) lines(idx []int, raw int, buf []byte) (b []byte, copied bool) {
	first, last := &p.events[idx[0]], &p.events[idx[len(idx)-1]]
	if last.off+last.n-first.off == raw && p.contiguous(idx) {
		return p.arena[first.off : last.off+last.n], false
	}
	b = slices.Grow(buf[:0], raw)
	for j, i := range idx {
		if j > 0 {
			b = append(b, '\n')
		}
		b = append(b, p.line(i)...)
	}
	return b, true
}

// contiguous reports whether idx are consecutive events, each followed by
// one newline in the arena.
func (p *packer) contiguous(idx []int) bool {
	for j := 1; j < len(idx); j++ {
		prev := &p.events[idx[j-1]]
		if idx[j] != idx[j-1]+1 || p.events[idx[j]].off != prev.off+prev.n+1 {
			return false
		}
	}
	return true
}

// Bounds of what one message holds whatever max_message_bytes allows: the
// sqs input's defaults (max_message_bytes 4M decoded, max_records_per_message
// 10000) take any message the output packs. Gzip alone would not bound the
// decoded size: a run is chosen by its compressed size.
const (
	MaxPackedBytes  = 4 << 20 // ndjson before gzip
	MaxPackedEvents = 10000
)

// full reports whether a message of n events may take no more.
func (p *packer) full(n int) bool {
	return n >= MaxPackedEvents || (p.cfg.MaxEvents > 0 && n >= p.cfg.MaxEvents)
}

// packCompressed fills compressed+base64 messages (gzip or s2) close to
// the cap: it takes a run of events whose raw size should compress to just
// under the cap at the ratio seen so far in this flush (runMargin; the
// flush's first run is probeBytes when the flush is large), compresses
// it, grows the run while it is well under the cap and shrinks it while
// it is too big.
func (p *packer) packCompressed(n int, at func(int) int) {
	max := p.cfg.MaxMessageBytes
	// Largest compressed size whose base64 fits beside the attributes.
	capC := (max - attrBytes(p.format, 9999999)) / 4 * 3
	ratio := 0.5 // compressed / raw; learnt from each message of this flush
	first := min(float64(capC)/ratio, MaxPackedBytes)
	if float64(p.rawSize(0, n, at)) > first {
		first = min(first, probeBytes)
	}
	idx := make([]int, 0, 64)
	for k := 0; k < n; {
		// Choose a run by raw size.
		target := min(float64(capC)/ratio*runMargin, MaxPackedBytes)
		if k == 0 {
			target = first
		}
		idx = idx[:0]
		raw := 0
		for j := k; j < n; j++ {
			e := &p.events[at(j)]
			add := e.n
			if len(idx) > 0 {
				add++
			}
			if len(idx) > 0 && (float64(raw+add) > target || p.full(len(idx))) {
				break
			}
			idx = append(idx, at(j))
			raw += add
		}
		grows := 0
		shrunk := false
		for {
			c := p.compress(idx, raw)
			size := base64.StdEncoding.EncodedLen(c) + attrBytes(p.format, len(idx))
			if raw > 0 {
				if r := float64(c) / float64(raw); r > 0.001 {
					ratio = r
				}
			}
			end := k + len(idx) // next event not in the run
			full := p.full(len(idx))
			if size <= max && !shrunk && grows < 3 && end < n && !full && float64(size) < float64(max)*growBelow {
				// Well under the cap with events left: the estimate was
				// pessimistic. Take more at the ratio just measured.
				grows++
				target := min(float64(capC)/ratio*runMargin, MaxPackedBytes)
				for j := end; j < n; j++ {
					e := &p.events[at(j)]
					if float64(raw+1+e.n) > target || p.full(len(idx)) {
						break
					}
					idx = append(idx, at(j))
					raw += 1 + e.n
				}
				if k+len(idx) > end {
					continue
				}
			}
			if size <= max {
				body := fastb64.EncodeToString(p.zipped)
				p.emit(idx, body, size)
				k += len(idx)
				break
			}
			if len(idx) == 1 {
				p.dropped = append(p.dropped, idx[0])
				k++
				break
			}
			// Too big: keep the share that should fit, with a margin.
			shrunk = true
			keep := int(float64(len(idx)) * float64(capC) / float64(c) * runMargin)
			if keep >= len(idx) {
				keep = len(idx) - 1
			}
			if keep < 1 {
				keep = 1
			}
			idx = idx[:keep]
			raw = p.rawSize(k, k+keep, at)
		}
	}
}

// How packCompressed sizes its runs so that each message is compressed
// about once. On the shipped edge under full load (flushes of about 9,000
// events, 2.9 MB of ndjson; max_message_bytes 256K, s2; BenchmarkEdgeIngest)
// it compressed 1.32-1.35 times the flush's ndjson, 4.6 compressions a
// flush for 3.1 messages; with these, 1.05 times, 4.2 compressions for 3.1
// messages (2026-12-03).
const (
	// probeBytes is the first run of a flush that one message at ratio
	// 0.5 would not hold: it learns the ratio, then grows to what should
	// fill a message. A first run taken at 0.5 was a third of a message
	// (JSON compresses several times better) and was compressed again
	// whole when it grew. A flush that one message at 0.5 holds is still
	// compressed once.
	probeBytes = 64 << 10
	// runMargin aims each run below the cap by the ratio just measured
	// (and a run that came out too large, shrunk, by its own): the next
	// run's ratio differs by a few percent, and aimed at the cap itself
	// half the runs came out too large and were compressed again.
	runMargin = 0.95
	// growBelow: a run whose message comes out under this share of the cap
	// grows (and is compressed again). Well under the aim, because the
	// probe's ratio is a few percent worse than a whole message's (a small
	// sample compresses less): at 0.9 most first messages grew twice.
	growBelow = 0.85
)

// rawSize is the ndjson size of events at(from)..at(to-1), newlines
// between them included.
func (p *packer) rawSize(from, to int, at func(int) int) int {
	size := to - from - 1
	for j := from; j < to; j++ {
		size += p.events[at(j)].n
	}
	return size
}

// compress compresses the lines of idx joined by newlines (raw bytes in
// all, as the caller counted them) into p.zipped and returns the
// compressed size.
func (p *packer) compress(idx []int, raw int) int {
	src, copied := p.lines(idx, raw, p.joinBuf)
	if copied {
		p.joinBuf = src // kept: it never aliases the arena
	}
	if p.cfg.Compression == CompressS2 {
		// An S2 block: its header holds the decoded length, which the
		// sqs input checks against its bound before decoding.
		p.s2Buf = s2.Encode(p.s2Buf[:cap(p.s2Buf)], src)
		p.zipped = p.s2Buf
		return len(p.zipped)
	}
	if p.gz == nil {
		p.gz, _ = gzip.NewWriterLevel(nil, gzip.BestSpeed) // a valid level: no error
	}
	p.gzBuf.Reset()
	p.gz.Reset(&p.gzBuf)
	_, _ = p.gz.Write(src)
	_ = p.gz.Close()
	p.zipped = p.gzBuf.Bytes()
	return len(p.zipped)
}

// release lets go of the last flush's output (the compressors are kept).
func (p *packer) release() {
	if p.gz != nil {
		p.gz.Reset(nil)
	}
	p.zipped = nil
	if p.gzBuf.Cap() > 2*MaxPackedBytes {
		p.gzBuf = bytes.Buffer{}
	}
	if cap(p.s2Buf) > 2*MaxPackedBytes {
		p.s2Buf = nil
	}
	if cap(p.joinBuf) > 2*MaxPackedBytes {
		p.joinBuf = nil
	}
}

// emit appends a message for events idx.
func (p *packer) emit(idx []int, body string, size int) {
	m := message{body: body, count: len(idx), size: size, first: idx[0]}
	if p.cfg.FIFO {
		m.group = p.events[idx[0]].gid
		m.dedup = p.dedupID(idx)
	}
	p.msgs = append(p.msgs, m)
}

// dedupID derives a message's MessageDeduplicationId from its events: an
// event's own value when the message holds one event and the value is a
// valid id, else the hex SHA-256 of the events' values (or, for an event
// without one, its JSON line), newline-separated.
func (p *packer) dedupID(idx []int) string {
	if len(idx) == 1 {
		if d := p.events[idx[0]].dedup; validSQSID(string(d)) {
			return string(d)
		}
	}
	h := sha256.New()
	for _, i := range idx {
		if d := p.events[i].dedup; len(d) > 0 {
			h.Write(d)
		} else {
			h.Write(p.line(i))
		}
		h.Write([]byte{'\n'})
	}
	var sum [32]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// batch is one SendMessageBatch request: indexes into the flush's messages.
type batch []int

// makeBatches groups messages (those not yet delivered) into requests of at
// most 10 entries and maxBytes bytes, in order.
func makeBatches(msgs []message, skip func(int) bool, maxBytes int) []batch {
	var out []batch
	var cur batch
	size := 0
	for i := range msgs {
		if skip != nil && skip(i) {
			continue
		}
		if len(cur) > 0 && (len(cur) == maxEntriesPerBatch || size+msgs[i].size > maxBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, i)
		size += msgs[i].size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// entryID names message i of a flush in a SendMessageBatch request.
func entryID(i int) string { return "m" + strconv.Itoa(i) }
