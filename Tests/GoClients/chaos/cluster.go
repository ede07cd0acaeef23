package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/etcd/clientv3"
)

// member is one server process of the cluster under test. A member's ports
// and name never change; a member that is removed and added back gets a
// fresh data directory (generation) and a new Raft ID.
type member struct {
	name       string
	clientPort int
	peerPort   int // advertised (the proxy's port when the network is emulated)
	// listenPeerPort: where the member listens for peers (peerPort unless a proxy sits in front)
	listenPeerPort int
	generation     int

	mu        sync.Mutex
	cmd       *exec.Cmd
	exited    chan struct{}
	expecting bool // an exit now is ours (kill, removal), not a crash
	paused    bool
}

func (m *member) clientURL() string { return fmt.Sprintf("http://127.0.0.1:%d", m.clientPort) }
func (m *member) peerURL() string   { return fmt.Sprintf("http://127.0.0.1:%d", m.peerPort) }
func (m *member) listenPeerURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d", m.listenPeerPort)
}
func (m *member) endpoint() string { return fmt.Sprintf("127.0.0.1:%d", m.clientPort) }

// cluster runs the members as children of this program. Every child gets
// SIGKILL when this program dies (Pdeathsig) and from stopAll.
type cluster struct {
	bin     string
	dir     string
	token   string
	members []*member
	extra   []string

	mu      sync.Mutex
	crashes []string // members that exited when nothing asked them to
}

func newCluster(bin, dir string, basePort int, extra []string) *cluster {
	c := &cluster{bin: bin, dir: dir, token: fmt.Sprintf("chaos-%d", time.Now().UnixNano()), extra: extra}
	for i := 0; i < 3; i++ {
		c.members = append(c.members, &member{name: fmt.Sprintf("m%d", i+1),
			clientPort: basePort + 2*i, peerPort: basePort + 2*i + 1, listenPeerPort: basePort + 2*i + 1})
	}
	return c
}

func (c *cluster) endpoints() []string {
	var eps []string
	for _, m := range c.members {
		eps = append(eps, m.endpoint())
	}
	return eps
}

func (c *cluster) dataDir(m *member) string {
	return filepath.Join(c.dir, fmt.Sprintf("%s.gen%d", m.name, m.generation))
}

// start runs m with the given --initial-cluster and state ("new" or "existing").
func (c *cluster) start(m *member, initialCluster, state string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		return fmt.Errorf("%s already running", m.name)
	}
	args := []string{"--name", m.name, "--data-dir", c.dataDir(m),
		"--listen-client-urls", m.clientURL(), "--advertise-client-urls", m.clientURL(),
		"--listen-peer-urls", m.listenPeerURL(), "--initial-advertise-peer-urls", m.peerURL(),
		"--initial-cluster", initialCluster, "--initial-cluster-token", c.token,
		"--initial-cluster-state", state}
	args = append(args, c.extra...)
	logFile, err := os.OpenFile(filepath.Join(c.dir, m.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logFile, "\n===== chaos: start %s gen %d state %s at %s\n", m.name, m.generation, state, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(c.bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return err
	}
	exited := make(chan struct{})
	m.cmd, m.exited, m.expecting, m.paused = cmd, exited, false, false
	go func() {
		err := cmd.Wait()
		logFile.Close()
		m.mu.Lock()
		removed := !m.expecting && removedStop(logFile.Name())
		if removed {
			c.note("%s stopped itself: removed from the cluster", m.name)
		}
		if !m.expecting && !removed {
			c.mu.Lock()
			c.crashes = append(c.crashes, fmt.Sprintf("%s (gen %d) exited unasked at %s: %v",
				m.name, m.generation, time.Now().Format("15:04:05.000"), err))
			c.mu.Unlock()
		}
		m.cmd = nil
		m.mu.Unlock()
		close(exited)
	}()
	return nil
}

// initialCluster lists the members in their current form.
func (c *cluster) initialCluster() string {
	var parts []string
	for _, m := range c.members {
		parts = append(parts, m.name+"="+m.peerURL())
	}
	return strings.Join(parts, ",")
}

// signal sends sig to m (a no-op when m is not running). SIGKILL and
// SIGTERM wait for the exit and mark it expected.
func (c *cluster) signal(m *member, sig syscall.Signal) {
	m.mu.Lock()
	cmd, exited := m.cmd, m.exited
	if cmd == nil {
		m.mu.Unlock()
		return
	}
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM {
		m.expecting = true
	}
	switch sig {
	case syscall.SIGSTOP:
		m.paused = true
	case syscall.SIGCONT:
		m.paused = false
	}
	_ = cmd.Process.Signal(sig)
	m.mu.Unlock()
	if sig == syscall.SIGKILL || sig == syscall.SIGTERM {
		if sig == syscall.SIGTERM {
			select {
			case <-exited:
				return
			case <-time.After(30 * time.Second):
				c.note("%s did not stop on SIGTERM in 30 s; SIGKILL", m.name)
				c.signal(m, syscall.SIGKILL)
			}
		}
		<-exited
	}
}

// pid is m's process ID (0 when it is not running).
func (c *cluster) pid(m *member) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil || m.cmd.Process == nil {
		return 0
	}
	return m.cmd.Process.Pid
}

