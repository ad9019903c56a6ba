// Command out_redshift is the Fluent Bit output plugin "redshift", built with
// -buildmode=c-shared into build/out_redshift.so.
package main

import (
	"github.com/whirlpool-events/whirlpool/internal/flb/output"
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
)

func init() { output.Register(redshift.Plugin) }

func main() {}
