package sqs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"time"
	"unsafe"

	"github.com/klauspost/compress/s2"
	"github.com/tidwall/gjson"
	"github.com/valyala/fastjson"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/fastb64"
	"github.com/whirlpool-events/whirlpool/internal/fieldname"
	"github.com/whirlpool-events/whirlpool/internal/jsonscan"
	"github.com/whirlpool-events/whirlpool/internal/timefmt"
)

// Values of the whirlpool.format message attribute (see outputs/sqs).
const (
	FormatAttribute = "whirlpool.format"
	formatEvent     = "event"
	formatNDJSON    = "ndjson"
	formatGzipB64   = "ndjson.gz.b64"
	formatS2B64     = "ndjson.s2.b64"
)

// message is what the decoder needs of one SQS message.
type message struct {
	id     string
	body   string
	format string    // "" when the attribute is absent
	sent   time.Time // SentTimestamp, or the receipt time
}

// firedAt is a record's time in its chunk: its fired_ts, read as the
// validator reads it, or, when that is not a time (the validator reports
// it), when m was sent.
func (d *decoder) firedAt(m message, firedTS []byte) time.Time {
	if t, ok := d.firedTS.Parse(firedTS); ok {
		return t
	}
	return m.sent
}

// decoder turns message bodies into records. It is used by one goroutine at a
// time.
type decoder struct {
	bounds bounds
	// room is how many record bytes the next message may add to the
	// buffer (max_buffered_bytes less what is buffered); 0: no bound.
	room int64
	// over is the bound the last message crossed, if any.
	over   bound
	gz     *gzip.Reader
	br     *bufio.Reader
	zipped []byte  // the base64-decoded body
	plain  []byte  // the decoded S2 block (at most max_message_bytes)
	line   []byte  // a gunzipped line longer than br's buffer
	prefix prefix  // first bytes of the last gunzipped message
	pieces []piece // of the last message
	// enrich, when its keys are on, reads records outside the record
	// contract (fluentd's) instead of failing them (fluentd.go).
	enrich    enrichment
	memberBuf []member
	env       envelope            // of the last line
	firedTS   timefmt.LastRFC3339 // reads the records' fired_ts (firedAt)
	// validator, when set, validates every contract record as it is
	// decoded: the decoder then appends valid records and failures.
	validator *validate.Validator
}

// bounds are the per-message limits: what one message may cost is known
// before it is read, whatever it holds (a 1 KiB gzip can hold 1 GiB).
type bounds struct {
	maxBytes   int64 // largest decoded message (max_message_bytes)
	maxRecords int   // most records in one message (max_records_per_message)
	// maxText is the most raw text one failure keeps (max_event_size;
	// 0: validate.DefaultMaxEventSize), so a record of 64 MB outside the
	// contract is no failure row of 64 MB.
	maxText int
}

// bound names the limit a message crossed.
type bound string

const (
	withinBounds   bound = ""
	overMaxBytes   bound = "max_message_bytes"
	overMaxRecords bound = "max_records_per_message"
	overBuffered   bound = "max_buffered_bytes"
)

// failurePrefix is how much of a message over a bound its failure keeps: the
// evidence, never the message's decoded size.
const failurePrefix = 64 << 10

func newDecoder(b bounds) *decoder {
	return &decoder{bounds: b}
}

// piece is one record appendMessage appended (with a validator, what the
// validator made of it): where it ends, and whether the decoder built it as
// a failure record. Nothing in a message makes a record count as
// validated: the decoder validates every contract record itself.
type piece struct {
	end     int
	failure bool
}

