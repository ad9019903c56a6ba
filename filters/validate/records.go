package validate

// This file holds the output records: the valid records (one per expanded
// element, with destinations and columns) and the failure records (the
// envelope, the raw text and every error), and the failures a reader of a
// queue builds for what it cannot decode.

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/fieldname"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// appendValid appends one valid record per element (one if not expanded).
func appendValid(dst []byte, rec record.Record, env *envelope, w *worker, d *cdef, n int) []byte {
	count := n
	if n == 0 {
		count = 1
	}
	ncol := len(d.columns)
	for i := 0; i < count; i++ {
		index := i
		if n == 0 {
			index = -1
		}
		dst = appendValidHead(dst, rec, env, d, index)
		for _, c := range d.columns {
			dst = append(dst, c.key...)
			sp := w.pslots[c.slot]
			if c.rel && n > 0 {
				sp = w.eslots[i*ncol+c.slot]
			}
			dst = append(dst, w.vals[sp.start:sp.end]...)
		}
	}
	return dst
}

// appendValidHead appends a valid record up to its columns' map header:
// the record's time and metadata, the envelope, the definition,
// expand_index (-1: not expanded) and the destinations. The columns'
// keys and values follow it.
func appendValidHead(dst []byte, rec record.Record, env *envelope, d *cdef, index int) []byte {
	meta := []byte(rec.Meta)
	if len(meta) == 0 {
		meta = nil
	}
	dst = record.AppendRecord(dst, rec.Time, meta, nil)
	dst = msgp.AppendMapHeader(dst, 9)
	dst = appendEnvelope(dst, env)
	dst = append(dst, d.validMid...)
	dst = msgp.AppendInt(dst, index)
	return append(dst, d.validTail...)
}

func appendEnvelope(dst []byte, env *envelope) []byte {
	dst = append(dst, msgpUUID...)
	dst = appendStrOrNil(dst, env.uuid, env.has&1 != 0)
	dst = append(dst, msgpFiredTS...)
	dst = appendStrOrNil(dst, env.firedTS, env.has&2 != 0)
	dst = append(dst, msgpGame...)
	dst = appendStrOrNil(dst, env.game, env.has&4 != 0)
	dst = append(dst, msgpVersion...)
	dst = appendStrOrNil(dst, env.version, env.has&8 != 0)
	dst = append(dst, msgpEvent...)
	return appendStrOrNil(dst, env.event, env.has&16 != 0)
}

// The envelope's keys, msgpack-encoded once.
var (
	msgpUUID    = msgp.AppendString(nil, keyUUID)
	msgpFiredTS = msgp.AppendString(nil, keyFiredTS)
	msgpGame    = msgp.AppendString(nil, keyGame)
	msgpVersion = msgp.AppendString(nil, keyVersion)
	msgpEvent   = msgp.AppendString(nil, keyEvent)
)

func appendStrOrNil(dst, s []byte, ok bool) []byte {
	if !ok {
		return msgp.AppendNil(dst)
	}
	return record.AppendStr(dst, s)
}

// appendFailure appends the failure record for the errors in w; d is the
// resolved definition, or nil. The body keeps at most maxText bytes of the
// raw text, with the whole text's digest when it is cut.
func appendFailure(dst []byte, rec record.Record, env *envelope, w *worker, d *cdef, maxText int) []byte {
	meta := []byte(rec.Meta)
	if len(meta) == 0 {
		meta = nil
	}
	if len(w.errs) == 0 { // cannot happen; never write a failure without a reason
		w.add(failcode.InternalError, "", "internal", "", "", "failure without an error")
	}
	if env.has&1 == 0 {
		// No uuid (a record outside the contract): derive one from the
		// record, so that the same record failing again is the same failure
		// and the loader's dedupe keeps it once.
		u := enrich.FormatUUID(enrich.DeterministicUUID(rec.Time, sha256.Sum256(rec.Body), 0))
		env.uuid, env.has = []byte(u), env.has|1
	}
	if env.has&2 == 0 {
		env.firedTS, env.has = []byte(enrich.FiredTS(rec.Time)), env.has|2
	}
	body, whole := env.body, env.whole
	if env.has&32 != 0 {
		var cut *TextDigest
		if body, cut = CutText(body, maxText); whole == nil {
			whole = cut
		}
	}
	dst = record.AppendRecord(dst, rec.Time, meta, nil)
	if whole != nil {
		dst = msgp.AppendMapHeader(dst, 10)
	} else {
		dst = msgp.AppendMapHeader(dst, 8)
	}
	dst = appendEnvelope(dst, env)
	dst = msgp.AppendString(dst, keyBody)
	dst = appendStrOrNil(dst, body, env.has&32 != 0)
	if whole != nil {
		dst = msgp.AppendString(dst, fieldname.BodyBytes)
		dst = msgp.AppendInt64(dst, whole.Bytes)
		dst = msgp.AppendString(dst, fieldname.BodySHA256)
		dst = msgp.AppendString(dst, whole.Hex())
	}
	dst = msgp.AppendString(dst, keyDefinition)
	if d != nil {
		dst = append(dst, d.labelMsgp...)
	} else {
		dst = msgp.AppendNil(dst)
	}
	return appendErrors(dst, w)
}

