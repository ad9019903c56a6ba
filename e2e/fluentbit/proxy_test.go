package fluentbit

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// tcpProxy forwards a loopback port to the SQS emulator. Down models an
// SQS outage that the emulator itself cannot: the service is unreachable
// (new connections refused, open ones cut) while the queue keeps its
// messages, in-flight receipts and visibility timers. SetRate models a slow
// SQS: requests reach it at a capped rate.
type tcpProxy struct {
	addr   string // 127.0.0.1:port, stable across Down/Up
	target string

	limiter *rate.Limiter // bytes of requests (client to SQS), all connections together; rate.Inf: no cap

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

func startProxy(t testing.TB, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: listen: %v", err)
	}
	p := &tcpProxy{addr: ln.Addr().String(), target: target, conns: map[net.Conn]struct{}{},
		limiter: rate.NewLimiter(rate.Inf, throttleChunk)}
	p.serve(ln)
	t.Cleanup(p.Down)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Down
			}
			go p.pipe(c)
		}
	}()
}

func (p *tcpProxy) pipe(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, up) {
		c.Close()
		up.Close()
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(&throttled{w: up, p: p}, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// SetRate caps the bytes per second of requests through the proxy, all
// connections together (0: no cap).
func (p *tcpProxy) SetRate(bytesPerSecond int64) {
	limit := rate.Inf
	if bytesPerSecond > 0 {
		limit = rate.Limit(bytesPerSecond)
	}
	p.limiter.SetLimit(limit)
}

// throttleChunk is the largest write the cap lets through at once.
const throttleChunk = 16 << 10

// throttled writes through the proxy's rate cap, in pieces of at most
// 16 KiB so that one large request does not hold the cap for long.
type throttled struct {
	w io.Writer
	p *tcpProxy
}

func (t *throttled) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		n := min(len(b), throttleChunk)
		_ = t.p.limiter.WaitN(context.Background(), n) // n is within the burst; no deadline
		m, err := t.w.Write(b[:n])
		written += m
		if err != nil {
			return written, err
		}
		b = b[n:]
	}
	return written, nil
}

// track registers a connection pair, unless the proxy went down meanwhile.
func (p *tcpProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

// Down stops accepting (connections are refused) and cuts every open
// connection.
func (p *tcpProxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Up listens on the same address again.
func (p *tcpProxy) Up() error {
	var err error
	for i := 0; i < 50; i++ {
		var ln net.Listener
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("proxy: listening again on %s: %w", p.addr, err)
}