// appendMessage appends the records of m to dst; it never fails: what cannot
// be decoded becomes failure records, and a message over a bound becomes one
// failure (d.over says which bound). It returns one piece per record.
func (d *decoder) appendMessage(dst []byte, m message) ([]byte, []piece) {
	d.pieces, d.over = d.pieces[:0], withinBounds
	switch m.format {
	case "", formatEvent:
		if int64(len(m.body)) > d.bounds.maxBytes {
			return d.appendOverBound(dst, m, overMaxBytes, []byte(m.body)), d.pieces
		}
		start := len(dst)
		dst = d.appendLine(dst, []byte(m.body), m, 0)
		if d.room > 0 && int64(len(dst)-start) > d.room {
			return d.appendOverBound(dst[:start], m, overBuffered, []byte(m.body)), d.pieces
		}
		return dst, d.pieces
	case formatNDJSON:
		if int64(len(m.body)) > d.bounds.maxBytes {
			return d.appendOverBound(dst, m, overMaxBytes, []byte(m.body)), d.pieces
		}
		// The lines alias the body, read only: a copy of a message of
		// a thousand records was its one allocation.
		body := unsafe.Slice(unsafe.StringData(m.body), len(m.body))
		return d.appendLines(dst, m, nextLine(body), func() []byte { return []byte(m.body) })
	case formatGzipB64:
		if err := d.openGzip(m.body); err != nil {
			return d.appendUndecodable(dst, m, 0, []byte(m.body), err.Error()), d.pieces
		}
		return d.appendLines(dst, m, d.gzipLine, d.prefix.bytes)
	case formatS2B64:
		plain, err := d.openS2(m.body)
		if err == errTooLarge {
			return d.appendOverBound(dst, m, overMaxBytes, []byte(m.body)), d.pieces
		}
		if err != nil {
			return d.appendUndecodable(dst, m, 0, []byte(m.body), err.Error()), d.pieces
		}
		return d.appendLines(dst, m, nextLine(plain), func() []byte { return d.plain })
	default:
		return d.appendUndecodable(dst, m, 0, []byte(m.body), fmt.Sprintf("unknown %s %q", FormatAttribute, m.format)), d.pieces
	}
}

// appendLines appends the record of every non-blank line next returns,
// stopping at the first bound crossed: then the records appended so far are
// dropped and the message becomes one failure holding first().
func (d *decoder) appendLines(dst []byte, m message, next func() ([]byte, error), first func() []byte) ([]byte, []piece) {
	start, n := len(dst), 0
	for {
		line, err := next()
		if err == errTooLarge {
			return d.appendOverBound(dst[:start], m, overMaxBytes, first()), d.pieces
		}
		if err != nil && err != io.EOF {
			d.pieces = d.pieces[:0]
			return d.appendUndecodable(dst[:start], m, 0, []byte(m.body), err.Error()), d.pieces
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			if n == d.bounds.maxRecords {
				return d.appendOverBound(dst[:start], m, overMaxRecords, first()), d.pieces
			}
			dst = d.appendLine(dst, line, m, n)
			n++
			if d.room > 0 && int64(len(dst)-start) > d.room {
				return d.appendOverBound(dst[:start], m, overBuffered, first()), d.pieces
			}
		}
		if err == io.EOF {
			break
		}
	}
	if n == 0 {
		dst = d.appendUndecodable(dst, m, 0, []byte(m.body), "the message holds no record")
	}
	return dst, d.pieces
}

// nextLine returns a reader of the lines of b (without their newlines),
// which alias b; io.EOF after the last one.
func nextLine(b []byte) func() ([]byte, error) {
	return func() ([]byte, error) {
		if len(b) == 0 {
			return nil, io.EOF
		}
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		return line, nil
	}
}

// errTooLarge: the decoded message is over max_message_bytes.
var errTooLarge = errors.New("decoded message over max_message_bytes")

// openGzip starts streaming the gunzipped body of m through a reader bounded
// by max_message_bytes, keeping its first bytes for a failure.
func (d *decoder) openGzip(b64 string) error {
	// The base64 text is at most a message's wire size (SQS: 1 MiB).
	zipped, err := fastb64.AppendDecodeString(d.zipped[:0], b64)
	if err != nil {
		return fmt.Errorf("base64: %w", err)
	}
	d.zipped = zipped
	src := bytes.NewReader(zipped)
	if d.gz == nil {
		d.gz, err = gzip.NewReader(src)
	} else {
		err = d.gz.Reset(src)
	}
	if err != nil {
		return fmt.Errorf("gzip: %w", err)
	}
	d.prefix.b = d.prefix.b[:0]
	r := io.TeeReader(io.LimitReader(d.gz, d.bounds.maxBytes+1), &d.prefix)
	if d.br == nil {
		d.br = bufio.NewReaderSize(r, 64<<10)
	} else {
		d.br.Reset(r)
	}
	d.prefix.total = 0
	return nil
}

