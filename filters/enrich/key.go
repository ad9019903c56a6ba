package enrich

import (
	"fmt"
	"strconv"

	"github.com/whirlpool-events/whirlpool/internal/fieldname"
)

// MaxKeyPartBytes is the longest game, version or event name accepted.
const MaxKeyPartBytes = 128

// Key is an event's key: which game, which version of its event definitions
// and which event. Every part is 1 to MaxKeyPartBytes bytes of [A-Za-z0-9._+-].
type Key struct{ Game, Version, Event string }

// KeyError reports an invalid key part. Part is "game", "version" or "event".
type KeyError struct {
	Part   string
	Value  string
	Reason string
}

func (e *KeyError) Error() string {
	return "invalid " + e.Part + " " + quoteShort(e.Value) + ": " + e.Reason
}

// Validate returns a *KeyError naming the first invalid part, or nil.
func (k Key) Validate() error {
	if err := ValidatePart(fieldname.Game, k.Game); err != nil {
		return err
	}
	if err := ValidatePart(fieldname.Version, k.Version); err != nil {
		return err
	}
	return ValidatePart(fieldname.Event, k.Event)
}

// ValidatePart checks one key part; part names it in the error.
func ValidatePart(part, v string) error {
	if v == "" {
		return &KeyError{Part: part, Value: v, Reason: "must not be empty"}
	}
	if len(v) > MaxKeyPartBytes {
		return &KeyError{Part: part, Value: v, Reason: "longer than " + strconv.Itoa(MaxKeyPartBytes) + " bytes"}
	}
	for i := 0; i < len(v); i++ {
		if !partChar[v[i]] {
			c := fmt.Sprintf("byte 0x%02x", v[i])
			if v[i] >= 0x20 && v[i] < 0x7f {
				c = fmt.Sprintf("character %q", v[i])
			}
			return &KeyError{Part: part, Value: v,
				Reason: fmt.Sprintf("%s at offset %d is not allowed (want A-Z a-z 0-9 . _ + -)", c, i)}
		}
	}
	return nil
}

var partChar = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['.'], t['_'], t['+'], t['-'] = true, true, true, true
	return t
}()

// quoteShort quotes v for an error message, cut to 40 bytes.
func quoteShort(v string) string {
	if len(v) > 40 {
		return strconv.Quote(v[:40]) + "..."
	}
	return strconv.Quote(v)
}
