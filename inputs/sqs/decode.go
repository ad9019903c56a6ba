package sqs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"time"

	jsoniter "github.com/json-iterator/go"
	"github.com/tinylib/msgp/msgp"
	"github.com/valyala/fastjson"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/plugins/record"
)

// Values of the whirlpool.format message attribute (see outputs/sqs).
const (
	FormatAttribute = "whirlpool.format"
	formatEvent     = "event"
	formatNDJSON    = "ndjson"
	formatGzipB64   = "ndjson.gz.b64"
)

// UndecodableMessage is the failure code of a message that cannot be read.
const UndecodableMessage = string(validate.UndecodableMessage)

// message is what the decoder needs of one SQS message.
type message struct {
	id     string
	body   string
	format string    // "" when the attribute is absent
	sent   time.Time // SentTimestamp, or the receipt time
}

// decoder turns message bodies into records. It is used by one goroutine at a
// time.
type decoder struct {
	iter       *jsoniter.Iterator
	maxDecoded int64
	raw        []byte // decompressed body
	gz         *gzip.Reader
	pieces     []piece // of the last message
}

func newDecoder(maxDecoded int64) *decoder {
	return &decoder{iter: jsoniter.NewIterator(jsoniter.ConfigCompatibleWithStandardLibrary), maxDecoded: maxDecoded}
}

// piece is one record appendMessage appended: where it ends, and whether
// the decoder built it as a failure record. Only such records pass as
// failures; nothing in a message makes a record count as validated.
type piece struct {
	end     int
	failure bool
}

// appendMessage appends the records of m to dst; it never fails: what cannot
// be decoded becomes failure records. It returns one piece per record.
func (d *decoder) appendMessage(dst []byte, m message) ([]byte, []piece) {
	d.pieces = d.pieces[:0]
	var body []byte
	switch m.format {
	case "", formatEvent:
		dst = d.appendLine(dst, []byte(m.body), m, 0)
		return dst, d.pieces
	case formatNDJSON:
		body = []byte(m.body)
	case formatGzipB64:
		var err error
		if body, err = d.gunzip(m.body); err != nil {
			dst = d.appendUndecodable(dst, m, 0, []byte(m.body), err.Error())
			return dst, d.pieces
		}
	default:
		dst = d.appendUndecodable(dst, m, 0, []byte(m.body), fmt.Sprintf("unknown %s %q", FormatAttribute, m.format))
		return dst, d.pieces
	}
	n := 0
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		dst = d.appendLine(dst, line, m, n)
		n++
	}
	if n == 0 {
		dst = d.appendUndecodable(dst, m, 0, []byte(m.body), "the message holds no record")
	}
	return dst, d.pieces
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

func (d *decoder) gunzip(b64 string) ([]byte, error) {
	zipped, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("base64: %w", err)
	}
	if d.gz == nil {
		d.gz, err = gzip.NewReader(bytes.NewReader(zipped))
	} else {
		err = d.gz.Reset(bytes.NewReader(zipped))
	}
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	buf := bytes.NewBuffer(d.raw[:0])
	n, err := io.Copy(buf, io.LimitReader(d.gz, d.maxDecoded+1))
	d.raw = buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if n > d.maxDecoded {
		return nil, fmt.Errorf("decompressed message is larger than max_message_bytes (%d)", d.maxDecoded)
	}
	return d.raw, nil
}

