package sqs

import (
	"bytes"
	"errors"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/internal/fieldname"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// event is one record encoded for the queue: its JSON line lives in the
// flush's arena at [off, off+n).
// uuid, group and dedup alias the chunk or the arena: both hold their bytes
// until the flush ends (the arena only grows during a flush, and bytes
// written stay where they are, in the old array if it was reallocated).
type event struct {
	off, n int
	uuid   []byte // the record's uuid as sent
	group  []byte // FIFO: the value of message_group_id_key
	dedup  []byte // FIFO: the value of deduplication_id_key
	gid    string // FIFO: the MessageGroupId chosen
}

// Contract keys, by their index in contract order.
const (
	keyUUID = iota
	keyFiredTS
	keyGame
	keyVersion
	keyEvent
	keyBody
	contractKeys
)

// allKeys has a bit set for every contract key.
const allKeys = 1<<contractKeys - 1

// keyPrefix[i] is what precedes the value of contract key i in a record as
// sent: every record is sent as these six keys in contract order.
var keyPrefix = [contractKeys]string{
	`{"` + fieldname.UUID + `":`,
	`,"` + fieldname.FiredTS + `":`,
	`,"` + fieldname.Game + `":`,
	`,"` + fieldname.Version + `":`,
	`,"` + fieldname.Event + `":`,
	`,"` + fieldname.Body + `":`,
}

// contractIndex returns the index of a contract key, or -1.
func contractIndex(key []byte) int {
	switch string(key) {
	case fieldname.UUID:
		return keyUUID
	case fieldname.FiredTS:
		return keyFiredTS
	case fieldname.Game:
		return keyGame
	case fieldname.Version:
		return keyVersion
	case fieldname.Event:
		return keyEvent
	case fieldname.Body:
		return keyBody
	}
	return -1
}

// sentField returns the index of a key whose value can be a FIFO group or
// deduplication id (a contract key other than body), or -1.
func sentField(name string) int {
	if i := contractIndex([]byte(name)); i >= 0 && i != keyBody {
		return i
	}
	return -1
}

// sent holds the text of the string keys of a record as sent (uuid,
// fired_ts, game, version, event), for FIFO ids and logs.
type sent [keyBody][]byte

// seen is what scan found in one record.
type seen struct {
	vals  [contractKeys]record.Value // the str value of each contract key found
	has   uint8                      // bit i: contract key i found, a str
	bad   bool                       // a contract key twice or not a str, a non-string map key, or a malformed map
	extra int                        // keys outside the contract
	first []byte                     // the first of them (aliases the chunk)
}

// scan reads the contract keys of a record body.
func (s *seen) scan(body record.Map) {
	*s = seen{}
	err := body.Range(func(key []byte, v record.Value) bool {
		i := contractIndex(key)
		switch {
		case i < 0:
			if s.extra == 0 {
				s.first = key
			}
			s.extra++
		case s.has&(1<<i) != 0 || v.Kind() != record.KindStr:
			s.bad = true
		default:
			s.has |= 1 << i
			s.vals[i] = v
		}
		return true
	})
	if err != nil {
		s.bad = true
	}
}

// inContract reports whether the record carries the whole record contract:
// each of its keys once, a string (other keys may come along).
func (s *seen) inContract() bool { return s.has == allKeys && !s.bad }

// encoder turns records into JSON lines. One per flush (not shared).
type encoder struct {
	scratch []byte // a wrapped body as a msgpack str, to escape it
}

// appendContract writes the contract record of a record in the contract
// (s.inContract()): its six keys and nothing else. Its body is written raw
// when embeddable, else as a JSON string.
func appendContract(dst []byte, s *seen) ([]byte, sent, error) {
	start := len(dst)
	var out sent
	for i, v := range s.vals {
		dst = append(dst, keyPrefix[i]...)
		str, _ := v.Str()
		if i == keyBody && embeddable(str) {
			dst = append(dst, str...)
			continue
		}
		var err error
		if dst, err = v.AppendJSON(dst); err != nil {
			return dst[:start], out, err
		}
		if i < keyBody {
			out[i] = str
		}
	}
	return append(dst, '}'), out, nil
}

// wrapped is what a record outside the contract is sent as.
type wrapped struct {
	uuid  [16]byte
	fired time.Time
	key   enrich.Key // each part valid or empty
	body  []byte     // the record as JSON
}

// appendWrapped writes the contract record of w. uuid, fired_ts and the key
// parts are written without escaping: they are hex digits and dashes, the
// fired_ts form, and parts that passed enrich.ValidatePart or are empty.
// The values in out alias dst.
func (e *encoder) appendWrapped(dst []byte, w *wrapped) ([]byte, sent) {
	var at [keyBody][2]int
	for i := 0; i < keyBody; i++ {
		dst = append(dst, keyPrefix[i]...)
		dst = append(dst, '"')
		at[i][0] = len(dst)
		switch i {
		case keyUUID:
			dst = enrich.AppendUUID(dst, w.uuid)
		case keyFiredTS:
			dst = enrich.AppendFiredTS(dst, w.fired)
		case keyGame:
			dst = append(dst, w.key.Game...)
		case keyVersion:
			dst = append(dst, w.key.Version...)
		case keyEvent:
			dst = append(dst, w.key.Event...)
		}
		at[i][1] = len(dst)
		dst = append(dst, '"')
	}
	dst = append(dst, keyPrefix[keyBody]...)
	dst = e.appendBody(dst, w.body)
	dst = append(dst, '}')
	var out sent
	for i, a := range at {
		out[i] = dst[a[0]:a[1]:a[1]]
	}
	return dst, out
}

// appendBody writes a wrapped record's JSON as the body: raw when
// embeddable (the usual case), else as a JSON string.
func (e *encoder) appendBody(dst, body []byte) []byte {
	if embeddable(body) {
		return append(dst, body...)
	}
	e.scratch = msgp.AppendStringFromBytes(e.scratch[:0], body)
	out, err := record.Value(e.scratch).AppendJSON(dst)
	if err != nil { // cannot happen for a str
		return append(dst, `""`...)
	}
	return out
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

// AppendContractLine appends the JSON line the output sends for a record
// in the record contract (as filters/enrich makes them, under a tag
// contract_match trusts), without its newline: the studio's "try an event"
// and replay feed it to the sqs input's own decoder. A record outside the
// contract is an error (the output would wrap it instead).
func AppendContractLine(dst []byte, body record.Map) ([]byte, error) {
	var s seen
	s.scan(body)
	if !s.inContract() {
		return dst, errors.New("the record is not in the record contract")
	}
	out, _, err := appendContract(dst, &s)
	return out, err
}
