package sqs

import (
	"strings"
	"testing"

	"github.com/whirlpool-events/whirlpool/internal/testenv"
)

// fluentdDecoder decodes as the sqs input does with the given properties
// (enrich on, tag_regex over the whirlpool.<game>.<version>.<event> tag).
func fluentdDecoder(t *testing.T, props testenv.Config) *decoder {
	t.Helper()
	c := testenv.Config{"queue_url": "http://127.0.0.1:1/q", "validate": "off", "enrich": "on",
		"tag_regex": `^whirlpool\.(?P<game>[^.]+)\.(?P<version>[^.]+)\.(?P<event>[^.]+)$`}
	for k, v := range props {
		c[k] = v
	}
	cfg, err := parseConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	d := newDecoder(cfg.bounds)
	d.enrich = cfg.enrich
	return d
}

// Message bodies in the bytes fluent-plugin-sqs writes: Yajl.dump of the
// record, the tag added as "__tag" (tag_property_name) and, when fluentd
// injects the time, "time" last, in the inject helper's default ISO 8601 form.
func TestFluentdRecordsAreEnriched(t *testing.T) {
	const uuid = "0190d6b4-7c2a-7c3e-8f00-00000000000a"
	for _, tc := range []struct {
		name, body    string
		props         testenv.Config
		key, firedTS  string
		body2, uuid   string // the contract record's body; uuid "" means derived
		firedFromSent bool
	}{
		{name: "tag and time (inject defaults, localtime +00:00)",
			body:  `{"level":3,"name":"café","__tag":"whirlpool.poker.1.4.level_up","time":"2026-11-30T23:45:27+00:00"}`,
			props: testenv.Config{"tag_regex": `^whirlpool\.(?P<game>[^.]+)\.(?P<version>[^.]+\.[^.]+)\.(?P<event>[^.]+)$`},
			key:   "poker/1.4/level_up", firedTS: "2026-11-30T23:45:27.000Z", body2: `{"level":3,"name":"café"}`},
		{name: "time with a %z offset and fractions, as a time_format gives",
			body: `{"a":1,"__tag":"whirlpool.g.2.e","time":"2026-11-30T23:45:27.250+0100"}`,
			key:  "g/2/e", firedTS: "2026-11-30T22:45:27.250Z", body2: `{"a":1}`},
		{name: "Ruby Time#to_s (older fluent-plugin-sqs)",
			body: `{"a":1,"__tag":"whirlpool.g.2.e","time":"2026-11-30 23:45:27 +0000"}`,
			key:  "g/2/e", firedTS: "2026-11-30T23:45:27.000Z", body2: `{"a":1}`},
		{name: "Unix seconds (time_type float)",
			body: `{"a":1,"__tag":"whirlpool.g.2.e","time":1796082327.5}`,
			key:  "g/2/e", firedTS: "2026-11-30T23:45:27.500Z", body2: `{"a":1}`},
		{name: "no time key: SentTimestamp",
			body: `{"a":1,"__tag":"whirlpool.g.2.e"}`,
			key:  "g/2/e", firedFromSent: true, body2: `{"a":1}`},
		{name: "time_key none: SentTimestamp, and a field named time stays in the body",
			body:  `{"a":1,"__tag":"whirlpool.g.2.e","time":"soon"}`,
			props: testenv.Config{"time_key": "none"},
			key:   "g/2/e", firedFromSent: true, body2: `{"a":1,"time":"soon"}`},
		{name: "key from the record's fields, which stay in the body (as the sqs output wraps)",
			body: `{"game":"poker","version":"7","event":"bet","amount":5,"__tag":"other.tag","time":"2026-11-30T23:45:27Z"}`,
			key:  "poker/7/bet", firedTS: "2026-11-30T23:45:27.000Z", body2: `{"game":"poker","version":"7","event":"bet","amount":5}`},
		{name: "the record's uuid is kept",
			body: `{"uuid":"` + uuid + `","a":1,"__tag":"whirlpool.g.2.e"}`,
			key:  "g/2/e", firedFromSent: true, uuid: uuid, body2: `{"uuid":"` + uuid + `","a":1}`},
		{name: "the envelope at the top level: the five keys are the envelope, the rest the body",
			body: `{"uuid":"` + uuid + `","fired_ts":"2026-11-30T23:45:27.123Z","game":"poker","version":"1","event":"bet","amount":5,"__tag":"x","time":"2026-11-30T23:45:28Z"}`,
			key:  "poker/1/bet", firedTS: "2026-11-30T23:45:27.123Z", uuid: uuid, body2: `{"amount":5}`},
		{name: "a tag key renamed (tag_property_name)",
			body:  `{"a":1,"src":"whirlpool.g.2.e"}`,
			props: testenv.Config{"tag_key": "src"},
			key:   "g/2/e", firedFromSent: true, body2: `{"a":1}`},
		{name: "keys and values keep their exact bytes, escapes included",
			body: `{"caf\u00e9":"\"q\"","x\ty":[1, 2],"__tag":"whirlpool.g.2.e"}`,
			key:  "g/2/e", firedFromSent: true, body2: `{"caf\u00e9":"\"q\"","x\ty":[1, 2]}`},
		{name: "a body field of the client's own is just a field",
			body: `{"body":"hello","__tag":"whirlpool.chat.1.message"}`,
			key:  "chat/1/message", firedFromSent: true, body2: `{"body":"hello"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := message{id: "d6a5c1d2-msg", body: tc.body, sent: sent}
			out, pieces := fluentdDecoder(t, tc.props).appendMessage(nil, m)
			if len(pieces) != 1 || pieces[0].failure {
				t.Fatalf("pieces %+v, want one contract record: %v", pieces, readRecords(t, out))
			}
			r := readRecords(t, out)[0]
			f := r.fields
			if got := f["game"].(string) + "/" + f["version"].(string) + "/" + f["event"].(string); got != tc.key {
				t.Errorf("key %s, want %s", got, tc.key)
			}
			want := tc.firedTS
			if tc.firedFromSent {
				want = "2026-11-21T12:00:00.000Z"
			}
			if f["fired_ts"] != want || r.time.UTC().Format("2006-01-02T15:04:05.000Z") != want {
				t.Errorf("fired_ts %v, record time %v, want %s", f["fired_ts"], r.time.UTC(), want)
			}
			if f["body"] != tc.body2 {
				t.Errorf("body %q, want %q", f["body"], tc.body2)
			}
			if tc.uuid != "" && f["uuid"] != tc.uuid {
				t.Errorf("uuid %v, want the record's %s", f["uuid"], tc.uuid)
			}
			if tc.uuid == "" {
				// Derived from the message id and the position: a redelivered
				// message gets the same uuid, another message another.
				again, _ := fluentdDecoder(t, tc.props).appendMessage(nil, m)
				other, _ := fluentdDecoder(t, tc.props).appendMessage(nil, message{id: "other-msg", body: tc.body, sent: sent})
				u, ok := f["uuid"].(string)
				if !ok || !validUUID(u) || readRecords(t, again)[0].fields["uuid"] != u || readRecords(t, other)[0].fields["uuid"] == u {
					t.Errorf("uuid %v: want one derived from the message id, stable on redelivery", f["uuid"])
				}
			}
			if len(f) != 6 {
				t.Errorf("record has keys %v, want the six of the contract", f)
			}
		})
	}
}

// A fluentd record that cannot be given an envelope is an ENDPOINT_INVALID
// failure holding the whole message text and naming the field: never a
// drop, never a record with a made-up key or time.
func TestFluentdRecordsThatCannotBeEnriched(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		props      testenv.Config
		path, why  string
	}{
		{"the tag does not match tag_regex", `{"a":1,"__tag":"app.access","time":"2026-11-30T23:45:27+00:00"}`, nil,
			"game", `game: no string field "game" and field "__tag" "app.access" does not match tag_regex`},
		{"no tag and no fields", `{"a":1}`, nil, "game", `game: no string field "game" and no field "__tag"`},
		{"a key part that is not valid", `{"a":1,"__tag":"whirlpool.g.2 x.e"}`, testenv.Config{"tag_regex": `^whirlpool\.(?P<game>[^.]+)\.(?P<version>[^.]+)\.(?P<event>[^.]+)$`},
			"version", `invalid version "2 x"`},
		{"a time that is no time", `{"a":1,"__tag":"whirlpool.g.2.e","time":"yesterday"}`, nil,
			"time", `field "time" is "\"yesterday\"", not a time`},
		{"a uuid that is not a UUID", `{"uuid":"1234","__tag":"whirlpool.g.2.e"}`, nil,
			"uuid", `field "uuid" is "\"1234\"", not a UUID`},
		{"a top-level envelope with a key that is not a string", `{"uuid":"u","fired_ts":"2026-11-30T23:45:27Z","game":7,"version":"1","event":"e"}`, nil,
			"game", `key "game" is not a string`},
		{"enrich off: only contract records are read", `{"a":1,"__tag":"whirlpool.g.2.e"}`, testenv.Config{"enrich": "off"},
			"uuid", `key "uuid" is missing`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, pieces := fluentdDecoder(t, tc.props).appendMessage(nil, message{id: "msg-9", body: tc.body, sent: sent})
			if len(pieces) != 1 || !pieces[0].failure {
				t.Fatalf("pieces %+v, want one failure", pieces)
			}
			f := readRecords(t, out)[0].fields
			errs, _ := f["errors"].([]any)
			if len(errs) != 1 {
				t.Fatalf("record %v", f)
			}
			e := errs[0].(map[string]any)
			if e["code"] != "ENDPOINT_INVALID" || e["path"] != tc.path || !strings.Contains(e["message"].(string), tc.why) || !strings.Contains(e["message"].(string), "msg-9") {
				t.Errorf("error %v, want ENDPOINT_INVALID at %q saying %q", e, tc.path, tc.why)
			}
			if f["body"] != tc.body {
				t.Errorf("raw text %q, want the whole message", f["body"])
			}
		})
	}
}

// A contract record is read as such with enrich on too.
func TestContractRecordsUnchangedWithEnrich(t *testing.T) {
	out, pieces := fluentdDecoder(t, nil).appendMessage(nil, message{id: "m", body: contractLine, format: "event", sent: sent})
	plain, _ := newDecoder(bounds{maxBytes: 1 << 20, maxRecords: 1_000_000}).appendMessage(nil, message{id: "m", body: contractLine, format: "event", sent: sent})
	if len(pieces) != 1 || pieces[0].failure || string(out) != string(plain) {
		t.Errorf("a contract record decodes differently with enrich on: %v", readRecords(t, out))
	}
}