// appendLine appends the contract record of one JSON object, or a failure
// record.
func (d *decoder) appendLine(dst []byte, line []byte, m message, index int) []byte {
	if err := fastjson.ValidateBytes(line); err != nil {
		return d.appendUndecodable(dst, m, index, line, fmt.Sprintf("not valid JSON: %v", err))
	}
	if line[0] != '{' {
		return d.appendUndecodable(dst, m, index, line, "not a JSON object")
	}
	env, err := d.readEnvelope(line)
	if err != nil {
		return d.appendUndecodable(dst, m, index, line, err.Error())
	}
	if env.problem != "" {
		return d.appendFailure(dst, validate.DecodeFailure{Time: m.sent, UUID: failureUUID(m, index),
			Game: env.game, Version: env.version, Event: env.event, Text: line, Code: validate.EndpointInvalid,
			Path: env.path, Reason: fmt.Sprintf("SQS message %s, record %d: %s", m.id, index, env.problem)})
	}
	t, err := time.Parse(time.RFC3339Nano, string(env.firedTS))
	if err != nil {
		t = m.sent // the validator reports the bad fired_ts
	}
	dst = record.AppendRecord(dst, t, nil, nil)
	dst = msgp.AppendMapHeader(dst, 6)
	for _, kv := range [...]struct {
		k string
		v []byte
	}{{enrich.FieldUUID, env.uuid}, {enrich.FieldFiredTS, env.firedTS}, {enrich.FieldGame, env.game},
		{enrich.FieldVersion, env.version}, {enrich.FieldEvent, env.event}, {enrich.FieldBody, env.body}} {
		dst = msgp.AppendString(dst, kv.k)
		dst = msgp.AppendStringFromBytes(dst, kv.v)
	}
	d.pieces = append(d.pieces, piece{end: len(dst)})
	return dst
}

// envelope holds the contract fields of a JSON record, or why it is not
// in the contract.
type envelope struct {
	uuid, firedTS, game, version, event []byte
	body                                []byte // raw JSON object
	problem, path                       string // first reason it is not in the contract
}

// readEnvelope takes the record contract's keys from a JSON object and
// nothing else: any other key (columns, destinations, errors, ... of the
// validated-record form, or anything) is dropped, so a message can never
// say how its event is loaded.
func (d *decoder) readEnvelope(line []byte) (*envelope, error) {
	env := &envelope{}
	seen := 0
	it := d.iter.ResetBytes(line)
	it.ReadObjectCB(func(it *jsoniter.Iterator, key string) bool {
		var p *[]byte
		bit := 0
		switch key {
		case enrich.FieldUUID:
			p, bit = &env.uuid, 1
		case enrich.FieldFiredTS:
			p, bit = &env.firedTS, 2
		case enrich.FieldGame:
			p, bit = &env.game, 4
		case enrich.FieldVersion:
			p, bit = &env.version, 8
		case enrich.FieldEvent:
			p, bit = &env.event, 16
		case enrich.FieldBody:
			p, bit = &env.body, 32
		default:
			it.Skip()
			return true
		}
		if seen&bit != 0 {
			env.fail(key, fmt.Sprintf("key %q appears twice", key))
			it.Skip()
			return true
		}
		seen |= bit
		switch {
		case key == enrich.FieldBody && it.WhatIsNext() == jsoniter.ObjectValue:
			*p = it.SkipAndReturnBytes()
		case key == enrich.FieldBody:
			env.fail(key, "body is not a JSON object")
			it.Skip()
		case it.WhatIsNext() == jsoniter.StringValue:
			*p = []byte(it.ReadString())
		default:
			env.fail(key, fmt.Sprintf("key %q is not a string", key))
			it.Skip()
		}
		return true
	})
	if it.Error != nil && it.Error != io.EOF {
		return nil, it.Error
	}
	for i, k := range [...]string{enrich.FieldUUID, enrich.FieldFiredTS, enrich.FieldGame, enrich.FieldVersion, enrich.FieldEvent, enrich.FieldBody} {
		if seen&(1<<i) == 0 {
			env.fail(k, fmt.Sprintf("key %q is missing", k))
		}
	}
	return env, nil
}

func (e *envelope) fail(key, problem string) {
	if e.problem == "" {
		e.problem, e.path = "not a record of the record contract: "+problem, key
	}
}

// appendUndecodable appends the UNDECODABLE_MESSAGE failure record for text
// (a message, or one line of one) that could not be decoded.
func (d *decoder) appendUndecodable(dst []byte, m message, index int, text []byte, reason string) []byte {
	return d.appendFailure(dst, validate.DecodeFailure{Time: m.sent, UUID: failureUUID(m, index), Text: text,
		Code: validate.UndecodableMessage, Reason: fmt.Sprintf("SQS message %s, record %d: %s", m.id, index, reason)})
}

// appendFailure appends a failure record the decoder built, marked as such.
func (d *decoder) appendFailure(dst []byte, f validate.DecodeFailure) []byte {
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
