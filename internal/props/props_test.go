package props

import (
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

var set = Set{
	{Name: "queue_url", Meaning: "q"},
	{Name: "pollers", Default: "2", Meaning: "p"},
	{Name: "compress", Default: "off", Meaning: "c"},
	{Name: "format", Default: "ndjson", Meaning: "f"},
	{Name: "max_bytes", Default: "256K", Meaning: "m"},
	{Name: "interval", Default: "30s", Meaning: "i"},
	{Name: "endpoint", Meaning: "e"},
	{Name: "pattern", Meaning: "r"},
	{Name: "password", Meaning: "s", Secret: true},
}

func TestReaderValues(t *testing.T) {
	r := set.Read(testenv.Config{"QUEUE_URL": "http://q", "pollers": " 8 ", "compress": "On", "format": "SINGLE", "max_bytes": "1MiB", "interval": "500ms", "endpoint": "https://x.test:9", "pattern": "^a(?P<g>b)$"})
	if got := r.Required("queue_url"); got != "http://q" {
		t.Errorf("queue_url %q", got)
	}
	if got := r.Int("pollers", 1, 64); got != 8 {
		t.Errorf("pollers %d", got)
	}
	if !r.Bool("compress") {
		t.Error("compress")
	}
	if got := r.Enum("format", "single", "ndjson"); got != "single" {
		t.Errorf("format %q", got)
	}
	if got := r.Size("max_bytes", 1, 1<<30); got != 1<<20 {
		t.Errorf("max_bytes %d", got)
	}
	if got := r.Duration("interval", time.Millisecond, time.Hour); got != 500*time.Millisecond {
		t.Errorf("interval %v", got)
	}
	if got := r.URL("endpoint"); got != "https://x.test:9" {
		t.Errorf("endpoint %q", got)
	}
	if re := r.Regexp("pattern"); re == nil || re.SubexpNames()[1] != "g" {
		t.Error("pattern")
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestReaderDefaults(t *testing.T) {
	r := set.Read(testenv.Config{})
	if r.Int("pollers", 1, 64) != 2 || r.Bool("compress") || r.Enum("format", "single", "ndjson") != "ndjson" ||
		r.Size("max_bytes", 1, 1<<30) != 256<<10 || r.Duration("interval", 0, time.Hour) != 30*time.Second ||
		r.URL("endpoint") != "" || r.Regexp("pattern") != nil {
		t.Error("defaults not applied")
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestReaderErrorsNameThePropertyAndAcceptedValues(t *testing.T) {
	for _, tc := range []struct {
		key, val string
		read     func(*Reader)
		want     string
	}{
		{"queue_url", "", func(r *Reader) { r.Required("queue_url") }, `property "queue_url" is required`},
		{"pollers", "0", func(r *Reader) { r.Int("pollers", 1, 64) }, `property "pollers": invalid value "0": want an integer from 1 to 64`},
		{"pollers", "many", func(r *Reader) { r.Int("pollers", 1, 64) }, `property "pollers": invalid value "many": want an integer from 1 to 64`},
		{"compress", "maybe", func(r *Reader) { r.Bool("compress") }, `property "compress": invalid value "maybe": want one of on, off, true, false, yes, no`},
		{"format", "xml", func(r *Reader) { r.Enum("format", "single", "ndjson") }, `property "format": invalid value "xml": want one of single, ndjson`},
		{"max_bytes", "2G", func(r *Reader) { r.Size("max_bytes", 1, 1<<20) }, `property "max_bytes": invalid value "2G": want a size from 1 to 1048576 bytes`},
		{"max_bytes", "12 parsecs", func(r *Reader) { r.Size("max_bytes", 1, 1<<20) }, `property "max_bytes": invalid value "12 parsecs"`},
		{"interval", "soon", func(r *Reader) { r.Duration("interval", time.Second, time.Hour) }, `property "interval": invalid value "soon": want a duration from 1s to 1h0m0s`},
		{"endpoint", "ftp://x", func(r *Reader) { r.URL("endpoint") }, `property "endpoint": invalid value "ftp://x": want an absolute http:// or https:// URL`},
		{"pattern", "a(", func(r *Reader) { r.Regexp("pattern") }, `property "pattern": invalid value "a(": want a valid regular expression`},
	} {
		t.Run(tc.key+"="+tc.val, func(t *testing.T) {
			r := set.Read(testenv.Config{tc.key: tc.val})
			tc.read(r)
			if err := r.Err(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestReaderReportsEveryProblemAndHidesSecrets(t *testing.T) {
	r := set.Read(testenv.Config{"pollers": "0", "format": "xml", "password": "hunter2"})
	r.Int("pollers", 1, 64)
	r.Enum("format", "single", "ndjson")
	r.Enum("password", "a", "b")
	err := r.Err()
	if err == nil || !strings.Contains(err.Error(), "pollers") || !strings.Contains(err.Error(), "format") {
		t.Fatalf("want both problems, got %v", err)
	}
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), `property "password": invalid value (hidden)`) {
		t.Errorf("secret echoed: %v", err)
	}
}

func TestUndeclaredPropertyIsAProgrammingError(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("reading an undeclared property must panic")
		}
	}()
	set.Read(testenv.Config{}).String("nope")
}
