// Package props declares a plugin's properties once (name, type and bounds,
// default, meaning) and reads them by name with clear errors: a Reader
// method takes its type and bounds from the declaration, so the two cannot
// disagree. Plugins join their own set with the shared ones (Join) and read
// them all with one Reader, so one Init reports every bad property. The same
// declarations generate the README's property tables.
package props

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

// Type is the kind of value a property holds. The Reader method that reads
// a property must match its declared Type, so a declaration is the one
// place that says how a property is read and what the README shows.
type Type int

// Types of properties.
const (
	String   Type = iota // any text
	Int                  // an integer within [Min, Max]
	Bool                 // on/off, true/false, yes/no, 1/0
	Size                 // a byte size such as 256K, within [Min, Max] bytes
	Duration             // a Go duration or seconds, within [MinDur, MaxDur]
	Enum                 // one of Allowed
	URL                  // an absolute http(s) URL
	Regexp               // a regular expression
	List                 // whitespace-separated words
	Time                 // an RFC 3339 time such as 2000-01-01T00:00:00Z
)

var typeNames = [...]string{String: "string", Int: "int", Bool: "bool", Size: "size", Duration: "duration", Enum: "enum", URL: "url", Regexp: "regexp", List: "list", Time: "time"}

func (t Type) String() string { return typeNames[t] }

// Spec declares one property: its name, type and bounds, default and
// meaning. Readers and the README's tables both come from it.
type Spec struct {
	Name     string
	Type     Type
	Min, Max int64         // Int, Size
	MinDur   time.Duration // Duration
	MaxDur   time.Duration // Duration
	Allowed  []string      // Enum: the values, in their canonical spelling
	Default  string        // as a user would write it; "" means unset
	Required bool          // an empty value is an error
	Meaning  string
	Secret   bool // never echoed in errors or logs
}

// Set is the ordered list of a plugin's properties.
type Set []Spec

// Join concatenates property sets, in order. It panics when two sets
// declare the same name (case-insensitively, as Fluent Bit matches them),
// so a collision is caught at init by any test of the package.
func Join(sets ...Set) Set {
	var out Set
	seen := map[string]bool{}
	for _, s := range sets {
		for _, p := range s {
			key := strings.ToLower(p.Name)
			if seen[key] {
				panic("props: property " + p.Name + " is declared twice")
			}
			seen[key] = true
			out = append(out, p)
		}
	}
	return out
}

