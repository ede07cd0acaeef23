package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The network under the members' peer traffic, without root: each member
// listens for peers on a private port and advertises a proxy port instead
// (--initial-advertise-peer-urls, --initial-cluster), so every peer
// connection passes through a proxy of this program. The proxy finds which
// member dialed (the socket's owner in /proc) and forwards each direction
// of the connection by the state of that directed link (src -> dst):
// open, delayed, blackholed (the stream stalls, as under silently dropped
// packets, and resumes when the link opens) or refused (connections reset
// and new ones closed at once). A connection from an unknown process (not a
// member) is forwarded as open.
type linkMode int

const (
	linkOpen linkMode = iota
	linkBlackhole
	linkRefuse
)

type link struct {
	mode   linkMode
	delay  time.Duration // each chunk waits this long (plus jitter) before it is forwarded
	jitter time.Duration
}

func (l link) String() string {
	switch l.mode {
	case linkBlackhole:
		return "blackhole"
	case linkRefuse:
		return "refuse"
	}
	if l.delay > 0 {
		return fmt.Sprintf("delay %v±%v", l.delay, l.jitter)
	}
	return "open"
}

// netem is the state of all directed links and the live proxied connections.
type netem struct {
	c     *cluster
	pidOf func(i int) int // member i's process ID (0: not running)
	mu    sync.Mutex
	links map[[2]int]link // [src, dst] member index -> state; absent: open
	conns map[*proxied]bool
	lns   []net.Listener
}

// proxied is one member-to-member connection: dialer src, acceptor dst (-1: unknown).
type proxied struct {
	src, dst  int
	down, up  net.Conn // down: accepted from src; up: dialed to dst
	closeOnce sync.Once
}

// close ends both sides; reset makes it a reset (as a refusing route
// gives) rather than an orderly close.
func (p *proxied) close(reset bool) {
	p.closeOnce.Do(func() {
		if reset {
			for _, c := range []net.Conn{p.down, p.up} {
				if tc, ok := c.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
			}
		}
		p.down.Close()
		p.up.Close()
	})
}

func newNetem(c *cluster) *netem {
	n := &netem{c: c, links: map[[2]int]link{}, conns: map[*proxied]bool{}}
	n.pidOf = func(i int) int { return c.pid(c.members[i]) }
	return n
}

// listen starts one proxy per member: member i's advertised peer port
// forwards to its private listen port.
func (n *netem) listen() error {
	for i, m := range n.c.members {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", m.peerPort))
		if err != nil {
			return err
		}
		n.lns = append(n.lns, ln)
		go n.accept(ln, i)
	}
	return nil
}

func (n *netem) close() {
	for _, ln := range n.lns {
		ln.Close()
	}
	n.mu.Lock()
	for p := range n.conns {
		p.close(true)
	}
	n.mu.Unlock()
}

