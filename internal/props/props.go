// Package props declares a plugin's properties once (name, default, meaning)
// and reads them with types, bounds and clear errors. The same declarations
// feed the README's property tables, which a test keeps in step.
package props

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/plugin"
)

// Spec declares one property.
type Spec struct {
	Name    string
	Default string // as a user would write it; "" means unset
	Meaning string
	Secret  bool // never echoed in errors or logs
}

// Set is the ordered list of a plugin's properties.
type Set []Spec

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

// raw returns the configured value, or the declared default.
func (r *Reader) raw(name string) (string, Spec) {
	spec, ok := r.set.Lookup(name)
	if !ok {
		panic("props: property " + name + " is not declared")
	}
	v := strings.TrimSpace(r.cfg.Get(spec.Name))
	if v == "" {
		v = spec.Default
	}
	return v, spec
}

func (r *Reader) bad(spec Spec, v, want string) {
	shown := strconv.Quote(v)
	if spec.Secret {
		shown = "(hidden)"
	}
	r.errs = append(r.errs, fmt.Errorf("property %q: invalid value %s: want %s", spec.Name, shown, want))
}

// String returns the value or default.
func (r *Reader) String(name string) string {
	v, _ := r.raw(name)
	return v
}

// Required returns the value and records an error when it is empty.
func (r *Reader) Required(name string) string {
	v, spec := r.raw(name)
	if v == "" {
		r.errs = append(r.errs, fmt.Errorf("property %q is required", spec.Name))
	}
	return v
}

// Int reads an integer within [min, max].
func (r *Reader) Int(name string, min, max int) int {
	v, spec := r.raw(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		r.bad(spec, v, fmt.Sprintf("an integer from %d to %d", min, max))
		return min
	}
	return n
}

// Bool reads on/off, true/false, yes/no, 1/0 (case-insensitive), as Fluent Bit does.
func (r *Reader) Bool(name string) bool {
	v, spec := r.raw(name)
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1":
		return true
	case "", "off", "false", "no", "0":
		return false
	}
	r.bad(spec, v, "one of on, off, true, false, yes, no")
	return false
}

// Enum reads one of the allowed values (case-insensitive) and returns it in
// its declared spelling.
func (r *Reader) Enum(name string, allowed ...string) string {
	v, spec := r.raw(name)
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	r.bad(spec, v, "one of "+strings.Join(allowed, ", "))
	return ""
}

var sizeRe = regexp.MustCompile(`^(?i)(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$`)

// Size reads a byte size such as 262144, 256k, 256KiB or 1M (k/m/g are
// powers of 1024, as in Fluent Bit) within [min, max].
func (r *Reader) Size(name string, min, max int64) int64 {
	v, spec := r.raw(name)
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

// Duration reads a Go duration (500ms, 5s, 1m) or plain seconds, within [min, max].
func (r *Reader) Duration(name string, min, max time.Duration) time.Duration {
	v, spec := r.raw(name)
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

// URL reads an absolute http(s) URL; empty is allowed and returns "".
func (r *Reader) URL(name string) string {
	v, spec := r.raw(name)
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
	v, spec := r.raw(name)
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
