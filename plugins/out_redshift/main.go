// Command out_redshift is the Fluent Bit output plugin "redshift", built with
// -buildmode=c-shared into build/out_redshift.so.
package main

import (
	"github.com/whirlpool-events/whirlpool/plugins/flb/output"
	"github.com/whirlpool-events/whirlpool/plugins/pending"
	"github.com/whirlpool-events/whirlpool/plugins/plugin"
)

func init() {
	output.Register(plugin.OutputPlugin{
		Name:        "redshift",
		Description: "Loads events and failures into Amazon Redshift or PostgreSQL",
		New:         pending.Output("the redshift output", "issue 5 (4/5)"),
	})
}

func main() {}
