package sqs

import (
	"time"

	"github.com/whirlpool-events/whirlpool/filters/validate"
)

// DecodeAndValidate is what the receiver does with one SQS message body of
// format "event" (one JSON line in the record contract, as outputs/sqs
// sends it) under the default bounds: decode it and validate every record
// it yields (appendMessage with a validator). It returns the records the
// input would emit, as a Fluent Bit chunk: valid records and failure
// records. sent is the message's SentTimestamp. The model studio's "try an
// event" and replay use it, so that they run the pipeline's own path.
func DecodeAndValidate(v *validate.Validator, line []byte, sent time.Time) []byte {
	r := Properties.Read(noConfig{})
	d := newDecoder(bounds{maxBytes: r.Size("max_message_bytes"), maxRecords: r.Int("max_records_per_message"),
		maxText: validate.ReadMaxEventSize(r)})
	d.validator = v
	records, _ := d.appendMessage(nil, message{id: "try", body: string(line), format: formatEvent, sent: sent})
	return records
}

// noConfig sets no property: reading it gives every default.
type noConfig struct{}

func (noConfig) Get(string) string { return "" }
