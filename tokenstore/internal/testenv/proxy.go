package testenv

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy is a TCP proxy between a store's client and a real server. Tests
// use it to make the server disappear for that client only: Cut drops the
// open connections, Refuse makes new ones fail, DropNextReply loses the
// answer to the next request after the server has executed it.
type Proxy struct {
	ln     net.Listener
	target string

	refuse    atomic.Bool
	dropReply atomic.Bool

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// StartProxy starts a Proxy on a free port of 127.0.0.1 forwarding to
// target (host:port). It is closed when the test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: listen: %v", err)
	}
	p := &Proxy{ln: ln, target: target, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.Close)
	return p
}

// Addr returns the host:port clients connect to.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Refuse makes the proxy close every new connection at once (on = true),
// or forward them again (on = false). Open connections are not affected:
// call Cut as well to simulate a server going down.
func (p *Proxy) Refuse(on bool) { p.refuse.Store(on) }

// Cut closes every open connection, both sides.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
}

// Down is Refuse(true) followed by Cut: the server is unreachable.
func (p *Proxy) Down() {
	p.Refuse(true)
	p.Cut()
}

// Up is Refuse(false): new connections reach the server again.
func (p *Proxy) Up() { p.Refuse(false) }

// DropNextReply makes the proxy close the connection that receives the next
// bytes from the server, instead of delivering them: the request has been
// executed, its reply is lost.
func (p *Proxy) DropNextReply() { p.dropReply.Store(true) }

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	_ = p.ln.Close()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.refuse.Load() {
			_ = c.Close()
			continue
		}
		p.wg.Add(1)
		go p.forward(c)
	}
}

// track registers c as open; it reports false (and closes c) if the proxy
// is closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.conns, c)
	_ = c.Close()
}

func (p *Proxy) forward(client net.Conn) {
	defer p.wg.Done()
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)

	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(server, client)
		done <- struct{}{}
	}()
	go func() {
		_ = p.copyReplies(client, server)
		done <- struct{}{}
	}()
	<-done
	// One direction ended: end the other one too.
	_ = client.Close()
	_ = server.Close()
	<-done
}

// copyReplies copies from server to client until either fails, honouring
// DropNextReply.
func (p *Proxy) copyReplies(client, server net.Conn) error {
	buf := make([]byte, 32<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			if p.dropReply.CompareAndSwap(true, false) {
				return errors.New("proxy: reply dropped")
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err != nil {
			return err
		}
	}
}