func (n *netem) link(src, dst int) link {
	if src < 0 || dst < 0 {
		return link{}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.links[[2]int{src, dst}]
}

// set changes one directed link; refusing closes its live connections.
func (n *netem) set(src, dst int, l link) {
	n.mu.Lock()
	if l == (link{}) {
		delete(n.links, [2]int{src, dst})
	} else {
		n.links[[2]int{src, dst}] = l
	}
	var doomed []*proxied
	if l.mode == linkRefuse {
		for p := range n.conns {
			if (p.src == src && p.dst == dst) || (p.src == dst && p.dst == src) {
				doomed = append(doomed, p)
			}
		}
	}
	n.mu.Unlock()
	for _, p := range doomed {
		p.close(true)
	}
}

// heal opens every link.
func (n *netem) heal() {
	n.mu.Lock()
	n.links = map[[2]int]link{}
	n.mu.Unlock()
}

// resetAll closes every live connection between members (they redial).
func (n *netem) resetAll() int {
	n.mu.Lock()
	var doomed []*proxied
	for p := range n.conns {
		doomed = append(doomed, p)
	}
	n.mu.Unlock()
	for _, p := range doomed {
		p.close(true)
	}
	return len(doomed)
}

func (n *netem) accept(ln net.Listener, dst int) {
	for {
		down, err := ln.Accept()
		if err != nil {
			return
		}
		go n.serve(down, dst)
	}
}

func (n *netem) serve(down net.Conn, dst int) {
	src := n.identify(down)
	if n.link(src, dst).mode == linkRefuse || n.link(dst, src).mode == linkRefuse {
		if tc, ok := down.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		down.Close()
		return
	}
	up, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", n.c.members[dst].listenPeerPort), 2*time.Second)
	if err != nil {
		down.Close()
		return
	}
	p := &proxied{src: src, dst: dst, down: down, up: up}
	n.mu.Lock()
	n.conns[p] = true
	n.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { n.pipe(p, down, up, src, dst); done <- struct{}{} }()
	go func() { n.pipe(p, up, down, dst, src); done <- struct{}{} }()
	<-done
	<-done
	p.close(false)
	n.mu.Lock()
	delete(n.conns, p)
	n.mu.Unlock()
}

type chunk struct {
	data []byte
	at   time.Time
}

// pipe forwards from -> to by link (a -> b), in order, each chunk after the
// link's delay; the link is looked at again when a chunk is due, so a cut
// also stops what was in flight. A blackholed stream stalls (never drops
// bytes: TCP retransmits, a stream with a gap would be no real network),
// and goes on when the link opens again.
//
// When from ends cleanly (EOF), what was read is still delivered, then to
// is half-closed (as TCP passes a FIN on); any other end resets both sides.
// pipe returns when this direction is finished.
func (n *netem) pipe(p *proxied, from, to net.Conn, a, b int) {
	q := make(chan chunk, 1024)
	clean := make(chan bool, 1) // how the reader ended, sent before q closes
	written := make(chan struct{})
	go func() {
		defer close(written)
		for c := range q {
			if d := time.Until(c.at); d > 0 {
				time.Sleep(d)
			}
			if !n.waitPassable(a, b) {
				p.close(true)
				return
			}
			if _, err := to.Write(c.data); err != nil {
				p.close(true)
				return
			}
		}
		if <-clean {
			if tc, ok := to.(*net.TCPConn); ok {
				tc.CloseWrite()
			}
		} else {
			p.close(true)
		}
	}()
	defer func() { <-written }()
	defer close(q)
	last := time.Now()
	buf := make([]byte, 64*1024)
	for {
		k, err := from.Read(buf)
		if k > 0 {
			if !n.waitPassable(a, b) {
				clean <- false
				return
			}
			l := n.link(a, b)
			at := time.Now().Add(l.delay)
			if l.jitter > 0 {
				at = at.Add(time.Duration(randInt63n(int64(l.jitter))))
			}
			if at.Before(last) {
				at = last // keep the byte stream in order
			}
			last = at
			data := append([]byte(nil), buf[:k]...)
			q <- chunk{data, at}
		}
		if err != nil {
			clean <- err == io.EOF
			return
		}
	}
}

// waitPassable waits while a -> b is blackholed; false when it is refused.
func (n *netem) waitPassable(a, b int) bool {
	for {
		switch n.link(a, b).mode {
		case linkRefuse:
			return false
		case linkOpen:
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var jitterMu sync.Mutex
var jitterState uint64 = 88172645463325252

func randInt63n(n int64) int64 {
	jitterMu.Lock()
	defer jitterMu.Unlock()
	jitterState ^= jitterState << 13
	jitterState ^= jitterState >> 7
	jitterState ^= jitterState << 17
	return int64(jitterState>>1) % n
}

// identify names the member whose process owns the other end of conn: the
// socket with conn's remote port as its local port in /proc/net/tcp gives
// an inode, and the member whose /proc/PID/fd holds that socket dialed.
func (n *netem) identify(conn net.Conn) int {
	remote, ok := conn.RemoteAddr().(*net.TCPAddr)
	local, ok2 := conn.LocalAddr().(*net.TCPAddr)
	if !ok || !ok2 {
		return -1
	}
	inode := socketInode(remote.Port, local.Port)
	if inode == "" {
		return -1
	}
	want := "socket:[" + inode + "]"
	for i := range n.c.members {
		pid := n.pidOf(i)
		if pid == 0 {
			continue
		}
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if target, err := os.Readlink(dir + "/" + e.Name()); err == nil && target == want {
				return i
			}
		}
	}
	return -1
}

// socketInode finds the inode of the IPv4 socket localPort -> remotePort.
func socketInode(localPort, remotePort int) string {
	for _, path := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || !strings.Contains(fields[1], ":") {
				continue
			}
			lp, rp := portOf(fields[1]), portOf(fields[2])
			if lp == localPort && rp == remotePort {
				f.Close()
				return fields[9]
			}
		}
		f.Close()
	}
	return ""
}

func portOf(addr string) int {
	i := strings.LastIndex(addr, ":")
	if i < 0 {
		return -1
	}
	v, err := strconv.ParseUint(addr[i+1:], 16, 32)
	if err != nil {
		return -1
	}
	return int(v)
}
