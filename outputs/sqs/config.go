package sqs

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/internal/awsconf"
	"github.com/whirlpool-events/whirlpool/internal/gomem"
	"github.com/whirlpool-events/whirlpool/internal/metrics"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/props"
)

// Limits of the service.
const (
	maxEntriesPerBatch = 10      // SendMessageBatch entries
	serviceMaxBytes    = 1 << 20 // a message, and a whole batch (since August 2025)
	minMessageBytes    = 1 << 10
)

// Properties are the output's Fluent Bit properties, in README order.
var Properties = props.Join(props.Set{
	{Name: "queue_url", Type: props.URL, Required: true, Meaning: "URL of the queue (required); a name ending in .fifo makes a FIFO queue"},
}, awsconf.Properties, props.Set{
	{Name: "format", Type: props.Enum, Allowed: []string{FormatEvent, FormatNDJSON}, Default: "ndjson", Meaning: "message body: event (one JSON record per message) or ndjson (records packed, one per line)"},
	{Name: "compression", Type: props.Enum, Allowed: []string{"none", "gzip", "s2"}, Default: "none", Meaning: "none, gzip or s2 (ndjson only: the body is base64 of the gzip, or of the S2 block, of the ndjson). s2 takes a fifth of gzip's CPU for about two thirds of its ratio; processors read it from this version on, so upgrade them first"},
	{Name: "max_message_bytes", Type: props.Size, Min: minMessageBytes, Max: serviceMaxBytes, Default: "1M", Meaning: "largest message, body plus attributes, 1K to 1M (256K for queues with the older limit)"},
	{Name: "max_batch_bytes", Type: props.Size, Min: minMessageBytes, Max: serviceMaxBytes, Default: "1M", Meaning: "largest SendMessageBatch request (sum of its messages), max_message_bytes to 1M"},
	{Name: "max_events_per_message", Type: props.Int, Min: 0, Max: MaxPackedEvents, Default: "0", Meaning: "most events packed in one message (0 to 10000); 0 means 10000, the most any message holds, so the sqs input's default max_records_per_message takes it"},
	{Name: "max_retries", Type: props.Int, Min: 0, Max: 10, Default: "3", Meaning: "resends of failed entries or requests within one flush before the chunk is handed back to Fluent Bit for retry (0-10)"},
	{Name: "concurrency", Type: props.Int, Min: 1, Max: 64, Default: "4", Meaning: "SendMessageBatch requests in flight per flush (1-64); FIFO queues always send one at a time"},
	{Name: "message_group_id", Type: props.String, Meaning: "FIFO: a static MessageGroupId for every message (overrides message_group_id_key)"},
	{Name: "message_group_id_key", Type: props.String, Default: "game", Meaning: "FIFO: contract key (uuid, fired_ts, game, version or event) whose value is the MessageGroupId (fallback: \"default\")"},
	{Name: "deduplication_id_key", Type: props.String, Default: "uuid", Meaning: "FIFO: contract key (uuid, fired_ts, game, version or event) that identifies an event; a message's MessageDeduplicationId is derived from its events' values"},
	{Name: "contract_match", Type: props.List, Default: DefaultContractMatch, Meaning: "tags of the eventing inputs: space-separated patterns, * matching any characters as in Match; records of a matching tag that are in the record contract keep their uuid and fired_ts (other keys dropped), every other record is wrapped into the contract"},
}, enrich.KeyProperties, metrics.Properties, gomem.Properties)

// DefaultContractMatch is contract_match's default: the Tag conf/edge.conf
// gives the eventing input, and the tag Fluent Bit gives an eventing input
// without one (eventing.0, eventing.1, ...).
const DefaultContractMatch = "events eventing.*"

// Format values.
const (
	FormatEvent  = "event"
	FormatNDJSON = "ndjson"
	// FormatNDJSONGzipBase64 is the wire name of ndjson with compression gzip.
	FormatNDJSONGzipBase64 = "ndjson.gz.b64"
	// FormatNDJSONS2Base64 is the wire name of ndjson with compression s2.
	FormatNDJSONS2Base64 = "ndjson.s2.b64"
)

// Compression values.
const (
	CompressNone = "none"
	CompressGzip = "gzip"
	CompressS2   = "s2"
)

// Config is one instance's parsed configuration.
type Config struct {
	QueueURL string
	FIFO     bool
	AWS      awsconf.Settings
	Metrics  metrics.Settings
	GoMemory gomem.Settings

	Format          string // FormatEvent or FormatNDJSON
	Compression     string // CompressNone, CompressGzip or CompressS2
	MaxMessageBytes int
	MaxBatchBytes   int
	MaxEvents       int // 0: MaxPackedEvents
	MaxRetries      int
	Concurrency     int

	GroupID    string // static MessageGroupId
	GroupIDKey string
	DedupIDKey string
	groupIdx   int // sentField index of GroupIDKey
	dedupIdx   int // sentField index of DedupIDKey

	// ContractMatch are the patterns of the tags whose contract records are
	// trusted (Trusts).
	ContractMatch []string

	// Keys finds the event key of a wrapped record (enrich, game_key, ...).
	Keys enrich.KeyFinder
}

