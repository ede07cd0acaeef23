package main

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.etcd.io/etcd/clientv3"
)

// nemesis injects one fault at a time and undoes it before the next, so the
// cluster keeps a quorum most of the time; safety is checked regardless.
type nemesis struct {
	c        *cluster
	cli      *clientv3.Client // all endpoints
	rng      *rand.Rand
	watchers []*watcher
	etcdutl  string
	events   []string
	counts   map[string]int
	compact  int64
	snapN    int
	failures []string
	net      *netem    // nil: no network faults
	process  bool      // process faults (kill, pause, ...) too
	rec      *recorder // the probes' operations join the history
	probeSeq int
	mu       sync.Mutex // log and fail are called from probe goroutines too
}

func (n *nemesis) log(kind, format string, args ...interface{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.counts[kind]++
	s := fmt.Sprintf(kind+": "+format, args...)
	n.events = append(n.events, time.Now().Format("15:04:05.000")+" "+s)
	n.c.note("%s", s)
}

func (n *nemesis) fail(format string, args ...interface{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	s := fmt.Sprintf(format, args...)
	n.failures = append(n.failures, s)
	n.c.note("FAILURE: %s", s)
}

func (n *nemesis) sleep(minMs, maxMs int) {
	time.Sleep(time.Duration(minMs+n.rng.Intn(maxMs-minMs+1)) * time.Millisecond)
}

// victim picks the leader half the time (when known), else a random member.
func (n *nemesis) victim() *member {
	if n.rng.Intn(2) == 0 {
		if l, _ := n.c.leader(n.cli); l != nil {
			return l
		}
	}
	return n.c.members[n.rng.Intn(len(n.c.members))]
}

func (n *nemesis) run(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		n.sleep(500, 2000)
		if n.net != nil && (!n.process || n.rng.Intn(2) == 0) {
			n.netFault()
			n.c.waitHealthy(n.cli, 20*time.Second)
			continue
		}
		switch k := n.rng.Intn(100); {
		case k < 18:
			m := n.victim()
			n.log("kill", "SIGKILL %s", m.name)
			n.c.signal(m, syscall.SIGKILL)
			n.sleep(200, 3000)
			n.restart(m)
		case k < 23:
			// A majority or all at once: acknowledged writes must be on disk.
			count := 2 + n.rng.Intn(2)
			perm := n.rng.Perm(len(n.c.members))[:count]
			for _, i := range perm {
				n.log("kill-many", "SIGKILL %s", n.c.members[i].name)
				n.c.signal(n.c.members[i], syscall.SIGKILL)
			}
			n.sleep(200, 2000)
			for _, i := range perm {
				n.restart(n.c.members[i])
			}
		case k < 27:
			// Kill a member while it defragments or streams a snapshot, or just after it restarted.
			m := n.victim()
			switch n.rng.Intn(3) {
			case 0:
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					n.cli.Defragment(ctx, m.endpoint())
				}()
				n.log("kill-busy", "SIGKILL %s while it defragments", m.name)
			case 1:
				n.log("kill-busy", "SIGKILL %s while it restarts", m.name)
				n.c.signal(m, syscall.SIGKILL)
				n.restart(m)
			default:
				n.log("kill-busy", "SIGKILL %s", m.name)
			}
			n.sleep(0, 300)
			n.c.signal(m, syscall.SIGKILL)
			n.sleep(200, 1500)
			n.restart(m)
		case k < 45:
			m := n.victim()
			n.log("pause", "SIGSTOP %s", m.name)
			n.c.signal(m, syscall.SIGSTOP)
			n.sleep(500, 5000)
			n.c.signal(m, syscall.SIGCONT)
			n.log("resume", "SIGCONT %s", m.name)
		case k < 60:
			n.moveLeader()
		case k < 72:
			n.compactSafe()
		case k < 82:
			m := n.c.members[n.rng.Intn(len(n.c.members))]
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, err := n.cli.Defragment(ctx, m.endpoint())
			cancel()
			n.log("defrag", "%s: %v", m.name, err)
		case k < 92:
			n.snapshot()
		default:
			n.replaceMember()
		}
		// Let the cluster recover before the next fault (bounded).
		n.c.waitHealthy(n.cli, 20*time.Second)
	}
}

func (n *nemesis) restart(m *member) {
	if err := n.c.start(m, n.c.initialCluster(), "existing"); err != nil {
		n.fail("restart %s: %v", m.name, err)
		return
	}
	n.log("restart", "%s", m.name)
}

func (n *nemesis) moveLeader() {
	leader, _ := n.c.leader(n.cli)
	if leader == nil {
		n.log("move-leader", "no leader known; skipped")
		return
	}
	var targets []*member
	for _, m := range n.c.members {
		if m != leader {
			targets = append(targets, m)
		}
	}
	target := targets[n.rng.Intn(len(targets))]
	id := n.c.memberID(n.cli, target)
	if id == 0 {
		n.log("move-leader", "%s does not answer; skipped", target.name)
		return
	}
	one, err := dialOne(leader)
	if err != nil {
		n.log("move-leader", "dial %s: %v", leader.name, err)
		return
	}
	defer one.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err = one.MoveLeader(ctx, id)
	cancel()
	n.log("move-leader", "%s -> %s: %v", leader.name, target.name, err)
}

