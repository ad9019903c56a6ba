package sqs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
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
}

func newDecoder(maxDecoded int64) *decoder {
	return &decoder{iter: jsoniter.NewIterator(jsoniter.ConfigCompatibleWithStandardLibrary), maxDecoded: maxDecoded}
}

// appendMessage appends the records of m to dst; it never fails: what cannot
// be decoded becomes failure records. It returns the number of records and
// how many of them are failures.
func (d *decoder) appendMessage(dst []byte, m message) ([]byte, int, int) {
	var body []byte
	switch m.format {
	case "", formatEvent:
		body = []byte(m.body)
		dst, ok := d.appendLine(dst, body, m, 0)
		if !ok {
			return dst, 1, 1
		}
		return dst, 1, 0
	case formatNDJSON:
		body = []byte(m.body)
	case formatGzipB64:
		var err error
		if body, err = d.gunzip(m.body); err != nil {
			return appendFailure(dst, m, 0, []byte(m.body), err.Error()), 1, 1
		}
	default:
		return appendFailure(dst, m, 0, []byte(m.body), fmt.Sprintf("unknown %s %q", FormatAttribute, m.format)), 1, 1
	}
	n, failed := 0, 0
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
		var ok bool
		if dst, ok = d.appendLine(dst, line, m, n); !ok {
			failed++
		}
		n++
	}
	if n == 0 {
		return appendFailure(dst, m, 0, []byte(m.body), "the message holds no record"), 1, 1
	}
	return dst, n, failed
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

// appendLine appends the record of one JSON object, or a failure record.
func (d *decoder) appendLine(dst []byte, line []byte, m message, index int) ([]byte, bool) {
	start := len(dst)
	out, err := d.appendJSONRecord(dst, line, m.sent)
	if err != nil {
		return appendFailure(dst[:start], m, index, line, err.Error()), false
	}
	return out, true
}

// envelope holds the contract fields found in a JSON record.
type envelope struct {
	uuid, firedTS, game, version, event []byte
	body                                []byte // raw JSON object
	others                              int
}

func (e *envelope) isContract() bool {
	return e.others == 0 && e.uuid != nil && e.firedTS != nil && e.game != nil && e.version != nil && e.event != nil && e.body != nil
}

func (d *decoder) appendJSONRecord(dst, line []byte, sent time.Time) ([]byte, error) {
	if err := fastjson.ValidateBytes(line); err != nil {
		return dst, fmt.Errorf("not valid JSON: %v", err)
	}
	if line[0] != '{' {
		return dst, errors.New("not a JSON object")
	}
	var env envelope
	it := d.iter.ResetBytes(line)
	it.ReadObjectCB(func(it *jsoniter.Iterator, key string) bool {
		var p *[]byte
		switch key {
		case enrich.FieldUUID:
			p = &env.uuid
		case enrich.FieldFiredTS:
			p = &env.firedTS
		case enrich.FieldGame:
			p = &env.game
		case enrich.FieldVersion:
			p = &env.version
		case enrich.FieldEvent:
			p = &env.event
		case enrich.FieldBody:
			if it.WhatIsNext() == jsoniter.ObjectValue {
				env.body = it.SkipAndReturnBytes()
				return true
			}
		}
		if p != nil && it.WhatIsNext() == jsoniter.StringValue && *p == nil {
			*p = []byte(it.ReadString())
			return true
		}
		env.others++
		it.Skip()
		return true
	})
	if it.Error != nil && it.Error != io.EOF {
		return dst, it.Error
	}
	if env.isContract() {
		t, err := time.Parse(time.RFC3339Nano, string(env.firedTS))
		if err != nil {
			t = sent
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
		return dst, nil
	}
	dst = record.AppendRecord(dst, sent, nil, nil)
	return d.appendValue(dst, it.ResetBytes(line), 0)
}

const maxDepth = 1000

// appendValue transcodes one JSON value to msgpack. Map and array sizes are
// written as 32-bit headers and patched when the count is known.
func (d *decoder) appendValue(dst []byte, it *jsoniter.Iterator, depth int) ([]byte, error) {
	if depth > maxDepth {
		return dst, errors.New("nested deeper than 1000 levels")
	}
	switch it.WhatIsNext() {
	case jsoniter.ObjectValue:
		at := len(dst)
		dst = append(dst, 0xdf, 0, 0, 0, 0)
		n := 0
		var err error
		it.ReadMapCB(func(it *jsoniter.Iterator, key string) bool {
			dst = msgp.AppendString(dst, key)
			dst, err = d.appendValue(dst, it, depth+1)
			n++
			return err == nil
		})
		if err != nil {
			return dst, err
		}
		putUint32(dst[at+1:], n)
	case jsoniter.ArrayValue:
		at := len(dst)
		dst = append(dst, 0xdd, 0, 0, 0, 0)
		n := 0
		var err error
		it.ReadArrayCB(func(it *jsoniter.Iterator) bool {
			dst, err = d.appendValue(dst, it, depth+1)
			n++
			return err == nil
		})
		if err != nil {
			return dst, err
		}
		putUint32(dst[at+1:], n)
	case jsoniter.StringValue:
		dst = msgp.AppendString(dst, it.ReadString())
	case jsoniter.NumberValue:
		num := it.ReadNumber()
		if i, err := strconv.ParseInt(string(num), 10, 64); err == nil {
			dst = msgp.AppendInt64(dst, i)
		} else if u, err := strconv.ParseUint(string(num), 10, 64); err == nil {
			dst = msgp.AppendUint64(dst, u)
		} else if f, err := strconv.ParseFloat(string(num), 64); err == nil && !math.IsInf(f, 0) {
			dst = msgp.AppendFloat64(dst, f)
		} else {
			dst = msgp.AppendString(dst, string(num)) // out of float range: keep the digits
		}
	case jsoniter.BoolValue:
		dst = msgp.AppendBool(dst, it.ReadBool())
	case jsoniter.NilValue:
		it.ReadNil()
		dst = msgp.AppendNil(dst)
	default:
		return dst, errors.New("not valid JSON")
	}
	if it.Error != nil && it.Error != io.EOF {
		return dst, it.Error
	}
	return dst, nil
}

func putUint32(b []byte, n int) {
	b[0], b[1], b[2], b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
}

// appendFailure appends the UNDECODABLE_MESSAGE failure record for text
// (a message, or one line of one) that could not be decoded. Its uuid is
// derived from the message id and the line, so a redelivered message yields
// the same failure, which the loader's dedupe keeps once.
func appendFailure(dst []byte, m message, index int, text []byte, reason string) []byte {
	seed := sha256.Sum256([]byte(m.id))
	uuid := enrich.FormatUUID(enrich.DeterministicUUID(m.sent, seed, index))
	return validate.AppendUndecodable(dst, m.sent, uuid, text, fmt.Sprintf("SQS message %s, record %d: %s", m.id, index, reason))
}
