package faults

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// proxyMode is what the proxy does with the bytes between a client and etcd.
type proxyMode int

const (
	modePass  proxyMode = iota // forward both ways
	modeDrop                   // refuse new connections and reset the open ones: a dead peer
	modeStall                  // accept and hold every byte, answer nothing: a black hole
)

// proxy is a TCP proxy in front of one etcd endpoint that the test can break: a network
// partition (drop) or a half-dead peer that accepts connections and never answers (stall).
type proxy struct {
	t      testing.TB
	target string
	addr   string

	mu      sync.Mutex
	mode    proxyMode
	ln      net.Listener
	conns   map[net.Conn]struct{}
	changed chan struct{} // closed, and replaced, on every change of mode
	closed  bool
}

// startProxy listens on a free loopback port and forwards to target (host:port, or an
// http:// endpoint URL).
func startProxy(t testing.TB, target string) *proxy {
	t.Helper()
	target = strings.TrimPrefix(target, "http://")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &proxy{t: t, target: target, addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]struct{}{}, changed: make(chan struct{})}
	go p.accept(ln)
	t.Cleanup(p.close)
	return p
}

// URL is the etcd endpoint clients use to go through the proxy.
func (p *proxy) URL() string { return "http://" + p.addr }

func (p *proxy) Pass()  { p.set(modePass) }
func (p *proxy) Stall() { p.set(modeStall) }

// Drop closes the listener (new connections are refused) and every open connection.
func (p *proxy) Drop() { p.set(modeDrop) }

func (p *proxy) set(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	close(p.changed)
	p.changed = make(chan struct{})
	if m == modeDrop {
		if p.ln != nil {
			p.ln.Close()
			p.ln = nil
		}
		for c := range p.conns {
			c.Close()
		}
		return
	}
	if p.ln == nil {
		// The port was ours a moment ago: listen on it again (retried, as a closing
		// listener may hold it for an instant).
		var err error
		for range 50 {
			var ln net.Listener
			if ln, err = net.Listen("tcp", p.addr); err == nil {
				p.ln = ln
				go p.accept(ln)
				return
			}
			time.Sleep(20 * time.Millisecond) // poll for the port to be free again
		}
		p.t.Errorf("proxy: listen on %s again: %v", p.addr, err)
	}
}

func (p *proxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.ln != nil {
		p.ln.Close()
	}
	for c := range p.conns {
		c.Close()
	}
}

func (p *proxy) accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed by Drop or at the end of the test
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c, up) {
			continue
		}
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

// track registers a connection pair, or closes it when the proxy dropped meanwhile.
func (p *proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == modeDrop || p.closed {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *proxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		c.Close()
		delete(p.conns, c)
	}
}

// pipe copies src to dst; while the proxy stalls, what it read is held until it passes
// again (a healed partition delivers late) or drops (the connection is reset).
func (p *proxy) pipe(src, dst net.Conn) {
	defer p.untrack(src, dst)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.waitPass() {
			return
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or reset: untrack closes both ends
		}
	}
}

// waitPass blocks while the proxy stalls; false when the connection must be dropped.
func (p *proxy) waitPass() bool {
	for {
		p.mu.Lock()
		m, ch, closed := p.mode, p.changed, p.closed
		p.mu.Unlock()
		switch {
		case closed || m == modeDrop:
			return false
		case m == modePass:
			return true
		}
		<-ch
	}
}

// TestProxyPassesDropsAndStalls checks the proxy itself against a TCP echo server.
func TestProxyPassesDropsAndStalls(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(c, c); c.Close() }()
		}
	}()
	p := startProxy(t, echo.Addr().String())
	roundTrip := func(c net.Conn) error {
		if _, err := c.Write([]byte("ping")); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		b := make([]byte, 4)
		_, err := io.ReadFull(c, b)
		return err
	}
	c, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(c); err != nil {
		t.Fatalf("pass: %v", err)
	}
	p.Stall()
	if err := roundTrip(c); err == nil {
		t.Fatal("stall: an answer came through")
	}
	s, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatalf("stall: a new connection was not accepted: %v", err)
	}
	if err := roundTrip(s); err == nil {
		t.Fatal("stall: a new connection got an answer")
	}
	p.Drop()
	if _, err := net.Dial("tcp", p.addr); err == nil {
		t.Fatal("drop: a new connection was accepted")
	}
	p.Pass()
	c, err = net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatalf("pass again: %v", err)
	}
	if err := roundTrip(c); err != nil {
		t.Fatalf("pass again: %v", err)
	}
}
