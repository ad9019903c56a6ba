package redshift

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tinylib/msgp/msgp"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/fieldname"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// failureWithDigest is a failure record whose body was cut upstream: it
// carries body_bytes and body_sha256 (any values, as a sender chooses).
func failureWithDigest(uuid, raw string, size, sum any) []byte {
	b := msgp.AppendMapHeader(nil, 10)
	for _, kv := range [][2]string{{"uuid", uuid}, {"fired_ts", "2026-11-21T23:45:27.123Z"}, {"game", "space"}, {"version", "1.2"}, {"event", "kill"}, {"body", raw}} {
		b = msgp.AppendString(b, kv[0])
		b = msgp.AppendString(b, kv[1])
	}
	b = msgp.AppendString(b, fieldname.BodyBytes)
	b, _ = msgp.AppendIntf(b, size)
	b = msgp.AppendString(b, fieldname.BodySHA256)
	b, _ = msgp.AppendIntf(b, sum)
	b = msgp.AppendString(b, "definition_version")
	b = msgp.AppendNil(b)
	b = msgp.AppendString(b, "errors")
	return appendAny(b, []map[string]string{{"code": "UNDECODABLE_MESSAGE", "message": "m"}})
}

func hexSum(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// A failure row keeps at most max_event_size bytes of the raw event, cut at
// a character boundary, with the whole text's length and SHA-256 in
// raw_event_bytes and raw_event_sha256: whether it was cut by the output
// or upstream (the digest a failure record carries is kept), for failure
// records and for the failures the output makes itself.
func TestFailureRowsKeepAtMostMaxEventSize(t *testing.T) {
	const limit = 1 << 10
	big := `{"pad":"` + strings.Repeat("\u20ac", 1500) + `"}` // 3-byte characters across the cut
	bigBad := strings.Repeat("ab\xff", 1000)                  // not UTF-8: stored with U+FFFD
	upstream := hexSum("the whole message")
	e := []map[string]string{{"code": "PAYLOAD_NOT_JSON", "message": "m"}}
	cases := []struct {
		uuid   string
		body   []byte
		prefix string // raw_event is a prefix of it (as stored: U+FFFD for bad bytes)
		size   string // raw_event_bytes; "NULL": kept whole
		sum    string // raw_event_sha256
	}{
		{"f-big", failureBody("f-big", big, e), big, strconv.Itoa(len(big)), hexSum(big)},
		{"f-bad", failureBody("f-bad", bigBad, e), strings.ReplaceAll(bigBad, "\xff", "\uFFFD"), strconv.Itoa(len(bigBad)), hexSum(bigBad)},
		{"f-small", failureBody("f-small", `{"a":1}`, e), `{"a":1}`, "NULL", "NULL"},
		{"f-upstream", failureWithDigest("f-upstream", `{"a":`, 5<<20, upstream), `{"a":`, strconv.Itoa(5 << 20), upstream},
		{"f-upstream-big", failureWithDigest("f-upstream-big", big, 5<<20, upstream), big, strconv.Itoa(5 << 20), upstream},
		{"f-forged-digest", failureWithDigest("f-forged-digest", `{"a":1}`, "lots", "zz"), `{"a":1}`, "NULL", "NULL"},
		// a gzip message over a bound: body is its first decoded bytes, the
		// digest is of the (shorter) message as received
		{"f-short-digest", failureWithDigest("f-short-digest", `{"a":1}`, 2, upstream), `{"a":1}`, "2", upstream},
		{"v-too-large", envelopeBody("v-too-large", big), big, strconv.Itoa(len(big)), hexSum(big)},
	}
	for _, method := range []string{"pg_copy", "insert"} {
		t.Run(method, func(t *testing.T) {
			dsn := testenv.Postgres(t)
			m, err := validate.LoadFile(testModelFile(t))
			if err != nil {
				t.Fatal(err)
			}
			v, err := validate.NewWithModel(m, validate.Options{MaxEventSize: limit})
			if err != nil {
				t.Fatal(err)
			}
			o, _ := newOutput(t, testenv.Config{"dsn": dsn, "dialect": "postgres", "load_method": method, "auto_create": "on", "batch_max_wait": "10ms"},
				WithValidator(v), WithMaxEventSize(limit))
			var chunk []byte
			for _, c := range cases {
				chunk = append(chunk, chunkOf(c.body)...)
			}
			if r := o.Flush(chunk, "events"); r != plugin.OK {
				t.Fatalf("flush = %v", r)
			}
			got := map[string][]string{}
			for _, r := range testenv.QueryRows(t, openPG(t, dsn), `SELECT uuid, raw_event, raw_event_bytes, raw_event_sha256 FROM failures.events`) {
				got[r[0]] = r[1:]
			}
			for _, c := range cases {
				r, ok := got[c.uuid]
				if !ok {
					t.Errorf("%s: no failure row", c.uuid)
					continue
				}
				raw := r[0]
				if len(raw) > limit || !strings.HasPrefix(c.prefix, raw) || !utf8.ValidString(raw) {
					t.Errorf("%s: raw_event of %d bytes (valid UTF-8 %v), want a prefix of the event of at most %d bytes", c.uuid, len(raw), utf8.ValidString(raw), limit)
				}
				if c.size == "NULL" && raw != c.prefix {
					t.Errorf("%s: raw_event %q, want it whole", c.uuid, raw)
				}
				if c.size != "NULL" && len(c.prefix) > limit && len(raw) < limit-utf8.UTFMax {
					t.Errorf("%s: raw_event of %d bytes, cut more than a character short of %d", c.uuid, len(raw), limit)
				}
				if r[1] != c.size || r[2] != c.sum {
					t.Errorf("%s: raw_event_bytes %s, raw_event_sha256 %s; want %s, %s", c.uuid, r[1], r[2], c.size, c.sum)
				}
			}
		})
	}
}

// The plugin cuts failure rows at its max_event_size property, validate on
// or off.
func TestPluginCutsFailureRowsAtMaxEventSize(t *testing.T) {
	for _, tc := range []struct {
		cfg  testenv.Config
		want int
	}{
		{testenv.Config{"validate": "off"}, validate.DefaultMaxEventSize},
		{testenv.Config{"validate": "off", "max_event_size": "2K"}, 2 << 10},
		{testenv.Config{"validate": "on", "max_event_size": "4K"}, 4 << 10},
	} {
		cfg := testenv.Config{"db_host": "127.0.0.1", "user": "u", "database": "d", "dialect": "postgres", "load_method": "insert"}
		for k, v := range tc.cfg {
			cfg[k] = v
		}
		p, err := newPlugin(plugin.Env{Config: cfg, Log: &testenv.Log{}, Name: "redshift.0"})
		if err != nil {
			t.Fatalf("%v: %v", tc.cfg, err)
		}
		if got := p.(*pluginOutput).maxRaw; got != tc.want {
			t.Errorf("%v: failure rows keep %d bytes, want %d", tc.cfg, got, tc.want)
		}
		p.Close()
	}
}