// compactSafe compacts below every watcher's progress so that no watcher
// ever needs a compacted revision (the watch streams stay complete).
func (n *nemesis) compactSafe() {
	low := int64(-1)
	for _, w := range n.watchers {
		if p := atomic.LoadInt64(&w.progress); low < 0 || p < low {
			low = p
		}
	}
	rev := low - 20
	if rev <= n.compact {
		n.log("compact", "nothing to compact (watchers at %d)", low)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err := n.cli.Compact(ctx, rev, clientv3.WithCompactPhysical())
	cancel()
	if err == nil {
		n.compact = rev
	}
	n.log("compact", "at %d: %v", rev, err)
}

// snapshot streams a snapshot from a random member and, with -etcdutl,
// checks the file with etcdutl snapshot status (integrity hash included).
func (n *nemesis) snapshot() {
	m := n.c.members[n.rng.Intn(len(n.c.members))]
	n.snapN++
	path := filepath.Join(n.c.dir, fmt.Sprintf("snap-%d.db", n.snapN))
	one, err := dialOne(m)
	if err != nil {
		n.log("snapshot", "dial %s: %v", m.name, err)
		return
	}
	defer one.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := one.Snapshot(ctx)
	if err != nil {
		n.log("snapshot", "%s: %v", m.name, err)
		return
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		n.fail("snapshot file: %v", err)
		return
	}
	size, err := io.Copy(f, rc)
	f.Close()
	if err != nil {
		n.log("snapshot", "%s: stream ended: %v (%d bytes)", m.name, err, size)
		os.Remove(path)
		return
	}
	status := ""
	if n.etcdutl != "" {
		out, err := exec.Command(n.etcdutl, "snapshot", "status", path, "-w", "json").CombinedOutput()
		if err != nil {
			n.fail("etcdutl snapshot status of %s's snapshot (%d bytes): %v: %s", m.name, size, err, out)
		}
		status = string(out)
	}
	n.log("snapshot", "%s: %d bytes %s", m.name, size, status)
	os.Remove(path)
}

// replaceMember removes a follower, wipes it and adds it back as a new member.
func (n *nemesis) replaceMember() {
	leader, _ := n.c.leader(n.cli)
	if leader == nil || !n.c.waitHealthy(n.cli, 5*time.Second) {
		n.log("replace", "cluster not healthy; skipped")
		return
	}
	var m *member
	for _, x := range n.c.members {
		if x != leader {
			m = x
			break
		}
	}
	id := n.c.memberID(n.cli, m)
	if id == 0 {
		n.log("replace", "%s does not answer; skipped", m.name)
		return
	}
	n.c.expectExit(m)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, err := n.cli.MemberRemove(ctx, id)
	cancel()
	if err != nil {
		n.log("replace", "remove %s: %v", m.name, err)
		// The removal may have happened anyway (the member answering may be
		// the one removed, which stops): find out from the member list.
		if n.isMember(id) {
			m.mu.Lock()
			m.expecting = false
			m.mu.Unlock()
			return
		}
	}
	n.log("replace", "removed %s (%x)", m.name, id)
	n.c.signal(m, syscall.SIGKILL)
	os.RemoveAll(n.c.dataDir(m))
	m.generation++
	for attempt := 0; attempt < 30; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := n.cli.MemberAdd(ctx, []string{m.peerURL()})
		cancel()
		if err == nil {
			n.log("replace", "added %s as %x", m.name, resp.Member.ID)
			break
		}
		n.log("replace", "add %s: %v", m.name, err)
		if n.hasPeerURL(m.peerURL()) {
			break
		}
		time.Sleep(time.Second)
	}
	if err := n.c.start(m, n.c.initialCluster(), "existing"); err != nil {
		n.fail("start re-added %s: %v", m.name, err)
		return
	}
	if n.rng.Intn(2) == 0 {
		// Kill the new member while it catches up (snapshot install or log replay).
		n.sleep(100, 2000)
		n.log("replace", "SIGKILL %s while it catches up", m.name)
		n.c.signal(m, syscall.SIGKILL)
		n.sleep(100, 1000)
		n.restart(m)
	}
}

// isMember asks every member's list (for up to a minute) whether id is
// still a member: a committed removal shows in some list once applied, so
// one list without id settles it; no answer at all means assume it is.
func (n *nemesis) isMember(id uint64) bool {
	for attempt := 0; attempt < 20; attempt++ {
		time.Sleep(time.Second)
		answered := false
		for _, m := range n.c.members {
			one, err := dialOne(m)
			if err != nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			resp, err := one.MemberList(ctx)
			cancel()
			one.Close()
			if err != nil || resp.Header.MemberId == id {
				continue
			}
			answered = true
			listed := false
			for _, x := range resp.Members {
				listed = listed || x.ID == id
			}
			if !listed {
				return false
			}
		}
		if answered && attempt >= 2 {
			return true
		}
	}
	return true
}

func (n *nemesis) hasPeerURL(url string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := n.cli.MemberList(ctx)
	if err != nil {
		return false
	}
	for _, x := range resp.Members {
		for _, u := range x.PeerURLs {
			if u == url {
				return true
			}
		}
	}
	return false
}
