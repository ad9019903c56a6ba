// Command probe_in is a test input built on Whirlpool's glue: each collect
// emits `records` records {"id", "seq"} and logs when Fluent Bit's cleanup
// acknowledges them.
package main

import (
	"sync"
	"time"

	"github.com/tinylib/msgp/msgp"
	"github.com/whirlpool-events/whirlpool/plugins/flb/input"
	"github.com/whirlpool-events/whirlpool/plugins/plugin"
	"github.com/whirlpool-events/whirlpool/plugins/props"
	"github.com/whirlpool-events/whirlpool/plugins/record"
)

var properties = props.Set{
	{Name: "id", Meaning: "instance id carried in every record"},
	{Name: "records", Default: "1", Meaning: "records per collect"},
}

type probe struct {
	env     plugin.Env
	id      string
	records int

	mu    sync.Mutex
	seq   int
	acked int
}

func newProbe(env plugin.Env) (plugin.Input, error) {
	r := properties.Read(env.Config)
	p := &probe{env: env, id: r.Required("id"), records: r.Int("records", 0, 100000)}
	if err := r.Err(); err != nil {
		return nil, err
	}
	env.Log.Infof("init id=%s name=%s", p.id, env.Name)
	return p, nil
}

func (p *probe) Collect(buf []byte) ([]byte, func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	first := p.seq
	for i := 0; i < p.records; i++ {
		body := msgp.AppendMapHeader(nil, 2)
		body = msgp.AppendString(body, "id")
		body = msgp.AppendString(body, p.id)
		body = msgp.AppendString(body, "seq")
		body = msgp.AppendInt(body, p.seq)
		buf = record.AppendRecord(buf, time.Unix(1700000000, 123456789), nil, body)
		p.seq++
	}
	last := p.seq
	return buf, func() {
		p.mu.Lock()
		p.acked += last - first
		acked := p.acked
		p.mu.Unlock()
		p.env.Log.Infof("acked id=%s seq=%d..%d total=%d", p.id, first, last, acked)
	}
}

func (p *probe) Pause()  { p.env.Log.Infof("paused id=%s", p.id) }
func (p *probe) Resume() { p.env.Log.Infof("resumed id=%s", p.id) }

func (p *probe) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.env.Log.Infof("closed id=%s emitted=%d acked=%d", p.id, p.seq, p.acked)
	return nil
}

func init() {
	input.Register(plugin.InputPlugin{Name: "probe_in", Description: "test input", New: newProbe})
}

func main() {}
