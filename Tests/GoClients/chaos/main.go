// chaos runs a fresh 3-member cluster of -bin (swift-etcd or etcd: the same
// flags) on 127.0.0.1 while clientv3 clients do puts, CAS txns on
// mod_revision, linearizable and serializable gets, leases with keep-alive
// and watches from revision 1, and a nemesis kills (SIGKILL), pauses
// (SIGSTOP/SIGCONT) and restarts members (the leader half the time), moves
// the leader, compacts, defragments, streams snapshots and replaces a
// follower by a wiped new member; with -faults network or all it also
// partitions the peer links through proxies (nemesis_net.go, proxy.go)
// and checks that a cut-off member serves no write or linearizable read, a
// cut-off leader steps down and a healed member catches up. Then it checks: every acknowledged write
// is in the watch history exactly once at its revision; revisions respect
// real time; every read matches the history at its revision and a
// linearizable one is not stale; acknowledged CAS txns form one chain per
// key (no forks) and failed ones really failed; all watchers saw the same
// history; revoked leases deleted their keys; every member converges to the
// same revision, hash and contents; no member exited unless killed.
// It stops by itself after -duration and kills every process it started.
// Exit 0: no violation; 1: violations (printed); 2: setup failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.etcd.io/etcd/clientv3"
)

var dump *bool

func main() {
	bin := flag.String("bin", "", "server binary (swift-etcd or etcd)")
	dir := flag.String("dir", "", "work directory (data dirs, member logs); created")
	basePort := flag.Int("port", 24000, "first of 6 consecutive ports (client, peer per member)")
	portList := flag.String("ports", "", "6 comma-separated ports (client, peer per member) instead of -port")
	duration := flag.Duration("duration", 60*time.Second, "how long the nemesis runs")
	seed := flag.Int64("seed", 1, "random seed (operation mix and faults; timing is not reproducible)")
	clients := flag.Int("clients", 4, "key-value clients")
	leases := flag.Int("leases", 2, "lease clients")
	keys := flag.Int("keys", 8, "keys the key-value clients share")
	etcdutl := flag.String("etcdutl", "", "etcdutl to check snapshots with (optional)")
	dump = flag.Bool("dump", false, "write every operation to DIR/ops.txt (also done when a run fails)")
	faults := flag.String("faults", "process", "process (kill, pause, restart, ...), network (partitions, one-way cuts, slow links, resets through peer proxies) or all")
	extra := flag.String("server-flags", "--snapshot-count=500", "extra server flags, space separated")
	flag.Parse()
	if *bin == "" || *dir == "" {
		fmt.Fprintln(os.Stderr, "usage: chaos -bin BINARY -dir WORKDIR [-duration 60s] [-seed N] [-port 24000]")
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	c := newCluster(*bin, *dir, *basePort, strings.Fields(*extra))
	if *portList != "" {
		ports := strings.Split(*portList, ",")
		if len(ports) != 6 && len(ports) != 9 {
			fmt.Fprintln(os.Stderr, "chaos: -ports needs 6 ports (9 with network faults)")
			os.Exit(2)
		}
		for i, m := range c.members {
			fmt.Sscan(ports[2*i], &m.clientPort)
			fmt.Sscan(ports[2*i+1], &m.peerPort)
			m.listenPeerPort = m.peerPort
			if len(ports) == 9 {
				fmt.Sscan(ports[6+i], &m.listenPeerPort)
			}
		}
	}
	var net *netem
	switch *faults {
	case "process":
	case "network", "all":
		// The members listen for peers behind the proxies: ports 7-9.
		for i, m := range c.members {
			if m.listenPeerPort == m.peerPort {
				m.listenPeerPort = *basePort + 6 + i
			}
		}
		net = newNetem(c)
		if err := net.listen(); err != nil {
			fmt.Fprintln(os.Stderr, "chaos: peer proxies:", err)
			os.Exit(2)
		}
		defer net.close()
	default:
		fmt.Fprintln(os.Stderr, "chaos: -faults is process, network or all")
		os.Exit(2)
	}
	// Whatever happens, the members die with us.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		c.stopAll()
		os.Exit(2)
	}()
	code := run(c, net, *faults != "network", *duration, *seed, *clients, *leases, *keys, *etcdutl)
	c.stopAll()
	if net != nil {
		net.close()
	}
	os.Exit(code)
}

