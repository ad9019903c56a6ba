// Command probe_in is a test input built on Whirlpool's glue: each collect
// emits `records` records {"id", "seq"} and logs when Fluent Bit's cleanup
// acknowledges them. It logs the OS thread each call runs on and what it
// reads for `probe` keys (core keys among them), so that the same lines
// can be compared between the test host and the real engine.
package main

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tinylib/msgp/msgp"
	"github.com/whirlpool-events/whirlpool/internal/flb"
	"github.com/whirlpool-events/whirlpool/internal/flb/input"
	"github.com/whirlpool-events/whirlpool/internal/plugin"
	"github.com/whirlpool-events/whirlpool/internal/props"
	"github.com/whirlpool-events/whirlpool/internal/record"
)

var properties = props.Set{
	{Name: "id", Type: props.String, Required: true, Meaning: "instance id carried in every record"},
	{Name: "records", Type: props.Int, Min: 0, Max: 100000, Default: "1", Meaning: "records per collect"},
	{Name: "probe", Type: props.String, Meaning: "comma-separated keys whose values Init logs"},
	{Name: "die_on_ack", Type: props.Bool, Default: "off", Meaning: "on: the first acknowledgement kills the process (SIGKILL), as a crash right after a 200 or an SQS delete would"},
}

type probe struct {
	env      plugin.Env
	id       string
	records  int
	dieOnAck bool

	mu    sync.Mutex
	seq   int
	acked int
}

func newProbe(env plugin.Env) (plugin.Input, error) {
	r := properties.Read(env.Config)
	p := &probe{env: env, id: r.String("id"), records: r.Int("records"), dieOnAck: r.Bool("die_on_ack")}
	if err := r.Err(); err != nil {
		return nil, err
	}
	env.Log.Infof("init id=%s name=%s thread=%s threaded=%v", p.id, env.Name, flb.ThreadName(), env.Threaded)
	for _, k := range strings.Split(env.Config.Get("probe"), ",") {
		if k != "" {
			env.Log.Infof("property id=%s %s=%q", p.id, k, env.Config.Get(k))
		}
	}
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
	p.env.Log.Infof("collect id=%s seq=%d..%d thread=%s", p.id, first, last, flb.ThreadName())
	return buf, func() {
		p.mu.Lock()
		p.acked += last - first
		acked := p.acked
		p.mu.Unlock()
		if p.dieOnAck {
			// At once, straight to stderr: Fluent Bit's logger thread would
			// not write a log line before the kill, and every moment spent
			// here lets the engine's thread move the records on.
			fmt.Fprintf(os.Stderr, "probe_in: acknowledged id=%s seq=%d..%d, killing the process\n", p.id, first, last)
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
		p.env.Log.Infof("acked id=%s seq=%d..%d total=%d thread=%s", p.id, first, last, acked, flb.ThreadName())
	}
}

func (p *probe) Pause()  { p.env.Log.Infof("paused id=%s thread=%s", p.id, flb.ThreadName()) }
func (p *probe) Resume() { p.env.Log.Infof("resumed id=%s thread=%s", p.id, flb.ThreadName()) }

func (p *probe) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.env.Log.Infof("closed id=%s emitted=%d acked=%d thread=%s", p.id, p.seq, p.acked, flb.ThreadName())
	return nil
}

func init() {
	input.Register(plugin.InputPlugin{Name: "probe_in", Description: "test input", Properties: properties.Declared(), New: newProbe})
}

func main() {}