// openS2 decodes the S2 block of m into d.plain. The block's header gives
// its decoded length, which is checked against max_message_bytes before
// anything is decoded (errTooLarge).
func (d *decoder) openS2(b64 string) ([]byte, error) {
	// The base64 text is at most a message's wire size (SQS: 1 MiB).
	block, err := fastb64.AppendDecodeString(d.zipped[:0], b64)
	if err != nil {
		return nil, fmt.Errorf("base64: %w", err)
	}
	d.zipped = block
	n, err := s2.DecodedLen(block)
	if err != nil {
		return nil, fmt.Errorf("s2: %w", err)
	}
	if int64(n) > d.bounds.maxBytes {
		return nil, errTooLarge
	}
	if cap(d.plain) < n {
		d.plain = make([]byte, n)
	}
	plain, err := s2.Decode(d.plain[:cap(d.plain)], block)
	if err != nil {
		return nil, fmt.Errorf("s2: %w", err)
	}
	d.plain = plain
	return plain, nil
}

// gzipLine returns the next gunzipped line (without its newline), io.EOF
// after the last one, or errTooLarge past max_message_bytes.
func (d *decoder) gzipLine() ([]byte, error) {
	line, err := d.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		d.line = append(d.line[:0], line...)
		for err == bufio.ErrBufferFull && d.prefix.total <= d.bounds.maxBytes {
			line, err = d.br.ReadSlice('\n')
			d.line = append(d.line, line...)
		}
		line = d.line
	} else if cap(d.line) > 1<<20 {
		d.line = nil // a long line of an earlier message: do not keep it per poller
	}
	if d.prefix.total > d.bounds.maxBytes {
		return nil, errTooLarge
	}
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return bytes.TrimSuffix(line, []byte{'\n'}), err
}

// prefix keeps the first failurePrefix bytes written to it and counts all.
type prefix struct {
	b     []byte
	total int64
}

func (p *prefix) Write(b []byte) (int, error) {
	p.total += int64(len(b))
	if room := failurePrefix - len(p.b); room > 0 {
		p.b = append(p.b, b[:min(room, len(b))]...)
	}
	return len(b), nil
}

func (p *prefix) bytes() []byte { return p.b }

// appendOverBound appends the one failure of a message over a bound: its
// first decoded bytes (at most failurePrefix, and at most max_event_size,
// cut at a character boundary) with the length and SHA-256 of its body as
// received (body_bytes, body_sha256), so it can be found and replayed.
func (d *decoder) appendOverBound(dst []byte, m message, b bound, first []byte) []byte {
	d.pieces, d.over = d.pieces[:0], b
	keep := failurePrefix
	if d.bounds.maxText > 0 {
		keep = min(keep, d.bounds.maxText)
	}
	first = validate.PrefixUTF8(first, keep)
	var limit int64
	switch b {
	case overMaxBytes:
		limit = d.bounds.maxBytes
	case overMaxRecords:
		limit = int64(d.bounds.maxRecords)
	case overBuffered:
		limit = d.room
	}
	f := undecodable(m, 0, first, fmt.Sprintf(
		"over %s (%d): not decoded; body holds its first %d decoded bytes, body_bytes and body_sha256 describe the message body as received",
		b, limit, len(first)))
	f.Whole = validate.DigestOf([]byte(m.body))
	return d.appendFailure(dst, f)
}

// failures counts the failure records among pieces.
func failures(pieces []piece) int {
	n := 0
	for _, p := range pieces {
		if p.failure {
			n++
		}
	}
	return n
}

