package sqs

import (
	"bytes"
	"errors"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/plugins/record"
)

// event is one record encoded for the queue: its JSON line lives in the
// flush's arena at [off, off+n).
// uuid, group and dedup alias the chunk (valid during the flush) or are
// copies.
type event struct {
	off, n int
	uuid   []byte // nil if the record has none (not in the contract)
	group  []byte // FIFO: the value of message_group_id_key
	dedup  []byte // FIFO: the value of deduplication_id_key
	gid    string // FIFO: the MessageGroupId chosen
}

// encoder turns records into JSON lines. One per flush (not shared).
type encoder struct {
	cfg     *Config
	scratch []byte // key escaping, enriched records
}

// fields of interest found while encoding one record.
type seen struct {
	uuid, firedTS, game, version, event []byte
	hasBody                             bool
	group, dedup                        []byte
	groupOK, dedupOK                    bool
}

// inContract reports whether the record carries the contract's envelope.
func (s *seen) inContract() bool {
	return s.uuid != nil && s.firedTS != nil && s.game != nil && s.version != nil && s.event != nil && s.hasBody
}

// appendRecord appends the JSON of body to dst (see appendJSON) and fills s.
func (e *encoder) appendRecord(dst []byte, body record.Map, s *seen) ([]byte, error) {
	*s = seen{}
	start := len(dst)
	if len(body) == 0 {
		return append(dst, '{', '}'), nil
	}
	dst = append(dst, '{')
	first := true
	var ferr error
	err := body.Range(func(key []byte, v record.Value) bool {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = e.appendKey(dst, key)
		dst = append(dst, ':')
		str, isStr := v.Str()
		if isStr && v.Kind() == record.KindStr {
			switch string(key) {
			case enrich.FieldUUID:
				s.uuid = str
			case enrich.FieldFiredTS:
				s.firedTS = str
			case enrich.FieldGame:
				s.game = str
			case enrich.FieldVersion:
				s.version = str
			case enrich.FieldEvent:
				s.event = str
			case enrich.FieldBody:
				s.hasBody = true
				if embeddable(str) {
					dst = append(dst, str...)
					return true
				}
			}
		}
		if e.cfg.FIFO {
			if string(key) == e.cfg.GroupIDKey && !s.groupOK {
				s.group, s.groupOK = scalarText(v, str, isStr)
			}
			if string(key) == e.cfg.DedupIDKey && !s.dedupOK {
				s.dedup, s.dedupOK = scalarText(v, str, isStr)
			}
		}
		dst, ferr = v.AppendJSON(dst)
		return ferr == nil
	})
	if err == nil {
		err = ferr
	}
	if err != nil {
		if errors.Is(err, record.ErrKeyType) {
			// Non-string keys: the record package writes them as strings.
			*s = seen{}
			return body.AppendJSON(dst[:start])
		}
		return dst[:start], err
	}
	return append(dst, '}'), nil
}

// scalarText returns the text of a str or integer value (for group and
// deduplication ids).
func scalarText(v record.Value, str []byte, isStr bool) ([]byte, bool) {
	if isStr {
		return str, len(str) > 0
	}
	switch v.Kind() {
	case record.KindInt, record.KindUint:
		b, err := v.AppendJSON(nil)
		return b, err == nil
	}
	return nil, false
}

// appendKey writes key as a JSON string.
func (e *encoder) appendKey(dst, key []byte) []byte {
	for _, c := range key {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			e.scratch = msgp.AppendStringFromBytes(e.scratch[:0], key)
			out, err := record.Value(e.scratch).AppendJSON(dst)
			if err != nil { // cannot happen for a str
				return append(dst, `""`...)
			}
			return out
		}
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"')
}

// embeddable reports whether a body string is written raw into the JSON:
// it must be one valid JSON object without a newline byte (which would break
// ndjson framing) and without the characters SQS refuses in a message body
// (valid JSON text has no raw control characters other than whitespace;
// validObject also requires valid UTF-8 without U+FFFE and U+FFFF), so that
// one odd body cannot make SQS refuse a packed message. Other bodies are written
// as JSON strings; a reader gets the original text back either way.
func embeddable(s []byte) bool {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return false
	}
	return bytes.IndexByte(s, '\n') < 0 && validObject(s)
}
