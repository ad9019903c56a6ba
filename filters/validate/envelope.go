package validate

// This file holds the envelope: the record contract's keys, read from an
// input record and checked (ENDPOINT_INVALID) before any field is.

import (
	"fmt"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/failcode"
	"github.com/whirlpool-events/whirlpool/internal/fieldname"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

// Keys of the records this package reads and writes: those of the record
// contract and those only validated records have (all named in
// internal/fieldname).
const (
	keyUUID       = fieldname.UUID
	keyFiredTS    = fieldname.FiredTS
	keyGame       = fieldname.Game
	keyVersion    = fieldname.Version
	keyEvent      = fieldname.Event
	keyBody       = fieldname.Body
	keyDefinition = fieldname.DefinitionVersion
	keyExpand     = fieldname.ExpandIndex
	keyDests      = fieldname.Destinations
	keyColumns    = fieldname.Columns
	keyErrors     = fieldname.Errors
)

// envelope holds the contract fields of an input record (aliasing it).
type envelope struct {
	uuid, firedTS, game, version, event, body []byte
	has                                       uint8 // bit per key, in contract order
	fired                                     time.Time
	// whole, when set, says body is already only the first bytes of a
	// longer text, and describes that text (a queue message over a bound).
	whole *TextDigest
}

var envKeys = [...]string{keyUUID, keyFiredTS, keyGame, keyVersion, keyEvent, keyBody}

// allEnvKeys is has with every key of envKeys.
const allEnvKeys = 1<<len(envKeys) - 1

// read takes the contract fields from a record body; a missing key, a
// value that is not a string, an empty key part or a bad fired_ts is an
// ENDPOINT_INVALID error each. It reports whether the envelope is usable.
func (e *envelope) read(body record.Map, w *worker) bool {
	var wrong uint8
	err := body.Range(func(k []byte, v record.Value) bool {
		var i int
		switch string(k) {
		case keyUUID:
			i = 0
		case keyFiredTS:
			i = 1
		case keyGame:
			i = 2
		case keyVersion:
			i = 3
		case keyEvent:
			i = 4
		case keyBody:
			i = 5
		default:
			return true
		}
		if e.has&(1<<i) != 0 || wrong&(1<<i) != 0 {
			return true // the first occurrence counts
		}
		s, ok := v.Str()
		if !ok {
			wrong |= 1 << i
			return true
		}
		e.has |= 1 << i
		switch i {
		case 0:
			e.uuid = s
		case 1:
			e.firedTS = s
		case 2:
			e.game = s
		case 3:
			e.version = s
		case 4:
			e.event = s
		case 5:
			e.body = s
		}
		return true
	})
	if err != nil {
		w.add(failcode.EndpointInvalid, "", "record", "a msgpack map of the record contract", "", "the record body is malformed: "+err.Error())
		return false
	}
	return e.check(w, wrong)
}

// check checks the fields read (wrong: a bit per key whose value is not a
// string): a missing key, a value that is not a string, an empty key part
// or a bad fired_ts is an ENDPOINT_INVALID error each. It reports whether
// the envelope is usable.
func (e *envelope) check(w *worker, wrong uint8) bool {
	for i, k := range envKeys {
		switch {
		case wrong&(1<<i) != 0:
			w.add(failcode.EndpointInvalid, k, "contract", "a string", "", fmt.Sprintf("record key %q is not a string", k))
		case e.has&(1<<i) == 0:
			w.add(failcode.EndpointInvalid, k, "contract", "a string", "", fmt.Sprintf("record key %q is missing", k))
		case i >= 2 && i <= 4 && len(fieldOf(e, i)) == 0:
			w.add(failcode.EndpointInvalid, k, "contract", "1-128 bytes", "", fmt.Sprintf("record key %q is empty", k))
		}
	}
	if e.has&2 != 0 {
		t, ok := w.firedTS.Parse(e.firedTS)
		if !ok {
			w.add(failcode.EndpointInvalid, keyFiredTS, "rfc3339", "an RFC 3339 time", unsafeString(e.firedTS), "fired_ts is not an RFC 3339 time")
		}
		e.fired = t
	}
	return len(w.errs) == 0
}

func fieldOf(e *envelope, i int) []byte {
	switch i {
	case 2:
		return e.game
	case 3:
		return e.version
	}
	return e.event
}