// appendLine appends the contract record of one JSON object, or a failure
// record.
func (d *decoder) appendLine(dst []byte, line []byte, m message, index int) []byte {
	env, ok := d.scanEnvelope(line)
	if !ok {
		if err := fastjson.ValidateBytes(line); err != nil {
			return d.appendUndecodable(dst, m, index, line, fmt.Sprintf("not valid JSON: %v", err))
		}
		if line[0] != '{' {
			return d.appendUndecodable(dst, m, index, line, "not a JSON object")
		}
		env = d.readEnvelope(line)
	}
	if env.problem != "" && d.enrich.keys.On && env.seen != contractBits {
		return d.appendEnriched(dst, line, m, index, env)
	}
	if env.problem != "" {
		return d.appendFailure(dst, validate.DecodeFailure{Time: m.sent, UUID: failureUUID(m, index),
			Game: env.game, Version: env.version, Event: env.event, Text: line, Code: failcode.EndpointInvalid,
			Path: env.path, Reason: fmt.Sprintf("SQS message %s, record %d: %s", m.id, index, env.problem)})
	}
	return d.appendContract(dst, d.firedAt(m, env.firedTS), env)
}

// envelope holds the contract fields of a JSON record, or why it is not
// in the contract.
type envelope struct {
	uuid, firedTS, game, version, event []byte
	body                                []byte // raw JSON object
	problem, path                       string // first reason it is not in the contract
	seen                                int    // a bit per contract key, in contract order
}

// contractBits are the seen bits of all six contract keys.
const contractBits = 1<<6 - 1

// readEnvelope takes the record contract's keys from a JSON object and
// nothing else: any other key (columns, destinations, errors, ... of the
// validated-record form, or anything) is dropped, so a message can never
// say how its event is loaded. It is the exact path, for any valid JSON
// object; scanEnvelope is the fast one.
func (d *decoder) readEnvelope(line []byte) *envelope {
	d.env = envelope{}
	env := &d.env
	// line is valid JSON (appendLine checked it); gjson walks it without
	// copying: every value below aliases line.
	gjson.Parse(unsafe.String(unsafe.SliceData(line), len(line))).ForEach(func(k, v gjson.Result) bool {
		switch {
		case v.IsObject():
			env.take(k.Str, valObject, rawOf(line, v))
		case v.Type == gjson.String:
			env.take(k.Str, valString, stringOf(line, v))
		default:
			env.take(k.Str, valOther, nil)
		}
		return true
	})
	env.finish()
	return env
}

// scanEnvelope checks that line is JSON and reads its envelope as
// readEnvelope does, in one pass of jsonscan, without a second walk nor
// gjson's: the two were ~75% of the decode's CPU (BenchmarkDecodeMessage
// profile, docs/benchmarks/2026-12-01-stages-2.txt). It reports false,
// leaving the line to the exact path (fastjson's error text, gjson's
// unescaping), when line is not a JSON object jsonscan accepts or when a
// top-level key or string value holds an escape (FuzzScanEnvelope).
//
// With a validator, an object body is skimmed, not checked: the validator
// checks it as it reads it, and fails it PAYLOAD_NOT_JSON if it is not
// JSON, so checking it here too read most of a line twice. A line whose
// envelope has a problem is checked whole before it is read further, as
// before (FuzzScanEnvelopeSkim).
func (d *decoder) scanEnvelope(line []byte) (*envelope, bool) {
	if len(line) == 0 || line[0] != '{' {
		return nil, false
	}
	d.env = envelope{}
	env := &d.env
	opts := jsonscan.Options{PlainTop: true} // keys and string values as written
	if d.validator != nil {
		opts.SkimKey = fieldname.Body
	}
	ok := jsonscan.Scan(line, opts, func(k, v []byte) bool {
		switch v[0] {
		case '{':
			env.take(unsafe.String(unsafe.SliceData(k), len(k)), valObject, v[:len(v):len(v)])
		case '"':
			env.take(unsafe.String(unsafe.SliceData(k), len(k)), valString, v[1:len(v)-1:len(v)-1])
		default:
			env.take(unsafe.String(unsafe.SliceData(k), len(k)), valOther, nil)
		}
		return true
	})
	if !ok {
		return nil, false
	}
	env.finish()
	if env.problem != "" && opts.SkimKey != "" && !jsonscan.Valid(line, jsonscan.Options{}) {
		return nil, false
	}
	return env, true
}

// Kinds of a top-level value, for take.
const (
	valOther = iota
	valObject
	valString
)

// contractKeys are the contract's keys, in the order of the seen bits.
var contractKeys = [...]string{fieldname.UUID, fieldname.FiredTS, fieldname.Game, fieldname.Version, fieldname.Event, fieldname.Body}