// WireFormat is the whirlpool.format attribute value of the config's messages.
func (c *Config) WireFormat() string {
	if c.Format == FormatEvent {
		return FormatEvent
	}
	switch c.Compression {
	case CompressGzip:
		return FormatNDJSONGzipBase64
	case CompressS2:
		return FormatNDJSONS2Base64
	}
	return FormatNDJSON
}

// Compressed reports whether messages are compressed (then base64'd).
func (c *Config) Compressed() bool {
	return c.Compression == CompressGzip || c.Compression == CompressS2
}

// ParseConfig reads and checks every property, the shared sets' too, with
// one reader; the error names each bad property at once.
func ParseConfig(cfg plugin.Config) (*Config, error) {
	r := Properties.Read(cfg)
	c := &Config{
		QueueURL:        r.URL("queue_url"),
		AWS:             awsconf.Read(r),
		Metrics:         metrics.Read(r),
		GoMemory:        gomem.Read(r),
		Format:          r.Enum("format"),
		MaxMessageBytes: int(r.Size("max_message_bytes")),
		MaxBatchBytes:   int(r.Size("max_batch_bytes")),
		MaxEvents:       r.Int("max_events_per_message"),
		MaxRetries:      r.Int("max_retries"),
		Concurrency:     r.Int("concurrency"),
		GroupID:         r.String("message_group_id"),
		GroupIDKey:      r.String("message_group_id_key"),
		DedupIDKey:      r.String("deduplication_id_key"),
		ContractMatch:   r.List("contract_match"),
		Keys:            enrich.ReadKeyFinder(r),
	}
	c.Compression = r.Enum("compression")

	if c.QueueURL != "" {
		// r.URL checked the scheme and host; a queue URL also names the queue.
		if u, err := url.Parse(c.QueueURL); err != nil || strings.Trim(u.Path, "/") == "" {
			r.Fail("queue_url", "invalid value %q: want the queue's URL, e.g. https://sqs.us-east-1.amazonaws.com/123456789012/events", c.QueueURL)
		}
		c.FIFO = strings.HasSuffix(strings.TrimRight(c.QueueURL, "/"), ".fifo")
	}
	if c.Compressed() && c.Format != FormatNDJSON {
		r.Fail("compression", "%s needs format ndjson (format is %q)", c.Compression, c.Format)
	}
	if c.MaxBatchBytes < c.MaxMessageBytes && c.MaxBatchBytes != 0 && c.MaxMessageBytes != 0 {
		r.Fail("max_batch_bytes", "%d is smaller than max_message_bytes (%d)", c.MaxBatchBytes, c.MaxMessageBytes)
	}
	if c.GroupID != "" && !validSQSID(c.GroupID) {
		r.Fail("message_group_id", "invalid value %q: want 1 to 128 ASCII letters, digits or punctuation", c.GroupID)
	}
	for _, k := range []struct {
		name, value string
		idx         *int
	}{{"message_group_id_key", c.GroupIDKey, &c.groupIdx}, {"deduplication_id_key", c.DedupIDKey, &c.dedupIdx}} {
		// Only the contract's keys are sent (the body aside), so no other
		// field can give an id.
		if *k.idx = sentField(k.value); *k.idx < 0 {
			r.Fail(k.name, "invalid value %q: want uuid, fired_ts, game, version or event (the keys every record is sent with)", k.value)
		}
	}
	for _, p := range c.ContractMatch {
		if strings.Trim(p, "*") == "" {
			r.Fail("contract_match", "pattern %q matches every tag, so every input (the forward input too) could set uuid and fired_ts: list the eventing inputs' tags", p)
		}
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// validSQSID reports whether s is a valid MessageGroupId or
// MessageDeduplicationId: 1 to 128 ASCII letters, digits or punctuation.
func validSQSID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// Trusts reports whether the records of tag come from an eventing input
// (contract_match), so that those in the record contract are sent with
// their own uuid and fired_ts.
func (c *Config) Trusts(tag string) bool {
	for _, p := range c.ContractMatch {
		if MatchTag(p, tag) {
			return true
		}
	}
	return false
}

// MatchTag reports whether tag matches pattern as Fluent Bit's Match does
// (router_match in src/flb_router.c): case-sensitive, '*' matches any run of
// characters (dots included), every other character only itself.
func MatchTag(pattern, tag string) bool {
	p, t := 0, 0
	star, resume := -1, 0 // the last '*' seen, and where its match ends
	for t < len(tag) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, resume = p, t
			p++
		case p < len(pattern) && pattern[p] == tag[t]:
			p++
			t++
		case star >= 0:
			// Let the last '*' take one more character and go on after it.
			resume++
			p, t = star+1, resume
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func (c *Config) String() string {
	return fmt.Sprintf("queue_url=%s fifo=%t format=%s compression=%s max_message_bytes=%d max_batch_bytes=%d max_events_per_message=%d concurrency=%d contract_match=%q enrich=%t",
		c.QueueURL, c.FIFO, c.Format, c.Compression, c.MaxMessageBytes, c.MaxBatchBytes, c.MaxEvents, c.Concurrency, strings.Join(c.ContractMatch, " "), c.Keys.On)
}