func run(c *cluster, net *netem, process bool, duration time.Duration, seed int64, clients, leases, keys int, etcdutl string) int {
	started := time.Now()
	for _, m := range c.members {
		if err := c.start(m, c.initialCluster(), "new"); err != nil {
			c.note("start %s: %v", m.name, err)
			return 2
		}
	}
	newClient := func(rotate int) *clientv3.Client {
		eps := c.endpoints()
		eps = append(eps[rotate%3:], eps[:rotate%3]...)
		cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 2 * time.Second})
		if err != nil {
			c.note("client: %v", err)
			os.Exit(2)
		}
		return cli
	}
	admin := newClient(0)
	defer admin.Close()
	if !c.waitHealthy(admin, 60*time.Second) {
		c.note("cluster did not become healthy in 60 s")
		return 2
	}
	rec := &recorder{start: time.Now()}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var watchers []*watcher
	for i := 0; i < 2; i++ {
		w := &watcher{id: i}
		watchers = append(watchers, w)
		cli := newClient(i + 1)
		defer cli.Close()
		wg.Add(1)
		go func() { defer wg.Done(); w.run(cli, rec, stop) }()
	}
	clientStop := make(chan struct{})
	var cwg sync.WaitGroup
	for i := 0; i < clients; i++ {
		cli := newClient(i)
		defer cli.Close()
		cwg.Add(1)
		go func(i int) {
			defer cwg.Done()
			kvClient(i, cli, rec, keys, 2*time.Second, rand.New(rand.NewSource(seed*1000+int64(i))), clientStop)
		}(i)
	}
	leaseOut := make(chan leaseRecord, 100000)
	for i := 0; i < leases; i++ {
		cli := newClient(i)
		defer cli.Close()
		cwg.Add(1)
		go func(i int) {
			defer cwg.Done()
			leaseClient(100+i, cli, rec, 2*time.Second, rand.New(rand.NewSource(seed*1000+500+int64(i))), clientStop, leaseOut)
		}(i)
	}

	n := &nemesis{c: c, cli: admin, rng: rand.New(rand.NewSource(seed)), watchers: watchers,
		etcdutl: etcdutl, counts: map[string]int{}, net: net, process: process, rec: rec}
	nemStop := make(chan struct{})
	nemDone := make(chan struct{})
	go func() { n.run(nemStop); close(nemDone) }()
	time.Sleep(duration)
	close(nemStop)
	<-nemDone

	// Heal: every link open, every member running and resumed, then a few seconds of load.
	if net != nil {
		net.heal()
	}
	for _, m := range c.members {
		c.signal(m, syscall.SIGCONT)
		if !c.running(m) {
			n.restart(m)
		}
	}
	healthy := c.waitHealthy(admin, 60*time.Second)
	time.Sleep(3 * time.Second)
	close(clientStop)
	cwg.Wait()
	close(leaseOut)
	var leaseRecords []leaseRecord
	for l := range leaseOut {
		leaseRecords = append(leaseRecords, l)
	}

	var failures []string
	if !healthy {
		failures = append(failures, "cluster not healthy 60 s after the faults ended")
	}
	// The final revision (linearizable), then wait for watchers and members to reach it.
	finalRev := int64(0)
	for i := 0; i < 60 && finalRev == 0; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		resp, err := admin.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
		cancel()
		if err == nil {
			finalRev = resp.Header.Revision
		} else {
			time.Sleep(time.Second)
		}
	}
	if finalRev == 0 {
		failures = append(failures, "no linearizable read succeeded after the run")
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, w := range watchers {
		for atomic.LoadInt64(&w.progress) < finalRev && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if p := atomic.LoadInt64(&w.progress); p < finalRev {
			failures = append(failures, fmt.Sprintf("watcher %d reached revision %d, not the final %d", w.id, p, finalRev))
		}
	}
	close(stop)
	wg.Wait()
	var streams [][]event
	for _, w := range watchers {
		s, failure := w.snapshot()
		if failure != "" {
			failures = append(failures, fmt.Sprintf("watcher %d: %s", w.id, failure))
		}
		streams = append(streams, s)
	}
	ck := &checker{}
	ck.checkStreams(streams)
	rec.mu.Lock()
	ops := append([]op{}, rec.ops...)
	rec.mu.Unlock()
	ck.checkOps(ops, finalRev)
	expired := ck.checkLeases(leaseRecords)
	failures = append(failures, ck.failures...)
	failures = append(failures, convergence(c, admin, finalRev, ck.finalState())...)
	for _, crash := range c.crashList() {
		failures = append(failures, "crash: "+crash)
	}
	failures = append(failures, n.failures...)

	var nem []string
	for k, v := range n.counts {
		nem = append(nem, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(nem)
	fmt.Printf("chaos: bin=%s seed=%d duration=%v wall=%v final revision %d, %d events, %d ops (%s), %d leases (%d expired), nemesis: %s\n",
		c.bin, seed, duration, time.Since(started).Round(time.Second), finalRev, len(ck.stream), len(ops), summarize(ops),
		len(leaseRecords), expired, strings.Join(nem, " "))
	if len(failures) > 0 || *dump {
		dumpOps(c.dir, rec.start, ops)
	}
	if len(failures) > 0 {
		fmt.Printf("chaos: %d VIOLATIONS (member logs in %s):\n", len(failures), c.dir)
		for _, f := range failures {
			fmt.Println("  " + f)
		}
		fmt.Println("chaos: nemesis log:")
		for _, e := range n.events {
			fmt.Println("  " + e)
		}
		return 1
	}
	fmt.Println("chaos: ok")
	return 0
}

// convergence: every member reaches finalRev, and at that revision all have
// the same KV hash and the contents the watch history replays to.
func convergence(c *cluster, admin *clientv3.Client, finalRev int64, want map[string]string) []string {
	var failures []string
	hashes := map[string]uint32{}
	for _, m := range c.members {
		one, err := dialOne(m)
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: dial: %v", m.name, err))
			continue
		}
		var got map[string]string
		var lastErr error
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			resp, err := one.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithSerializable(), clientv3.WithRev(finalRev))
			cancel()
			if err != nil {
				lastErr = err // not caught up yet ("future revision")
				continue
			}
			got = map[string]string{}
			for _, kv := range resp.Kvs {
				got[string(kv.Key)] = string(kv.Value)
			}
			break
		}
		if got == nil {
			failures = append(failures, fmt.Sprintf("%s never served revision %d: %v", m.name, finalRev, lastErr))
			one.Close()
			continue
		}
		for k, v := range want {
			if got[k] != v {
				failures = append(failures, fmt.Sprintf("%s at revision %d: %s = %q, history says %q", m.name, finalRev, k, got[k], v))
			}
		}
		for k, v := range got {
			if _, ok := want[k]; !ok {
				failures = append(failures, fmt.Sprintf("%s at revision %d has %s = %q, absent from the history", m.name, finalRev, k, v))
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		h, err := one.HashKV(ctx, m.endpoint(), finalRev)
		cancel()
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: HashKV at %d: %v", m.name, finalRev, err))
		} else {
			hashes[m.name] = h.Hash
		}
		one.Close()
	}
	distinct := map[uint32]bool{}
	for _, h := range hashes {
		distinct[h] = true
	}
	if len(distinct) > 1 {
		failures = append(failures, fmt.Sprintf("members' HashKV at revision %d differ: %v", finalRev, hashes))
	}
	return failures
}

// dumpOps writes one line per operation (wall-clock times) for diagnosis.
func dumpOps(dir string, start time.Time, ops []op) {
	f, err := os.Create(dir + "/ops.txt")
	if err != nil {
		return
	}
	defer f.Close()
	for _, o := range ops {
		fmt.Fprintf(f, "%s %s c%d %s %s=%q prev=%d rev=%d header=%d found=%v ok=%v success=%v lease=%x err=%q\n",
			start.Add(o.invoke).Format("15:04:05.000"), start.Add(o.ret).Format("15:04:05.000"), o.client, o.kind,
			o.key, o.value, o.prevRev, o.rev, o.header, o.found, o.ok, o.success, o.lease, o.err)
	}
}