// An error's keys, msgpack-encoded once; the first opens its map.
var (
	msgpErrCode     = msgp.AppendString(msgp.AppendMapHeader(nil, 6), "code")
	msgpErrPath     = msgp.AppendString(nil, "path")
	msgpErrRule     = msgp.AppendString(nil, "rule")
	msgpErrExpected = msgp.AppendString(nil, "expected")
	msgpErrActual   = msgp.AppendString(nil, "actual")
	msgpErrMessage  = msgp.AppendString(nil, "message")
)

func appendErrors(dst []byte, w *worker) []byte {
	dst = msgp.AppendString(dst, keyErrors)
	dst = msgp.AppendArrayHeader(dst, uint32(len(w.errs)))
	for i, e := range w.errs {
		msg := w.textOf(e.message)
		if i == len(w.errs)-1 && w.omitted > 0 {
			msg = fmt.Appendf(append([]byte(nil), msg...), " (and %d more errors not listed)", w.omitted)
		}
		dst = append(dst, msgpErrCode...) // map header and "code"
		dst = msgp.AppendString(dst, string(e.code))
		dst = append(dst, msgpErrPath...)
		dst = msgp.AppendStringFromBytes(dst, w.textOf(e.path))
		dst = append(dst, msgpErrRule...)
		dst = msgp.AppendString(dst, e.rule)
		dst = append(dst, msgpErrExpected...)
		dst = msgp.AppendStringFromBytes(dst, w.textOf(e.expected))
		dst = append(dst, msgpErrActual...)
		dst = msgp.AppendStringFromBytes(dst, w.textOf(e.actual)) // capped by endActual
		dst = append(dst, msgpErrMessage...)
		dst = msgp.AppendStringFromBytes(dst, msg)
	}
	return dst
}

// AppendUndecodable appends a failure record for a queue message (or one
// line of it) that could not be decoded into records (UNDECODABLE_MESSAGE):
// the text is kept untouched in `body` (its first DefaultMaxEventSize bytes
// at most, see DecodeFailure.MaxText), the event key is nil, and reason
// says what was wrong. t is the record time and fired_ts (e.g. the time the
// message was sent); uuid identifies the failure, and should be derived from
// the message so that a redelivered message yields the same failure.
func AppendUndecodable(dst []byte, t time.Time, uuid string, message []byte, reason string) []byte {
	return AppendDecodeFailure(dst, DecodeFailure{Time: t, UUID: uuid, Text: message, Code: failcode.UndecodableMessage, Reason: reason})
}

// DecodeFailure is a failure that a reader of untrusted input (the sqs
// input) builds itself, for text it cannot bring into the record contract.
// Such a reader knows which records it built as failures; it never takes a
// record's keys as a sign that the record is validated.
type DecodeFailure struct {
	Time time.Time // record time and fired_ts, e.g. the time the message was sent
	// UUID identifies the failure; derive it from the input, so that a
	// redelivery yields the same failure (the loader keeps it once).
	UUID string
	// Game, Version and Event are the event key when the text names one as
	// strings, else nil.
	Game, Version, Event []byte
	// Text is kept untouched in body, or only its first MaxText bytes with
	// its digest (body_bytes, body_sha256) when it is longer.
	Text []byte
	// MaxText is the most bytes of Text the failure keeps: the reader's
	// max_event_size (0: DefaultMaxEventSize).
	MaxText int
	// Whole, when set, says Text is already only the first bytes of a
	// longer text (a message over a bound) and describes that text; the
	// failure then carries Whole, never a digest of the prefix.
	Whole  *TextDigest
	Code   failcode.Code // failcode.UndecodableMessage, or failcode.EndpointInvalid for a record not in the contract
	Path   string        // the contract key at fault, if one is
	Reason string
}

// AppendDecodeFailure appends the failure record of f.
func AppendDecodeFailure(dst []byte, f DecodeFailure) []byte {
	w := new(worker)
	rule, expected := "decode", "a message of Whirlpool records"
	if f.Code == failcode.EndpointInvalid {
		rule, expected = "contract", "a JSON object of the record contract: uuid, fired_ts, game, version, event (strings) and body (an object)"
	}
	w.add(f.Code, f.Path, rule, expected, unsafeString(f.Text), f.Reason)
	env := envelope{uuid: []byte(f.UUID), firedTS: []byte(enrich.FiredTS(f.Time)), body: f.Text, has: 1 | 2 | 32, whole: f.Whole}
	for i, s := range [...][]byte{f.Game, f.Version, f.Event} {
		if s != nil {
			env.has |= 4 << i
		}
	}
	env.game, env.version, env.event = f.Game, f.Version, f.Event
	maxText := f.MaxText
	if maxText <= 0 {
		maxText = DefaultMaxEventSize
	}
	return appendFailure(dst, record.Record{Time: f.Time}, &env, w, nil, maxText)
}