// Lookup returns the spec named name (case-insensitive).
func (s Set) Lookup(name string) (Spec, bool) {
	for _, p := range s {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return Spec{}, false
}

// Declared returns the set as Fluent Bit's config map sees it.
func (s Set) Declared() []plugin.Property {
	out := make([]plugin.Property, len(s))
	for i, p := range s {
		out[i] = plugin.Property{Name: p.Name, Default: p.Default, Meaning: p.Meaning}
	}
	return out
}

// Check reports declarations that contradict themselves: bounds the wrong
// way round, an enum without values, or a default its own type refuses.
// Tests run it over every plugin's set, so a default outside its bounds is
// caught before a user meets it.
func (s Set) Check() error {
	var errs []error
	for _, p := range s {
		switch {
		case (p.Type == Int || p.Type == Size) && p.Min > p.Max,
			p.Type == Duration && p.MinDur > p.MaxDur:
			errs = append(errs, fmt.Errorf("property %q: bounds the wrong way round", p.Name))
		case p.Type == Enum && len(p.Allowed) == 0:
			errs = append(errs, fmt.Errorf("property %q: enum without allowed values", p.Name))
		case p.Required && p.Default != "":
			errs = append(errs, fmt.Errorf("property %q: required with a default", p.Name))
		}
	}
	r := s.Read(emptyConfig{})
	for _, p := range s {
		if p.Default != "" {
			r.readAs(p)
		}
	}
	errs = append(errs, r.errs...)
	return errors.Join(errs...)
}

type emptyConfig struct{}

func (emptyConfig) Get(string) string { return "" }

// readAs reads p with the method of its type.
func (r *Reader) readAs(p Spec) {
	switch p.Type {
	case Int:
		r.Int(p.Name)
	case Bool:
		r.Bool(p.Name)
	case Size:
		r.Size(p.Name)
	case Duration:
		r.Duration(p.Name)
	case Enum:
		r.Enum(p.Name)
	case URL:
		r.URL(p.Name)
	case Regexp:
		r.Regexp(p.Name)
	case List:
		r.List(p.Name)
	case Time:
		r.Time(p.Name)
	default:
		r.String(p.Name)
	}
}

// TypeText renders the type and bounds as the README's Type column shows
// them, e.g. "int 1-64", "size 1K-64M", "enum: event, ndjson".
func (p Spec) TypeText() string {
	switch p.Type {
	case Int:
		return fmt.Sprintf("int %d-%d", p.Min, p.Max)
	case Size:
		return fmt.Sprintf("size %s-%s", sizeText(p.Min), sizeText(p.Max))
	case Duration:
		return fmt.Sprintf("duration %s-%s", durText(p.MinDur), durText(p.MaxDur))
	case Enum:
		return "enum: " + strings.Join(p.Allowed, ", ")
	}
	return p.Type.String()
}

// sizeText writes n with the largest binary unit that divides it.
func sizeText(n int64) string {
	for _, u := range []struct {
		shift  uint
		suffix string
	}{{30, "G"}, {20, "M"}, {10, "K"}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// durText trims Go's zero units (1h0m0s is 1h).
func durText(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Reader reads typed values from a Config and collects every error, so one
// Init reports all bad properties at once.
type Reader struct {
	set  Set
	cfg  plugin.Config
	errs []error
}

// Read starts reading cfg against the set.
func (s Set) Read(cfg plugin.Config) *Reader { return &Reader{set: s, cfg: cfg} }

// Err returns every problem found so far, or nil.
func (r *Reader) Err() error { return errors.Join(r.errs...) }

// Fail records a problem with a property found by the caller's own checks.
func (r *Reader) Fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("property %q: %s", name, fmt.Sprintf(format, args...)))
}

// raw returns the configured value, or the declared default, and records
// an error when a required property is empty. It panics when the property
// is undeclared or declared with another type than the method reading it:
// both are programming errors any test of the plugin catches.
func (r *Reader) raw(name string, types ...Type) (string, Spec) {
	spec, ok := r.set.Lookup(name)
	if !ok {
		panic("props: property " + name + " is not declared")
	}
	if !slices.Contains(types, spec.Type) {
		panic(fmt.Sprintf("props: property %s is declared %s, read as %s", name, spec.Type, types[0]))
	}
	v := strings.TrimSpace(r.cfg.Get(spec.Name))
	if v == "" {
		v = spec.Default
	}
	if v == "" && spec.Required {
		r.errs = append(r.errs, fmt.Errorf("property %q is required", spec.Name))
	}
	return v, spec
}

// IsSet reports whether the user set the property (a default does not
// count), for properties whose absence means something else than any value.
func (r *Reader) IsSet(name string) bool {
	spec, ok := r.set.Lookup(name)
	if !ok {
		panic("props: property " + name + " is not declared")
	}
	return strings.TrimSpace(r.cfg.Get(spec.Name)) != ""
}

func (r *Reader) bad(spec Spec, v, want string) {
	shown := strconv.Quote(v)
	if spec.Secret {
		shown = "(hidden)"
	}
	r.errs = append(r.errs, fmt.Errorf("property %q: invalid value %s: want %s", spec.Name, shown, want))
}

// String returns the value or default of a string property.
func (r *Reader) String(name string) string {
	v, _ := r.raw(name, String)
	return v
}

// Required reads a string property that is required only in some
// configurations (a property always required is declared Required), and
// records an error when it is empty.
func (r *Reader) Required(name string) string {
	v, spec := r.raw(name, String)
	if v == "" && !spec.Required {
		r.errs = append(r.errs, fmt.Errorf("property %q is required", spec.Name))
	}
	return v
}

// List returns the whitespace-separated words of a list property.
func (r *Reader) List(name string) []string {
	v, _ := r.raw(name, List)
	return strings.Fields(v)
}

// Int reads an integer within the declared [Min, Max]; unset without a
// default is 0.
func (r *Reader) Int(name string) int {
	v, spec := r.raw(name, Int)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < spec.Min || n > spec.Max {
		r.bad(spec, v, fmt.Sprintf("an integer from %d to %d", spec.Min, spec.Max))
		return int(spec.Min)
	}
	return int(n)
}

// Bool reads on/off, true/false, yes/no, 1/0 (case-insensitive), as Fluent Bit does.
func (r *Reader) Bool(name string) bool {
	v, spec := r.raw(name, Bool)
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1":
		return true
	case "", "off", "false", "no", "0":
		return false
	}
	r.bad(spec, v, "one of on, off, true, false, yes, no")
	return false
}

// Enum reads one of the declared Allowed values (case-insensitive) and
// returns it in its declared spelling; unset without a default is "".
func (r *Reader) Enum(name string) string {
	v, spec := r.raw(name, Enum)
	if v == "" && spec.Default == "" {
		return ""
	}
	for _, a := range spec.Allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	r.bad(spec, v, "one of "+strings.Join(spec.Allowed, ", "))
	return ""
}

var sizeRe = regexp.MustCompile(`^(?i)(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$`)

// Size reads a byte size such as 262144, 256k, 256KiB or 1M (k/m/g are
// powers of 1024, as in Fluent Bit) within the declared [Min, Max].
func (r *Reader) Size(name string) int64 {
	v, spec := r.raw(name, Size)
	min, max := spec.Min, spec.Max
	if v == "" {
		return 0
	}
	want := fmt.Sprintf("a size from %d to %d bytes, e.g. 262144, 256K or 1M", min, max)
	m := sizeRe.FindStringSubmatch(v)
	if m == nil {
		r.bad(spec, v, want)
		return min
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		r.bad(spec, v, want)
		return min
	}
	switch strings.ToLower(m[2]) {
	case "k", "kb", "kib":
		n <<= 10
	case "m", "mb", "mib":
		n <<= 20
	case "g", "gb", "gib":
		n <<= 30
	}
	if n < min || n > max {
		r.bad(spec, v, want)
		return min
	}
	return n
}

// SizeOffOrAtLeast reads a size where 0 turns a feature off and any other
// value must be at least least (below it the feature would work against
// itself); off says what 0 means, for the error.
func (r *Reader) SizeOffOrAtLeast(name string, least int64, off string) int64 {
	v := r.Size(name)
	if v > 0 && v < least {
		r.Fail(name, "invalid value %d bytes: want 0 (%s) or at least %s", v, off, sizeText(least))
		return 0
	}
	return v
}

// Duration reads a Go duration (500ms, 5s, 1m) or plain seconds, within the
// declared [MinDur, MaxDur].
func (r *Reader) Duration(name string) time.Duration {
	v, spec := r.raw(name, Duration)
	min, max := spec.MinDur, spec.MaxDur
	if v == "" {
		return 0
	}
	want := fmt.Sprintf("a duration from %s to %s, e.g. 30s or 500ms", min, max)
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, err2 := strconv.ParseFloat(v, 64)
		if err2 != nil {
			r.bad(spec, v, want)
			return min
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < min || d > max {
		r.bad(spec, v, want)
		return min
	}
	return d
}

// Time reads an RFC 3339 time (fractional seconds allowed) and returns it
// in UTC; empty returns the zero time.
func (r *Reader) Time(name string) time.Time {
	v, spec := r.raw(name, Time)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		r.bad(spec, v, "an RFC 3339 time such as 2000-01-01T00:00:00Z")
		return time.Time{}
	}
	return t.UTC()
}

// URL reads an absolute http(s) URL; empty is allowed and returns "".
func (r *Reader) URL(name string) string {
	v, spec := r.raw(name, URL)
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.bad(spec, v, "an absolute http:// or https:// URL")
		return ""
	}
	return v
}

// Regexp compiles the value as a regular expression; empty returns nil.
func (r *Reader) Regexp(name string) *regexp.Regexp {
	v, spec := r.raw(name, Regexp)
	if v == "" {
		return nil
	}
	re, err := regexp.Compile(v)
	if err != nil {
		r.bad(spec, v, "a valid regular expression ("+err.Error()+")")
		return nil
	}
	return re
}
