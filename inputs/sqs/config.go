package sqs

import (
	"time"

	"github.com/whirlpool-events/whirlpool/filters/validate"
	"github.com/whirlpool-events/whirlpool/internal/awsconf"
	"github.com/whirlpool-events/whirlpool/internal/metrics"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/props"
)

// Properties of the sqs input, in README order.
var Properties = append(props.Set{
	{Name: "queue_url", Meaning: "URL of the queue to receive from (required)."},
	{Name: "pollers", Default: "2", Meaning: "Concurrent long-polling ReceiveMessage loops."},
	{Name: "max_messages", Default: "10", Meaning: "Messages per ReceiveMessage call (1-10)."},
	{Name: "wait_time_seconds", Default: "20", Meaning: "Long-poll wait of each ReceiveMessage call (0-20)."},
	{Name: "visibility_timeout", Default: "60s", Meaning: "Visibility timeout asked for received messages; held messages are extended at half of it."},
	{Name: "max_buffered_bytes", Default: "32M", Meaning: "Bound on records received but not yet collected by Fluent Bit, counted as a message is decoded; receiving pauses above it, a message that would overfill it waits (held invisible) until Fluent Bit collects, and one whose records alone exceed it becomes an UNDECODABLE_MESSAGE failure."},
	{Name: "max_message_bytes", Default: "4M", Meaning: "Largest decoded (gunzipped) message, 1K to 64M; the sqs output never packs more than 4M. A larger one becomes one UNDECODABLE_MESSAGE failure holding its first 64 KiB (at most max_event_size) and the length and SHA-256 of its body."},
	{Name: "max_records_per_message", Default: "10000", Meaning: "Most records in one message, 1 to 1000000; the sqs output never packs more than 10000. A message with more becomes one UNDECODABLE_MESSAGE failure holding its first 64 KiB (at most max_event_size) and the length and SHA-256 of its body."},
	{Name: "validate", Default: "on", Meaning: "Validate every record against the data model (the model_* properties below) and emit valid records and failure records; off emits the records as received."},
}, concat(awsconf.Properties, validate.Properties, metrics.Properties)...)

func concat(sets ...props.Set) props.Set {
	var out props.Set
	for _, s := range sets {
		out = append(out, s...)
	}
	return out
}

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
}

func parseConfig(c plugin.Config) (*config, error) {
	r := Properties.Read(c)
	cfg := &config{
		queueURL:    r.Required("queue_url"),
		pollers:     r.Int("pollers", 1, 64),
		maxMessages: int32(r.Int("max_messages", 1, 10)),
		wait:        int32(r.Int("wait_time_seconds", 0, 20)),
		visibility:  r.Duration("visibility_timeout", 2*time.Second, 12*time.Hour),
		maxBuffered: r.Size("max_buffered_bytes", 1<<20, 1<<34),
		bounds: bounds{maxBytes: r.Size("max_message_bytes", 1<<10, 64<<20), maxRecords: r.Int("max_records_per_message", 1, 1_000_000),
			maxText: validate.ReadMaxEventSize(r)},
		aws:      awsconf.Read(r),
		validate: r.Bool("validate"),
	}
	if cfg.queueURL != "" {
		r.URL("queue_url")
	}
	return cfg, r.Err()
}