func (c *cluster) running(m *member) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cmd != nil
}

// expectExit marks m's next exit as asked for (a removed member stops itself).
func (c *cluster) expectExit(m *member) {
	m.mu.Lock()
	m.expecting = true
	m.mu.Unlock()
}

func (c *cluster) stopAll() {
	for _, m := range c.members {
		c.signal(m, syscall.SIGCONT)
		c.signal(m, syscall.SIGKILL)
	}
}

func (c *cluster) crashList() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string{}, c.crashes...)
}

func (c *cluster) note(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "chaos %s: %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// status asks one member for its status (nil when it does not answer in time).
func (c *cluster) status(cli *clientv3.Client, m *member, timeout time.Duration) *clientv3.StatusResponse {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	resp, err := cli.Status(ctx, m.endpoint())
	if err != nil {
		return nil
	}
	return resp
}

// leader returns the running member that a running member names as leader
// (and that member's view agrees), or nil.
func (c *cluster) leader(cli *clientv3.Client) (*member, uint64) {
	ids := map[uint64]*member{}
	var leaderID uint64
	for _, m := range c.members {
		if !c.running(m) {
			continue
		}
		if st := c.status(cli, m, time.Second); st != nil {
			ids[st.Header.MemberId] = m
			if st.Leader != 0 {
				leaderID = st.Leader
			}
		}
	}
	if m, ok := ids[leaderID]; ok {
		return m, leaderID
	}
	return nil, 0
}

// waitHealthy waits until every member answers a status with a leader and
// all agree on it; false after timeout.
func (c *cluster) waitHealthy(cli *clientv3.Client, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		leaders := map[uint64]bool{}
		ok := true
		for _, m := range c.members {
			st := c.status(cli, m, time.Second)
			if st == nil || st.Leader == 0 {
				ok = false
				break
			}
			leaders[st.Leader] = true
		}
		if ok && len(leaders) == 1 {
			return true
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}

// memberIDs maps names to Raft IDs as each member reports itself.
func (c *cluster) memberID(cli *clientv3.Client, m *member) uint64 {
	if st := c.status(cli, m, 2*time.Second); st != nil {
		return st.Header.MemberId
	}
	return 0
}

// removedStop: the member's log since its last start says it was removed
// from the cluster and stopped (etcd and swift-etcd both log this).
func removedStop(logPath string) bool {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return false
	}
	s := string(data)
	if i := strings.LastIndex(s, "===== chaos: start"); i >= 0 {
		s = s[i:]
	}
	return strings.Contains(s, "permanently removed")
}

// dialOne connects a client to m alone (per-member questions and RPCs).
func dialOne(m *member) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: []string{m.endpoint()}, DialTimeout: 2 * time.Second})
}
