// Command probe_out is a test output built on Whirlpool's glue: it logs what
// it sees so the host tests can check properties, logging, per-instance
// contexts, concurrency and return codes.
package main

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tinylib/msgp/msgp"
	"github.com/whirlpool-events/whirlpool/internal/flb"
	"github.com/whirlpool-events/whirlpool/internal/flb/output"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/props"
)

var properties = props.Set{
	{Name: "id", Type: props.String, Required: true, Meaning: "instance id echoed in logs"},
	{Name: "result", Type: props.Enum, Allowed: []string{"ok", "retry", "error", "invalid"}, Default: "ok", Meaning: "what Flush returns"},
	{Name: "sleep", Type: props.Duration, MinDur: 0, MaxDur: time.Minute, Default: "0s", Meaning: "time each flush takes"},
	{Name: "retain", Type: props.Bool, Default: "off", Meaning: "keep the chunk past the call and read it at close"},
}

type probe struct {
	env     plugin.Env
	id      string
	result  plugin.Result
	sleep   time.Duration
	retain  bool
	kept    atomic.Pointer[[]byte]
	current atomic.Int32
}

func newProbe(env plugin.Env) (plugin.Output, error) {
	r := properties.Read(env.Config)
	p := &probe{env: env, id: r.String("id"), sleep: r.Duration("sleep"), retain: r.Bool("retain")}
	switch r.Enum("result") {
	case "ok":
		p.result = plugin.OK
	case "retry":
		p.result = plugin.Retry
	case "error":
		p.result = plugin.Error
	case "invalid":
		p.result = 7
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	env.Log.Infof("init id=%s name=%s thread=%s", p.id, env.Name, flb.ThreadName())
	env.Log.Debugf("debug line id=%s", p.id)
	return p, nil
}

func (p *probe) Flush(chunk []byte, tag string) plugin.Result {
	n := p.current.Add(1)
	defer p.current.Add(-1)
	if p.retain && len(chunk) > 0 {
		p.kept.Store(&chunk)
	}
	records := 0
	rest := chunk
	for len(rest) > 0 {
		var err error
		if rest, err = msgp.Skip(rest); err != nil {
			p.env.Log.Errorf("bad chunk id=%s: %v", p.id, err)
			return plugin.Error
		}
		records++
	}
	time.Sleep(p.sleep)
	p.env.Log.Infof("flush id=%s tag=%s records=%d bytes=%d thread=%s concurrent=%d", p.id, tag, records, len(chunk), flb.ThreadName(), n)
	return p.result
}

func (p *probe) Close() error {
	if k := p.kept.Load(); k != nil {
		// Past the allocator's own header words, in the middle of the chunk.
		p.env.Log.Infof("retained id=%s mid=%#x", p.id, (*k)[len(*k)/2])
	}
	p.env.Log.Infof("closed id=%s", p.id)
	if p.id == "failclose" {
		return fmt.Errorf("close failed on purpose")
	}
	return nil
}

func init() {
	output.Register(plugin.OutputPlugin{Name: "probe_out", Description: "test output", Properties: properties.Declared(), New: newProbe})
}

func main() {}
