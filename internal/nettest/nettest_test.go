package nettest

import (
	"fmt"
	"net"
	"testing"
)

func TestCounterCounts(t *testing.T) {
	c := NewCounter(t)
	for range 3 {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", c.Port()))
		if err != nil {
			t.Fatal(err)
		}
		// The counter closes the connection: a read ends.
		if _, err := conn.Read(make([]byte, 1)); err == nil {
			t.Fatal("the counter kept the connection open")
		}
		conn.Close()
	}
	if n := c.Stop(); n != 3 {
		t.Fatalf("Stop = %d, want 3", n)
	}
	if n := c.Stop(); n != 3 {
		t.Fatalf("a second Stop = %d, want 3", n)
	}
	if _, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", c.Port())); err == nil {
		t.Fatal("the counter still accepts after Stop")
	}
}
