package sqs

// This file holds the enrichment of records outside the record contract, as
// fluentd's sqs output (fluent-plugin-sqs) writes them: one JSON record per
// message, the fluentd tag in a field (tag_property_name, "__tag" by
// default) and, when fluentd injects it, the event time in another ("time").

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strconv"
	"time"
	"unsafe"

	"github.com/tidwall/gjson"
	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/fieldname"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// enrichment says how records outside the record contract get their
// envelope (enrich on).
type enrichment struct {
	keys    enrich.KeyFinder
	tagKey  string // field holding the fluentd tag; "" none
	timeKey string // field holding the event time; "" none
}

// member is one key of a JSON object and its value: the key's text and
// exact bytes (quoted, escapes as sent), and the value's exact bytes.
type member struct {
	key    string
	rawKey []byte
	value  []byte
}

// appendEnriched appends the contract record of line, a JSON object that is
// not in the record contract, or an ENDPOINT_INVALID failure saying why it
// cannot be. Two shapes are read:
//
//   - the envelope at the top level (uuid, fired_ts, game, version and event,
//     but no body): those five are the envelope and the other keys the body;
//   - any other object, a fluentd record: the body is the record without the
//     tag and time fields; the event key comes from the record's fields
//     (game_key, version_key, event_key) or tag_regex over the tag field;
//     fired_ts from the time field, else the message's SentTimestamp; the
//     uuid from the record's uuid field, else derived from the message id and
//     the record's position, so that a redelivered message gets the same
//     uuids and the loader's dedupe keeps each event once.
func (d *decoder) appendEnriched(dst, line []byte, m message, index int, env *envelope) []byte {
	members := d.members(line)
	if env.seen&envelopeBits == envelopeBits {
		if env.problem != "" && env.path != fieldname.Body {
			return d.appendInvalid(dst, m, index, line, env, env.path, env.problem)
		}
		fired := d.firedAt(m, env.firedTS)
		env.body = d.objectWithout(members, fieldname.UUID, fieldname.FiredTS, fieldname.Game, fieldname.Version, fieldname.Event, d.enrich.tagKey, d.enrich.timeKey)
		return d.appendContract(dst, fired, env)
	}

	fired, problem := d.eventTime(members, m)
	if problem != "" {
		return d.appendInvalid(dst, m, index, line, env, d.enrich.timeKey, problem)
	}
	tag := enrich.Tag{Source: fmt.Sprintf("field %q", d.enrich.tagKey), Missing: true}
	if v, ok := stringMember(members, d.enrich.tagKey); ok {
		tag.Value, tag.Missing = v, false
	}
	key, why := d.enrich.keys.Find(func(name string) (string, bool) { return stringMember(members, name) }, &tag)
	env.game, env.version, env.event = []byte(key.Game), []byte(key.Version), []byte(key.Event)
	if why != "" {
		return d.appendInvalid(dst, m, index, line, env, firstEmptyPart(key), why)
	}
	env.uuid = nil
	if v, present := memberValue(members, fieldname.UUID); present {
		u, ok := stringMember(members, fieldname.UUID)
		if !ok || !validUUID(u) {
			return d.appendInvalid(dst, m, index, line, env, fieldname.UUID,
				fmt.Sprintf("field %q is %s, not a UUID such as 0190163d-8694-739b-aea5-966c26f8ad91", fieldname.UUID, shortJSON(v)))
		}
		env.uuid = []byte(u)
	} else {
		env.uuid = enrich.AppendUUID(nil, enrich.DeterministicUUID(fired, sha256.Sum256([]byte(m.id)), index))
	}
	env.firedTS = enrich.AppendFiredTS(nil, fired)
	env.body = d.objectWithout(members, d.enrich.tagKey, d.enrich.timeKey)
	return d.appendContract(dst, fired, env)
}

// envelopeBits are the seen bits of uuid, fired_ts, game, version and event.
const envelopeBits = 1 | 2 | 4 | 8 | 16

// appendContract appends the contract record of env, at time t; with a
// validator, what it makes of that record instead (valid records or a
// failure), without encoding the record only to decode it again.
func (d *decoder) appendContract(dst []byte, t time.Time, env *envelope) []byte {
	if d.validator != nil {
		dst = d.validator.AppendContract(dst, validate.Contract{Time: t, UUID: env.uuid, FiredTS: env.firedTS, Game: env.game,
			Version: env.version, Event: env.event, Body: env.body})
		d.pieces = append(d.pieces, piece{end: len(dst)})
		return dst
	}
	dst = record.AppendRecord(dst, t, nil, nil)
	dst = msgp.AppendMapHeader(dst, 6)
	for _, kv := range [...]struct {
		k string
		v []byte
	}{{fieldname.UUID, env.uuid}, {fieldname.FiredTS, env.firedTS}, {fieldname.Game, env.game},
		{fieldname.Version, env.version}, {fieldname.Event, env.event}, {fieldname.Body, env.body}} {
		dst = msgp.AppendString(dst, kv.k)
		dst = msgp.AppendStringFromBytes(dst, kv.v)
	}
	d.pieces = append(d.pieces, piece{end: len(dst)})
	return dst
}

