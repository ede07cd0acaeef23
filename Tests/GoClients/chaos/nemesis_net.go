package main

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/etcd/clientv3"
)

// Network faults (needs the proxies of netem): partitions that isolate the
// leader or a follower (blackholed or refused), one-way cuts, bridges (two
// members cut apart, both reaching the third), slow links and connection
// resets, each healed before the next fault. Besides the
// history checks of the whole run, while a member is cut off from the
// other two it must not accept a write nor answer a linearizable read
// (errors or waiting are right), a cut-off leader must step down (etcd runs
// with check-quorum), a require-leader watch on it must end ("no leader"),
// the majority must elect a leader, and after the heal the member must
// catch up with the majority.

// stepDownWithin: how long a cut-off leader may go on calling itself leader
// (check-quorum steps down after one election timeout, 1 s by default).
const stepDownWithin = 6 * time.Second

func (n *nemesis) netFault() {
	switch k := n.rng.Intn(100); {
	case k < 30:
		n.isolate(true)
	case k < 55:
		n.isolate(false)
	case k < 62:
		n.oneWay()
	case k < 70:
		n.bridge()
	case k < 88:
		n.slow()
	default:
		n.flaky()
	}
}

func (n *nemesis) indexOf(m *member) int {
	for i, x := range n.c.members {
		if x == m {
			return i
		}
	}
	return -1
}

func (n *nemesis) cutMode() (linkMode, string) {
	if n.rng.Intn(2) == 0 {
		return linkBlackhole, "blackhole"
	}
	return linkRefuse, "refuse"
}

// cutOff separates member i from the other two in both directions.
func (n *nemesis) cutOff(i int, mode linkMode) {
	for j := range n.c.members {
		if j != i {
			n.net.set(i, j, link{mode: mode})
			n.net.set(j, i, link{mode: mode})
		}
	}
}

// isolate cuts the leader (or a follower) off for a few seconds while probes
// on it check that it serves no write or linearizable read.
func (n *nemesis) isolate(leader bool) {
	l, lid := n.c.leader(n.cli)
	if l == nil {
		n.log("isolate", "no leader known; skipped")
		return
	}
	victim := l
	kind := "isolate-leader"
	if !leader {
		kind = "isolate-follower"
		var others []*member
		for _, m := range n.c.members {
			if m != l {
				others = append(others, m)
			}
		}
		victim = others[n.rng.Intn(len(others))]
	}
	vi := n.indexOf(victim)
	mode, modeName := n.cutMode()
	one, err := dialOne(victim)
	if err != nil {
		n.log(kind, "dial %s: %v; skipped", victim.name, err)
		return
	}
	defer one.Close()
	rl := n.requireLeaderWatch(one)
	n.cutOff(vi, mode)
	cut := time.Now()
	n.log(kind, "%s cut off (%s)", victim.name, modeName)
	hold := time.Duration(6000+n.rng.Intn(3000)) * time.Millisecond

	probeDone := make(chan struct{})
	go func() { n.probeMinority(one, victim, hold); close(probeDone) }()

	stepped := !leader
	newLeader := false
	for time.Since(cut) < hold {
		time.Sleep(200 * time.Millisecond)
		if !stepped {
			if st := n.c.status(one, victim, 500*time.Millisecond); st != nil && st.Leader != st.Header.MemberId {
				stepped = true
				n.log(kind, "%s stepped down after %v (leader now %x)", victim.name, time.Since(cut).Round(time.Millisecond), st.Leader)
			} else if st != nil && time.Since(cut) > stepDownWithin {
				n.fail("%s, cut off from the others at %s, still says it is the leader %v later",
					victim.name, cut.Format("15:04:05.000"), time.Since(cut).Round(time.Millisecond))
				stepped = true // once
			}
		}
		if !newLeader {
			for _, m := range n.c.members {
				if m == victim || !n.c.running(m) {
					continue
				}
				if st := n.c.status(n.cli, m, 500*time.Millisecond); st != nil && st.Leader != 0 && st.Leader != lid {
					newLeader = true
				} else if st != nil && st.Leader != 0 && !leader {
					newLeader = true // a follower's cut leaves the leader in place
				}
			}
		}
	}
	<-probeDone
	if rl != nil {
		// etcd ends such a stream after three election timeouts without a leader.
		select {
		case err := <-rl.ended:
			n.log(kind, "require-leader watch on %s ended after %v: %v", victim.name, time.Since(cut).Round(time.Millisecond), err)
		case <-time.After(time.Until(cut.Add(requireLeaderEndsWithin))):
			n.fail("a require-leader watch on %s, cut off at %s, was still open %v later",
				victim.name, cut.Format("15:04:05.000"), requireLeaderEndsWithin)
		}
		rl.cancel()
	}
	if !newLeader {
		n.fail("%s: the majority had no leader (other than the cut-off one) for the %v %s was cut off",
			kind, hold.Round(time.Millisecond), victim.name)
	}
	n.healAndCatchUp(kind, victim)
}

// requireLeaderEndsWithin: how long a require-leader stream on a cut-off
// member may stay open (leader loss, then three election timeouts).
const requireLeaderEndsWithin = 15 * time.Second

type rlWatch struct {
	ended  chan error
	cancel context.CancelFunc
}

