package props

import (
	"strings"
	"testing"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

var set = Set{
	{Name: "queue_url", Type: String, Required: true, Meaning: "q"},
	{Name: "pollers", Type: Int, Min: 1, Max: 64, Default: "2", Meaning: "p"},
	{Name: "compress", Type: Bool, Default: "off", Meaning: "c"},
	{Name: "format", Type: Enum, Allowed: []string{"single", "ndjson"}, Default: "ndjson", Meaning: "f"},
	{Name: "max_bytes", Type: Size, Min: 1, Max: 1 << 30, Default: "256K", Meaning: "m"},
	{Name: "small_bytes", Type: Size, Min: 1, Max: 1 << 20, Meaning: "m"},
	{Name: "interval", Type: Duration, MinDur: time.Millisecond, MaxDur: time.Hour, Default: "30s", Meaning: "i"},
	{Name: "strict_interval", Type: Duration, MinDur: time.Second, MaxDur: time.Hour, Meaning: "i"},
	{Name: "endpoint", Type: URL, Meaning: "e"},
	{Name: "pattern", Type: Regexp, Meaning: "r"},
	{Name: "tags", Type: List, Meaning: "t"},
	{Name: "since", Type: Time, Meaning: "t"},
	{Name: "password", Type: Enum, Allowed: []string{"a", "b"}, Meaning: "s", Secret: true},
}

func TestReaderValues(t *testing.T) {
	r := set.Read(testenv.Config{"QUEUE_URL": "http://q", "pollers": " 8 ", "compress": "On", "format": "SINGLE", "max_bytes": "1MiB", "interval": "500ms", "endpoint": "https://x.test:9", "pattern": "^a(?P<g>b)$", "since": "2020-01-02T03:04:05.5+02:00"})
	if got := r.String("queue_url"); got != "http://q" {
		t.Errorf("queue_url %q", got)
	}
	if got := r.Int("pollers"); got != 8 {
		t.Errorf("pollers %d", got)
	}
	if !r.Bool("compress") {
		t.Error("compress")
	}
	if got := r.Enum("format"); got != "single" {
		t.Errorf("format %q", got)
	}
	if got := r.Size("max_bytes"); got != 1<<20 {
		t.Errorf("max_bytes %d", got)
	}
	if got := r.Duration("interval"); got != 500*time.Millisecond {
		t.Errorf("interval %v", got)
	}
	if got := r.URL("endpoint"); got != "https://x.test:9" {
		t.Errorf("endpoint %q", got)
	}
	if re := r.Regexp("pattern"); re == nil || re.SubexpNames()[1] != "g" {
		t.Error("pattern")
	}
	if got := r.Time("since"); !got.Equal(time.Date(2020, 1, 2, 1, 4, 5, 5e8, time.UTC)) || got.Location() != time.UTC {
		t.Errorf("since %v, want 2020-01-02T01:04:05.5Z in UTC", got)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
}

func TestReaderDefaults(t *testing.T) {
	r := set.Read(testenv.Config{})
	if r.Int("pollers") != 2 || r.Bool("compress") || r.Enum("format") != "ndjson" ||
		r.Size("max_bytes") != 256<<10 || r.Duration("interval") != 30*time.Second ||
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
		{"queue_url", "", func(r *Reader) { r.String("queue_url") }, `property "queue_url" is required`},
		{"pollers", "0", func(r *Reader) { r.Int("pollers") }, `property "pollers": invalid value "0": want an integer from 1 to 64`},
		{"pollers", "many", func(r *Reader) { r.Int("pollers") }, `property "pollers": invalid value "many": want an integer from 1 to 64`},
		{"compress", "maybe", func(r *Reader) { r.Bool("compress") }, `property "compress": invalid value "maybe": want one of on, off, true, false, yes, no`},
		{"format", "xml", func(r *Reader) { r.Enum("format") }, `property "format": invalid value "xml": want one of single, ndjson`},
		{"small_bytes", "2G", func(r *Reader) { r.Size("small_bytes") }, `property "small_bytes": invalid value "2G": want a size from 1 to 1048576 bytes`},
		{"small_bytes", "12 parsecs", func(r *Reader) { r.Size("small_bytes") }, `property "small_bytes": invalid value "12 parsecs"`},
		{"small_bytes", "512", func(r *Reader) { r.SizeOffOrAtLeast("small_bytes", 1<<10, "off") }, `property "small_bytes": invalid value 512 bytes: want 0 (off) or at least 1K`},
		{"strict_interval", "soon", func(r *Reader) { r.Duration("strict_interval") }, `property "strict_interval": invalid value "soon": want a duration from 1s to 1h0m0s`},
		{"endpoint", "ftp://x", func(r *Reader) { r.URL("endpoint") }, `property "endpoint": invalid value "ftp://x": want an absolute http:// or https:// URL`},
		{"pattern", "a(", func(r *Reader) { r.Regexp("pattern") }, `property "pattern": invalid value "a(": want a valid regular expression`},
		{"since", "2000", func(r *Reader) { r.Time("since") }, `property "since": invalid value "2000": want an RFC 3339 time such as 2000-01-01T00:00:00Z`},
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
	r.Int("pollers")
	r.Enum("format")
	r.Enum("password")
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

func TestReaderList(t *testing.T) {
	r := set.Read(testenv.Config{"tags": " events  eventing.* "})
	if got := strings.Join(r.List("tags"), "|"); got != "events|eventing.*" {
		t.Errorf("tags %q", got)
	}
	if r.IsSet("pollers") || !r.IsSet("tags") {
		t.Error("IsSet must tell a user's value from a default")
	}
}

// TestTypeMismatchIsAProgrammingError: the method reading a property must
// match its declared type, so a declaration cannot drift from its use.
func TestTypeMismatchIsAProgrammingError(t *testing.T) {
	for name, read := range map[string]func(*Reader){
		"int as string":  func(r *Reader) { r.String("pollers") },
		"string as int":  func(r *Reader) { r.Int("queue_url") },
		"enum as bool":   func(r *Reader) { r.Bool("format") },
		"size as int":    func(r *Reader) { r.Int("max_bytes") },
		"url as regexp":  func(r *Reader) { r.Regexp("endpoint") },
		"list as string": func(r *Reader) { r.String("tags") },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("want a panic")
				}
			}()
			read(set.Read(testenv.Config{}))
		})
	}
}

