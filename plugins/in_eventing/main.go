// Command in_eventing is the Fluent Bit input plugin "eventing" (the HTTP
// event collector), built with -buildmode=c-shared into build/in_eventing.so.
package main

import (
	"github.com/whirlpool-events/whirlpool/inputs/eventing"
	"github.com/whirlpool-events/whirlpool/internal/flb/input"
)

func init() { input.Register(eventing.Plugin) }

func main() {}
