// Command in_sqs is the Fluent Bit input plugin "sqs", built with
// -buildmode=c-shared into build/in_sqs.so.
package main

import (
	"github.com/whirlpool-events/whirlpool/plugins/flb/input"
	"github.com/whirlpool-events/whirlpool/plugins/pending"
	"github.com/whirlpool-events/whirlpool/plugins/plugin"
)

func init() {
	input.Register(plugin.InputPlugin{
		Name:        "sqs",
		Description: "Receives events from Amazon SQS",
		New:         pending.Input("the sqs input", "issue 4 (3/5)"),
	})
}

func main() {}