// take takes one top-level member: key (unescaped), the kind of its value
// and, for an object its raw text, for a string its text. Only the first
// problem is kept.
func (e *envelope) take(key string, kind int, value []byte) {
	var p *[]byte
	bit := 0
	switch key {
	case fieldname.UUID:
		p, bit = &e.uuid, 0
	case fieldname.FiredTS:
		p, bit = &e.firedTS, 1
	case fieldname.Game:
		p, bit = &e.game, 2
	case fieldname.Version:
		p, bit = &e.version, 3
	case fieldname.Event:
		p, bit = &e.event, 4
	case fieldname.Body:
		p, bit = &e.body, 5
	default:
		return
	}
	key = contractKeys[bit] // not the caller's text, which may alias a reused buffer
	if e.seen&(1<<bit) != 0 {
		e.fail(key, fmt.Sprintf("key %q appears twice", key))
		return
	}
	e.seen |= 1 << bit
	switch {
	case key == fieldname.Body && (kind == valObject || kind == valString):
		// A string body: the sqs output writes a body that is not one
		// compact JSON object (pretty-printed, say) as a JSON string of
		// its text; the validator reads that text as the client's event.
		*p = value
	case key == fieldname.Body:
		e.fail(key, "body is neither a JSON object nor a string")
	case kind == valString:
		*p = value
	default:
		e.fail(key, fmt.Sprintf("key %q is not a string", key))
	}
}

// finish fails the envelope for every contract key it lacks.
func (e *envelope) finish() {
	for i, k := range contractKeys {
		if e.seen&(1<<i) == 0 {
			e.fail(k, fmt.Sprintf("key %q is missing", k))
		}
	}
}

func (e *envelope) fail(key, problem string) {
	if e.problem == "" {
		e.problem, e.path = "not a record of the record contract: "+problem, key
	}
}

// appendUndecodable appends the UNDECODABLE_MESSAGE failure record for text
// (a message, or one line of one) that could not be decoded.
func (d *decoder) appendUndecodable(dst []byte, m message, index int, text []byte, reason string) []byte {
	return d.appendFailure(dst, undecodable(m, index, text, reason))
}

// undecodable is the UNDECODABLE_MESSAGE failure of text, record index of m.
func undecodable(m message, index int, text []byte, reason string) validate.DecodeFailure {
	return validate.DecodeFailure{Time: m.sent, UUID: failureUUID(m, index), Text: text,
		Code: failcode.UndecodableMessage, Reason: fmt.Sprintf("SQS message %s, record %d: %s", m.id, index, reason)}
}

// appendFailure appends a failure record the decoder built, marked as such,
// keeping at most max_event_size bytes of its text.
func (d *decoder) appendFailure(dst []byte, f validate.DecodeFailure) []byte {
	f.MaxText = d.bounds.maxText
	dst = validate.AppendDecodeFailure(dst, f)
	d.pieces = append(d.pieces, piece{end: len(dst), failure: true})
	return dst
}

// failureUUID derives a failure's uuid from the message id and the line,
// so a redelivered message yields the same failure, which the loader's
// dedupe keeps once.
func failureUUID(m message, index int) string {
	seed := sha256.Sum256([]byte(m.id))
	return enrich.FormatUUID(enrich.DeterministicUUID(m.sent, seed, index))
}

// rawOf is the exact bytes of v within line, at gjson's Index, without a
// copy; a copy of v.Raw should Index not point at it.
func rawOf(line []byte, v gjson.Result) []byte {
	if end := v.Index + len(v.Raw); v.Index > 0 && end <= len(line) && string(line[v.Index:end]) == v.Raw {
		return line[v.Index:end:end]
	}
	return []byte(v.Raw)
}

// stringOf is the text of the JSON string v: the bytes between its quotes
// within line when it holds no escape, else its unescaped copy.
func stringOf(line []byte, v gjson.Result) []byte {
	raw := rawOf(line, v)
	if len(raw) >= 2 && bytes.IndexByte(raw, '\\') < 0 {
		return raw[1 : len(raw)-1 : len(raw)-1]
	}
	return []byte(v.Str)
}