func TestJoin(t *testing.T) {
	a := Set{{Name: "a"}, {Name: "b"}}
	b := Set{{Name: "c"}}
	var names []string
	for _, p := range Join(a, b) {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Errorf("Join order %v", names)
	}
	defer func() {
		if recover() == nil {
			t.Error("a name declared twice must panic")
		}
	}()
	Join(a, Set{{Name: "B"}})
}

func TestTypeText(t *testing.T) {
	for _, c := range []struct {
		spec Spec
		want string
	}{
		{Spec{Type: String}, "string"},
		{Spec{Type: Int, Min: 1, Max: 64}, "int 1-64"},
		{Spec{Type: Size, Min: 1 << 10, Max: 64 << 20}, "size 1K-64M"},
		{Spec{Type: Size, Min: 1, Max: 1 << 30}, "size 1-1G"},
		{Spec{Type: Duration, MinDur: 100 * time.Millisecond, MaxDur: time.Hour}, "duration 100ms-1h"},
		{Spec{Type: Duration, MinDur: 2 * time.Second, MaxDur: 12 * time.Hour}, "duration 2s-12h"},
		{Spec{Type: Duration, MinDur: 0, MaxDur: 10 * time.Minute}, "duration 0s-10m"},
		{Spec{Type: Enum, Allowed: []string{"event", "ndjson"}}, "enum: event, ndjson"},
		{Spec{Type: Bool}, "bool"},
	} {
		if got := c.spec.TypeText(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.spec, got, c.want)
		}
	}
}

func TestCheck(t *testing.T) {
	if err := set.Check(); err != nil {
		t.Errorf("the test set is consistent: %v", err)
	}
	bad := Set{
		{Name: "a", Type: Int, Min: 1, Max: 10, Default: "11"},
		{Name: "b", Type: Enum},
		{Name: "c", Type: Duration, MinDur: time.Second, MaxDur: time.Millisecond},
		{Name: "d", Type: String, Required: true, Default: "x"},
	}
	err := bad.Check()
	for _, name := range []string{`"a"`, `"b"`, `"c"`, `"d"`} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Check does not report %s: %v", name, err)
		}
	}
}

func TestSizeOffOrAtLeast(t *testing.T) {
	set := Set{{Name: "limit", Type: Size, Min: 0, Max: 1 << 40, Default: "0", Meaning: "a limit"}}
	for _, tc := range []struct {
		val  string
		want int64
		ok   bool
	}{
		{"", 0, true},
		{"0", 0, true},
		{"16M", 16 << 20, true},
		{"3G", 3 << 30, true},
		{"15M", 0, false},
		{"1", 0, false},
	} {
		cfg := testenv.Config{}
		if tc.val != "" {
			cfg["limit"] = tc.val
		}
		r := set.Read(cfg)
		got := r.SizeOffOrAtLeast("limit", 16<<20, "no limit")
		if err := r.Err(); (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%q: %d, error %v; want %d, accepted %v", tc.val, got, err, tc.want, tc.ok)
		}
	}
}
