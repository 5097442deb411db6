// Package nettest helps tests prove what connects where: a TCP listener on 127.0.0.1 that counts the
// connections made to it, a stand-in for a server a migration names (a publisher, a dblink target).
package nettest

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Counter accepts connections on a port of 127.0.0.1, counts them and closes each at once, so that
// the client gives up at once too.
type Counter struct {
	ln    net.Listener
	count atomic.Int32
	wg    sync.WaitGroup
	once  sync.Once
}

// NewCounter starts a Counter; the test's cleanup stops it.
func NewCounter(t testing.TB) *Counter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &Counter{ln: ln}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.count.Add(1)
			conn.Close()
		}
	}()
	t.Cleanup(func() { c.Stop() })
	return c
}

// Port is the port it listens on.
func (c *Counter) Port() int { return c.ln.Addr().(*net.TCPAddr).Port }

// Stop stops accepting and returns how many connections were made; it may be called again.
func (c *Counter) Stop() int {
	c.once.Do(func() {
		c.ln.Close()
		c.wg.Wait()
	})
	return int(c.count.Load())
}