// requireLeaderWatch opens a watch with clientv3.WithRequireLeader (as
// Kubernetes does) on one member; ended gets its error once the stream ends.
// nil if it was not established within 2 s.
func (n *nemesis) requireLeaderWatch(one *clientv3.Client) *rlWatch {
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(context.Background()))
	wch := one.Watch(ctx, prefix+"probe", clientv3.WithCreatedNotify())
	select {
	case resp, ok := <-wch:
		if !ok || !resp.Created {
			cancel()
			return nil
		}
	case <-time.After(2 * time.Second):
		cancel()
		return nil
	}
	w := &rlWatch{ended: make(chan error, 1), cancel: cancel}
	go func() {
		for resp := range wch {
			if err := resp.Err(); err != nil {
				w.ended <- err
				return
			}
		}
		w.ended <- fmt.Errorf("channel closed")
	}()
	return w
}

// probeMinority puts and reads (linearizable) on the cut-off member alone
// until hold has passed; any success is a violation. The operations go into
// the history (an unknown write may still apply later, at most once).
func (n *nemesis) probeMinority(one *clientv3.Client, m *member, hold time.Duration) {
	start := time.Now()
	for seq := 0; time.Since(start) < hold-time.Second; seq++ {
		n.probeSeq++
		value := fmt.Sprintf("probe-%d", n.probeSeq)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		o := op{client: 900, kind: "put", key: prefix + "probe", value: value, invoke: n.rec.now()}
		resp, err := one.Put(ctx, o.key, value)
		o.ret = n.rec.now()
		cancel()
		if err == nil {
			o.ok, o.rev, o.header = true, resp.Header.Revision, resp.Header.Revision
			n.fail("%s, cut off from the others, accepted put %s=%s at revision %d", m.name, o.key, value, o.rev)
		} else {
			o.err = err.Error()
		}
		n.rec.add(o)
		ctx, cancel = context.WithTimeout(context.Background(), time.Second)
		g := read(ctx, one, n.rec, 900, prefix+"probe", false)
		cancel()
		n.rec.add(g)
		if g.ok {
			n.fail("%s, cut off from the others, answered a linearizable get at revision %d", m.name, g.header)
		}
	}
}

// healAndCatchUp opens every link, then waits until m has applied what the
// majority had at the heal.
func (n *nemesis) healAndCatchUp(kind string, m *member) {
	var target int64
	for _, x := range n.c.members {
		if x == m {
			continue
		}
		if st := n.c.status(n.cli, x, time.Second); st != nil && st.Header.Revision > target {
			target = st.Header.Revision
		}
	}
	n.net.heal()
	healed := time.Now()
	n.log("heal", "after %s of %s (majority at revision %d)", kind, m.name, target)
	for time.Since(healed) < 30*time.Second {
		if st := n.c.status(n.cli, m, time.Second); st != nil && st.Header.Revision >= target {
			n.log("heal", "%s caught up to %d in %v", m.name, target, time.Since(healed).Round(time.Millisecond))
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	if n.c.running(m) {
		n.fail("%s did not catch up with revision %d in 30 s after the heal at %s", m.name, target, healed.Format("15:04:05.000"))
	}
}

// oneWay drops what one member sends to another (or everything the leader
// sends) for a few seconds: safety only.
func (n *nemesis) oneWay() {
	mode, modeName := n.cutMode()
	if l, _ := n.c.leader(n.cli); l != nil && n.rng.Intn(2) == 0 {
		li := n.indexOf(l)
		for j := range n.c.members {
			if j != li {
				n.net.set(li, j, link{mode: mode})
			}
		}
		n.log("one-way", "nothing from leader %s reaches the others (%s)", l.name, modeName)
	} else {
		a, b := n.randomPair()
		n.net.set(a, b, link{mode: mode})
		n.log("one-way", "nothing from %s reaches %s (%s)", n.c.members[a].name, n.c.members[b].name, modeName)
	}
	n.holdThenHeal(2000, 6000, "one-way")
}

// bridge cuts two members apart (both ways) while both still reach the
// third, for a few seconds: the member cut from the leader must not depose
// it through the bridge (pre-vote); safety only.
func (n *nemesis) bridge() {
	mode, modeName := n.cutMode()
	a, b := n.randomPair()
	n.net.set(a, b, link{mode: mode})
	n.net.set(b, a, link{mode: mode})
	n.log("bridge", "%s and %s cut apart, both reach the third (%s)", n.c.members[a].name, n.c.members[b].name, modeName)
	n.holdThenHeal(2000, 6000, "bridge")
}

// slow delays every link, or the links of one member, for a few seconds.
func (n *nemesis) slow() {
	d := time.Duration(20+n.rng.Intn(400)) * time.Millisecond
	l := link{delay: d, jitter: d / 2}
	if n.rng.Intn(2) == 0 {
		for i := range n.c.members {
			for j := range n.c.members {
				if i != j {
					n.net.set(i, j, l)
				}
			}
		}
		n.log("slow", "every link %v", l)
	} else {
		i := n.rng.Intn(3)
		for j := range n.c.members {
			if j != i {
				n.net.set(i, j, l)
				n.net.set(j, i, l)
			}
		}
		n.log("slow", "%s's links %v", n.c.members[i].name, l)
	}
	n.holdThenHeal(2000, 8000, "slow")
}

// flaky resets every peer connection a few times.
func (n *nemesis) flaky() {
	times := 2 + n.rng.Intn(4)
	total := 0
	for i := 0; i < times; i++ {
		total += n.net.resetAll()
		n.sleep(100, 1000)
	}
	n.log("reset", "%d peer connections reset in %d rounds", total, times)
}

// randomPair picks two different members' indexes.
func (n *nemesis) randomPair() (int, int) {
	a := n.rng.Intn(3)
	return a, (a + 1 + n.rng.Intn(2)) % 3
}

// holdThenHeal keeps the current faults for minMs..maxMs, then heals every link.
func (n *nemesis) holdThenHeal(minMs, maxMs int, kind string) {
	n.sleep(minMs, maxMs)
	n.net.heal()
	n.log("heal", kind)
}
