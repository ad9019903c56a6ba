package sqs

import (
	"strings"
	"time"

	"github.com/whirlpool-events/whirlpool/internal/forward"

	"github.com/whirlpool-events/whirlpool/filters/enrich"
	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/awsconf"
	"github.com/whirlpool-events/whirlpool/internal/gomem"
	"github.com/whirlpool-events/whirlpool/internal/memguard"
	"github.com/whirlpool-events/whirlpool/internal/metrics"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/props"
)

// Properties of the sqs input, in README order.
var Properties = props.Join(props.Set{
	{Name: "queue_url", Type: props.URL, Required: true, Meaning: "URL of the queue to receive from (required)."},
	{Name: "pollers", Type: props.Int, Min: 1, Max: 64, Default: "2", Meaning: "Concurrent long-polling ReceiveMessage loops."},
	{Name: "max_messages", Type: props.Int, Min: 1, Max: 10, Default: "10", Meaning: "Messages per ReceiveMessage call (1-10)."},
	{Name: "wait_time_seconds", Type: props.Int, Min: 0, Max: 20, Default: "20", Meaning: "Long-poll wait of each ReceiveMessage call (0-20)."},
	{Name: "visibility_timeout", Type: props.Duration, MinDur: 2 * time.Second, MaxDur: 12 * time.Hour, Default: "60s", Meaning: "Visibility timeout asked for received messages; held messages are extended at half of it."},
	{Name: "max_buffered_bytes", Type: props.Size, Min: 1 << 20, Max: 1 << 34, Default: "32M", Meaning: "Bound on records received but not yet collected by Fluent Bit, counted as a message is decoded; receiving pauses above it, a message that would overfill it waits (held invisible) until Fluent Bit collects, and one whose records alone exceed it becomes an UNDECODABLE_MESSAGE failure."},
	{Name: "max_message_bytes", Type: props.Size, Min: 1 << 10, Max: 64 << 20, Default: "4M", Meaning: "Largest decoded (gunzipped) message, 1K to 64M; the sqs output never packs more than 4M. A larger one becomes one UNDECODABLE_MESSAGE failure holding its first 64 KiB (at most max_event_size) and the length and SHA-256 of its body."},
	{Name: "max_records_per_message", Type: props.Int, Min: 1, Max: 1_000_000, Default: "10000", Meaning: "Most records in one message, 1 to 1000000; the sqs output never packs more than 10000. A message with more becomes one UNDECODABLE_MESSAGE failure holding its first 64 KiB (at most max_event_size) and the length and SHA-256 of its body."},
	{Name: "validate", Type: props.Bool, Default: "on", Meaning: "Validate every record against the data model (the model_* properties below) and emit valid records and failure records; off emits the records as received."},
	{Name: "forward_unix_path", Type: props.String, Default: "", Meaning: "Unix socket of a forward input of this Fluent Bit (its unix_path): the records of each receive go to it at once, in Forward messages that ask for an acknowledgement, and their messages are deleted once it acknowledges (it appends them to its chunks first), instead of waiting for the Go input's one-second collect. Records take the collect path while nothing listens on the socket. When the forward input fails a send (Fluent Bit closes its connections while it pauses it under a backlog; an acknowledgement later than forward_timeout), sends wait for it and try again, this poller receiving nothing meanwhile, for up to forward_timeout before they take the collect path (a message sent but unacknowledged may arrive twice: the loader deduplicates). Empty: always the collect path."},
	{Name: "forward_tag", Type: props.String, Default: "whirlpool", Meaning: "Tag of the Forward messages (forward_unix_path); a forward input with a Tag of its own gives its records that one instead."},
	{Name: "forward_timeout", Type: props.Duration, MinDur: 100 * time.Millisecond, MaxDur: 5 * time.Minute, Default: "5s", Meaning: "How long connecting to forward_unix_path and each acknowledgement may take, and how long a receive's records wait for a forward input that failed (paused) to take them, before they take the collect path."},
}, enrich.KeyProperties, props.Set{
	{Name: "tag_key", Type: props.String, Default: "__tag", Meaning: "enrich: record field holding the fluentd tag, which tag_regex reads (fluent-plugin-sqs's tag_property_name); it is not part of the body"},
	{Name: "time_key", Type: props.String, Default: "time", Meaning: "enrich: record field holding the event time (RFC 3339, fluentd's time string, or Unix seconds), which becomes fired_ts; it is not part of the body. A record without it gets the message's SentTimestamp; none: always SentTimestamp"},
}, awsconf.Properties, validate.Properties, metrics.Properties, gomem.Properties, memguard.Properties)

type config struct {
	queueURL    string
	pollers     int
	maxMessages int32
	wait        int32
	visibility  time.Duration
	maxBuffered int64
	bounds      bounds
	aws         awsconf.Settings
	validate    bool
	validator   validate.Config // used when validate is on
	metrics     metrics.Settings
	goMemory    gomem.Settings
	enrich      enrichment
	forward     forward.Config
}

// parseConfig reads every property, the shared sets' too, with one reader,
// so that the error lists every bad property at once.
func parseConfig(c plugin.Config) (*config, error) {
	r := Properties.Read(c)
	cfg := &config{
		queueURL:    r.URL("queue_url"),
		pollers:     r.Int("pollers"),
		maxMessages: int32(r.Int("max_messages")),
		wait:        int32(r.Int("wait_time_seconds")),
		visibility:  r.Duration("visibility_timeout"),
		maxBuffered: r.Size("max_buffered_bytes"),
		bounds: bounds{maxBytes: r.Size("max_message_bytes"), maxRecords: r.Int("max_records_per_message"),
			maxText: validate.ReadMaxEventSize(r)},
		aws:      awsconf.Read(r),
		validate: r.Bool("validate"),
		metrics:  metrics.Read(r),
		goMemory: gomem.Read(r),
		enrich:   enrichment{keys: enrich.ReadKeyFinder(r), tagKey: r.String("tag_key"), timeKey: noneIsEmpty(r.String("time_key"))},
		forward:  forward.Read(r),
	}
	if cfg.validate {
		cfg.validator = validate.ReadConfig(r)
	}
	if err := r.Err(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// noneIsEmpty reads "none" as no field.
func noneIsEmpty(s string) string {
	if strings.EqualFold(s, "none") {
		return ""
	}
	return s
}

// MaxBuffered is max_buffered_bytes: a collect returns at most that much
// (plus one message that went in alone), which the input glue sizes its
// reused collect buffers by (internal/flb/input).
func (r *Receiver) MaxBuffered() int64 { return r.cfg.maxBuffered }
