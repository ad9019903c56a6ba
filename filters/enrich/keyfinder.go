package enrich

import (
	"fmt"
	"regexp"

	"github.com/whirlpool-events/whirlpool/internal/fieldname"
	"github.com/whirlpool-events/whirlpool/internal/props"
)

// KeyProperties say how a record outside the record contract gets its event
// key. The sqs output (records of other inputs) and the sqs input (records
// fluentd wrote to the queue) declare and read them alike.
var KeyProperties = props.Set{
	{Name: "enrich", Type: props.Bool, Default: "off", Meaning: "on: the event key of a record outside the record contract is read from its fields or its tag (game_key, version_key, event_key, tag_regex); off: it is not looked for, so such records become ENDPOINT_INVALID failures"},
	{Name: "game_key", Type: props.String, Default: "game", Meaning: "enrich: record field holding the game"},
	{Name: "version_key", Type: props.String, Default: "version", Meaning: "enrich: record field holding the version"},
	{Name: "event_key", Type: props.String, Default: "event", Meaning: "enrich: record field holding the event name"},
	{Name: "tag_regex", Type: props.Regexp, Meaning: "enrich: regular expression on the record's tag with named groups game, version and event, used for a part whose field is absent"},
}

// KeyFinder finds the event key of a record outside the record contract:
// each part from the record's field, else from the tag_regex group of the
// record's tag.
type KeyFinder struct {
	On       bool
	Fields   [3]string // game_key, version_key, event_key
	TagRegex *regexp.Regexp
	groups   [3]int // submatch index of each part's named group
}

// ReadKeyFinder reads KeyProperties, recording a tag_regex without one of
// the named groups on r.
func ReadKeyFinder(r *props.Reader) KeyFinder {
	f := KeyFinder{
		On:       r.Bool("enrich"),
		Fields:   [3]string{r.String("game_key"), r.String("version_key"), r.String("event_key")},
		TagRegex: r.Regexp("tag_regex"),
	}
	if f.TagRegex != nil {
		names := f.TagRegex.SubexpNames()
		for i, want := range partNames {
			f.groups[i] = -1
			for j, n := range names {
				if n == want {
					f.groups[i] = j
				}
			}
			if f.groups[i] < 0 {
				r.Fail("tag_regex", "no named group (?P<%s>...) in %q", want, f.TagRegex.String())
			}
		}
	}
	return f
}

var partNames = [3]string{fieldname.Game, fieldname.Version, fieldname.Event}

// Tag is a record's tag, matched against tag_regex at most once however
// many parts or records ask (the sqs output shares one per chunk).
type Tag struct {
	Value string
	// Source names where the tag comes from in messages, e.g. "tag" or
	// `field "__tag"`; Missing says the record has none.
	Source  string
	Missing bool
	done    bool
	m       []string
}

func (t *Tag) match(re *regexp.Regexp) []string {
	if !t.done && re != nil && !t.Missing {
		t.m = re.FindStringSubmatch(t.Value)
	}
	t.done = true
	return t.m
}

// Find returns the event key: each part is the record's string field
// (field returns it) when not empty, else the tag_regex group. A part not
// found or not valid is left empty, so that the record becomes an
// ENDPOINT_INVALID failure naming it; why then says what is wrong with the
// first such part. With enrich off no key is looked for.
func (f *KeyFinder) Find(field func(name string) (string, bool), tag *Tag) (key Key, why string) {
	if !f.On {
		return Key{}, "enrich is off, so no event key is looked for"
	}
	var parts [3]string
	for j, name := range f.Fields {
		if v, ok := field(name); ok && v != "" {
			parts[j] = v
		} else if m := tag.match(f.TagRegex); m != nil {
			parts[j] = m[f.groups[j]]
		}
		if err := ValidatePart(partNames[j], parts[j]); err != nil {
			if why == "" {
				why = f.whyNoPart(tag, j, parts[j], err)
			}
			parts[j] = ""
		}
	}
	return Key{Game: parts[0], Version: parts[1], Event: parts[2]}, why
}

// whyNoPart says why part j of a record's key is not usable.
func (f *KeyFinder) whyNoPart(tag *Tag, j int, value string, err error) string {
	if value != "" {
		return err.Error()
	}
	src := fmt.Sprintf("no string field %q", f.Fields[j])
	switch {
	case f.TagRegex == nil:
		src += " and no tag_regex"
	case tag.Missing:
		src += " and no " + tag.Source
	case tag.match(f.TagRegex) == nil:
		src += fmt.Sprintf(" and %s %q does not match tag_regex", tag.Source, tag.Value)
	default:
		src += " and the tag_regex group is empty"
	}
	return partNames[j] + ": " + src
}