// appendInvalid appends the ENDPOINT_INVALID failure of line, naming path.
func (d *decoder) appendInvalid(dst []byte, m message, index int, line []byte, env *envelope, path, problem string) []byte {
	return d.appendFailure(dst, validate.DecodeFailure{Time: m.sent, UUID: failureUUID(m, index),
		Game: env.game, Version: env.version, Event: env.event, Text: line, Code: failcode.EndpointInvalid,
		Path: path, Reason: fmt.Sprintf("SQS message %s, record %d: %s", m.id, index, problem)})
}

// members reads the keys and raw values of a JSON object (valid JSON:
// appendLine checked it), in order; the values alias line.
func (d *decoder) members(line []byte) []member {
	d.memberBuf = d.memberBuf[:0]
	gjson.Parse(unsafe.String(unsafe.SliceData(line), len(line))).ForEach(func(k, v gjson.Result) bool {
		d.memberBuf = append(d.memberBuf, member{key: k.Str, rawKey: rawOf(line, k), value: rawOf(line, v)})
		return true
	})
	return d.memberBuf
}

// memberValue returns the raw value of the first member named key.
func memberValue(members []member, key string) ([]byte, bool) {
	for _, mb := range members {
		if mb.key == key {
			return mb.value, true
		}
	}
	return nil, false
}

// stringMember returns the first member named key when it is a JSON string.
func stringMember(members []member, key string) (string, bool) {
	v, ok := memberValue(members, key)
	if !ok || len(v) == 0 || v[0] != '"' {
		return "", false
	}
	return gjson.ParseBytes(v).Str, true
}

// objectWithout writes the object of members without the named keys (every
// occurrence); the other members keep their order and exact value bytes.
func (d *decoder) objectWithout(members []member, drop ...string) []byte {
	out := []byte{'{'}
	n := 0
next:
	for _, mb := range members {
		for _, k := range drop {
			if k != "" && mb.key == k {
				continue next
			}
		}
		if n > 0 {
			out = append(out, ',')
		}
		out = append(out, mb.rawKey...)
		out = append(out, ':')
		out = append(out, mb.value...)
		n++
	}
	return append(out, '}')
}

// eventTime returns the record's event time: its time field when present
// (an RFC 3339 or fluentd time string, or Unix seconds), else the message's
// SentTimestamp. A time field that is none of these is a problem, so no
// event is given a time it was not sent with.
func (d *decoder) eventTime(members []member, m message) (time.Time, string) {
	v, ok := memberValue(members, d.enrich.timeKey)
	if d.enrich.timeKey == "" || !ok {
		return m.sent, ""
	}
	if t, ok := parseEventTime(v); ok {
		return t, ""
	}
	return time.Time{}, fmt.Sprintf("field %q is %s, not a time (RFC 3339, fluentd's %q or Unix seconds); set time_key none to use the message's SentTimestamp instead",
		d.enrich.timeKey, shortJSON(v), "2006-01-02 15:04:05 -0700")
}

// timeLayouts are the time strings fluentd writes: its inject helper's
// default (ISO 8601 with a colon in the offset, or Z with utc), the same
// with a %z offset, and Ruby's Time#to_s (older fluent-plugin-sqs).
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999-0700", "2006-01-02 15:04:05.999999999 -0700", "2006-01-02 15:04:05.999999999 MST"}

// parseEventTime reads a JSON time value: a string in one of timeLayouts,
// or a number of Unix seconds (fluentd's time_type unixtime or float).
func parseEventTime(v []byte) (time.Time, bool) {
	if len(v) > 0 && v[0] == '"' {
		s := gjson.ParseBytes(v).Str
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), true
			}
		}
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f < 0 || f > 253402300799 { // up to 9999-12-31
		return time.Time{}, false
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), true
}

// firstEmptyPart names the first part of key that is empty.
func firstEmptyPart(key enrich.Key) string {
	switch {
	case key.Game == "":
		return fieldname.Game
	case key.Version == "":
		return fieldname.Version
	}
	return fieldname.Event
}

// validUUID reports whether s is a UUID in its canonical 36-character form.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// shortJSON quotes a raw JSON value for an error message, cut to 40 bytes.
func shortJSON(v []byte) string {
	v = bytes.TrimSpace(v)
	if len(v) > 40 {
		return strconv.Quote(string(v[:40])) + "..."
	}
	return strconv.Quote(string(v))
}
