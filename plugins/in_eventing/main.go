// Command in_eventing is the Fluent Bit input plugin "eventing", built with
// -buildmode=c-shared into build/in_eventing.so.
package main

import (
	"github.com/whirlpool-events/whirlpool/plugins/flb/input"
	"github.com/whirlpool-events/whirlpool/plugins/pending"
	"github.com/whirlpool-events/whirlpool/plugins/plugin"
)

func init() {
	input.Register(plugin.InputPlugin{
		Name:        "eventing",
		Description: "Event collector",
		New:         pending.Input("the eventing input", " accepts game events over HTTP and enriches them:issue 3 (2/5)"),
	})
}

func main() {}
