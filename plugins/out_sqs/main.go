// Command out_sqs is the Fluent Bit output plugin "sqs", built with
// -buildmode=c-shared into build/out_sqs.so. The logic is in outputs/sqs.
package main

import (
	"github.com/whirlpool-events/whirlpool/internal/flb/output"
	"github.com/whirlpool-events/whirlpool/outputs/sqs"
)

func init() { output.Register(sqs.Plugin) }

func main() {}
