// Command in_sqs is the Fluent Bit input plugin "sqs" (the SQS receiver),
// built with -buildmode=c-shared into build/in_sqs.so.
package main

import (
	"github.com/whirlpool-events/whirlpool/inputs/sqs"
	"github.com/whirlpool-events/whirlpool/internal/flb/input"
)

func init() { input.Register(sqs.Plugin) }

func main() {}
