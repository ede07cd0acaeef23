package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// A proxied connection from this process (posing as member 0) to an echo
// server behind member 1's proxy: identified as 0 -> 1, a blackhole stalls
// the stream and loses no byte, a refusal resets it and refuses new ones.
func TestProxyLinks(t *testing.T) {
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
			go io.Copy(c, c)
		}
	}()
	// Member 2 answers and closes at once (as a members request is answered).
	closer, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	answer := bytes.Repeat([]byte("members "), 10000)
	go func() {
		for {
			c, err := closer.Accept()
			if err != nil {
				return
			}
			c.Write(answer)
			c.Close()
		}
	}()
	c := newCluster("none", t.TempDir(), 0, nil)
	for _, m := range c.members {
		m.peerPort = 0
	}
	c.members[1].listenPeerPort = echo.Addr().(*net.TCPAddr).Port
	c.members[2].listenPeerPort = closer.Addr().(*net.TCPAddr).Port
	n := newNetem(c)
	n.pidOf = func(i int) int {
		if i == 0 {
			return os.Getpid()
		}
		return 0
	}
	if err := n.listen(); err != nil {
		t.Fatal(err)
	}
	defer n.close()
	// An answer followed by a close arrives whole, then EOF (no reset).
	for i := 0; i < 20; i++ {
		short, err := net.Dial("tcp", n.lns[2].Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		short.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := io.ReadAll(short)
		short.Close()
		if err != nil || !bytes.Equal(got, answer) {
			t.Fatalf("answer-and-close through the proxy: %d of %d bytes, %v", len(got), len(answer), err)
		}
	}
	addr := n.lns[1].Addr().String()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	roundTrip := func(msg string) {
		t.Helper()
		if _, err := conn.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(conn, got); err != nil || string(got) != msg {
			t.Fatalf("echo of %q: %q, %v", msg, got, err)
		}
	}
	roundTrip("first")
	// The short connections' proxies deregister once both of their copies
	// end, which a loaded machine may not have run yet: wait for them.
	var srcs []int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		n.mu.Lock()
		srcs = srcs[:0]
		for p := range n.conns {
			srcs = append(srcs, p.src)
		}
		n.mu.Unlock()
		if len(srcs) == 1 || time.Now().After(deadline) {
			break
		}
	}
	if len(srcs) != 1 || srcs[0] != 0 {
		t.Fatalf("proxied connections' sources %v, want [0]", srcs)
	}

	n.set(0, 1, link{mode: linkBlackhole})
	conn.Write([]byte("stalled"))
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if k, err := conn.Read(make([]byte, 16)); err == nil {
		t.Fatalf("%d bytes came through a blackholed link", k)
	}
	n.heal()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len("stalled"))
	if _, err := io.ReadFull(conn, got); err != nil || !bytes.Equal(got, []byte("stalled")) {
		t.Fatalf("after the heal: %q, %v", got, err)
	}

	n.set(1, 0, link{mode: linkRefuse})
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("a refused link left its connection open")
	}
	again, err := net.Dial("tcp", addr)
	if err == nil {
		again.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := again.Read(make([]byte, 1)); err == nil {
			t.Fatal("a refused link accepted a new connection")
		}
		again.Close()
	}
}
