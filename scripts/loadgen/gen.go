package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// Kind is what an event is meant to be: good, or one kind of bad event. Bad
// events are valid JSON objects (the edge accepts them) that fail validation
// against conf/model.yaml at the processor, each with one known code.
type Kind string

const (
	Good            Kind = "good"
	UnknownEvent    Kind = "unknown_event"           // UNKNOWN_EVENT
	MissingField    Kind = "missing_mandatory_field" // MANDATORY_FIELD_MISSING
	WrongType       Kind = "wrong_type"              // FIELD_TYPE_MISMATCH
	UnmappedVersion Kind = "unmapped_version"        // VERSION_UNMAPPED
)

// BadKinds are the kinds of bad events, in the order they take turns.
var BadKinds = []Kind{UnknownEvent, MissingField, WrongType, UnmappedVersion}

// Kinds are every kind, good first.
var Kinds = append([]Kind{Good}, BadKinds...)

// FailureCode is the validation code each bad kind gets at the processor.
var FailureCode = map[Kind]string{
	UnknownEvent:    "UNKNOWN_EVENT",
	MissingField:    "MANDATORY_FIELD_MISSING",
	WrongType:       "FIELD_TYPE_MISMATCH",
	UnmappedVersion: "VERSION_UNMAPPED",
}

// Versions the generator picks for good events: three map to definition v1
// (1.0-1.4), three to v2 (1.5 and later) in conf/model.yaml.
var goodVersions = []string{"1.2.0", "1.3.4", "1.4.2", "1.5.0", "1.6.1", "2.0.3"}

// Event is one generated event.
type Event struct {
	Seq     int64
	Kind    Kind
	Game    string
	Version string
	Name    string         // the event name of the key
	Body    map[string]any // the event object (for the Forward protocol)
	JSON    []byte         // Body as JSON (for HTTP)
}

// Key is the event key, as in the URL path.
func (e *Event) Key() string { return e.Game + "/" + e.Version + "/" + e.Name }

// Generator makes the events of a run. The event with a given seq is a pure
// function of (Seed, Bad, Game, Run, Now(), seq): senders may ask for seqs
// in any order and from any goroutine.
type Generator struct {
	Seed uint64
	// BadPPM is the share of bad events in parts per million. Bad events
	// are spread evenly over the seq numbers (one every 1e6/BadPPM) and the
	// bad kinds take turns, so every kind gets the same share.
	BadPPM int64
	Game   string
	Run    string
	// Now gives the time client timestamps (ts) are drawn before; nil
	// means time.Now.
	Now func() time.Time
}

// Kind tells what the event with this seq (>= 0) is.
func (g *Generator) Kind(seq int64) Kind {
	const million = 1_000_000
	before, after := seq*g.BadPPM/million, (seq+1)*g.BadPPM/million
	if after == before {
		return Good
	}
	return BadKinds[before%int64(len(BadKinds))]
}

// Event generates the event with this seq (>= 0).
func (g *Generator) Event(seq int64) Event {
	r := rand.New(rand.NewPCG(g.Seed, uint64(seq)))
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	e := Event{Seq: seq, Kind: g.Kind(seq), Game: g.Game}
	vi := r.IntN(len(goodVersions))
	e.Version = goodVersions[vi]
	v2 := vi >= 3 // 1.5.0 and later
	switch n := r.IntN(10); {
	case n < 3:
		e.Name = "session_start"
	case n < 8:
		e.Name = "level_complete"
	default:
		e.Name = "purchase"
	}
	if e.Kind == WrongType {
		e.Name = "level_complete" // its level is an integer
	}
	ts := now().Add(-time.Duration(r.IntN(300_000)) * time.Millisecond).UTC()
	b := map[string]any{
		"seq":       seq,
		"run":       g.Run,
		"player_id": fmt.Sprintf("p%04d", r.IntN(5000)),
		"ts":        ts.Format("2006-01-02T15:04:05.000Z07:00"),
	}
	switch e.Name {
	case "session_start":
		b["platform"] = []string{"ios", "android", "pc", "web"}[r.IntN(4)]
		if v2 {
			b["device"] = map[string]any{
				"model":  []string{"pixel_8", "iphone_15", "steam_deck", "desktop"}[r.IntN(4)],
				"os":     []string{"android 15", "ios 18", "linux", "windows 11"}[r.IntN(4)],
				"memory": int64(2+r.IntN(15)) * 1024,
			}
		}
	case "level_complete":
		b["level"] = int64(1 + r.IntN(500))
		b["stars"] = int64(r.IntN(4))
		b["duration_ms"] = int64(5_000 + r.IntN(600_000))
		if v2 {
			b["score"] = int64(r.IntN(1_000_000))
			b["mode"] = []string{"casual", "ranked"}[r.IntN(2)]
		}
	case "purchase":
		var u [16]byte
		for i := range u {
			u[i] = byte(r.Uint32())
		}
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		b["order_id"] = fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
		items := make([]any, 1+r.IntN(3))
		for i := range items {
			items[i] = map[string]any{
				"sku":   fmt.Sprintf("sku_%03d", r.IntN(200)),
				"qty":   int64(1 + r.IntN(5)),
				"price": float64(99+r.IntN(5000)) / 100,
			}
		}
		b["items"] = items
		b["currency"] = []string{"USD", "EUR", "GBP"}[r.IntN(3)]
		if v2 {
			b["store"] = []string{"app_store", "play", "steam", "web"}[r.IntN(4)]
		}
	}
	switch e.Kind {
	case UnknownEvent:
		e.Name = "teleport"
	case MissingField:
		delete(b, "player_id")
	case WrongType:
		b["level"] = fmt.Sprint(b["level"]) // "42": a string where the model wants an integer
	case UnmappedVersion:
		e.Version = fmt.Sprintf("0.9.%d", r.IntN(10)) // no mapping covers 0.x
	}
	e.Body = b
	j, err := json.Marshal(b)
	if err != nil {
		panic(err) // strings, numbers, maps and slices only
	}
	e.JSON = j
	return e
}
