// Command out_redshift is the Fluent Bit output plugin "redshift", built with
// -buildmode=c-shared into build/out_redshift.so.
package main

import (
	"github.com/whirlpool-events/whirlpool/outputs/redshift"
	"github.com/whirlpool-events/whirlpool/plugins/flb/output"
)

func init() { output.Register(redshift.Plugin) }

func main() {}
