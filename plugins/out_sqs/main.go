// Command out_sqs is the Fluent Bit output plugin "sqs", built with
// -buildmode=c-shared into build/out_sqs.so.
package main

import (
	"github.com/whirlpool-events/whirlpool/plugins/flb/output"
	"github.com/whirlpool-events/whirlpool/plugins/pending"
	"github.com/whirlpool-events/whirlpool/plugins/plugin"
)

func init() {
	output.Register(plugin.OutputPlugin{
		Name:        "sqs",
		Description: "Sends events to Amazon SQS in packed batches",
		New:         pending.Output("the sqs output", "issue 3 (2/5)"),
	})
}

func main() {}
