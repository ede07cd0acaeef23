// k8sload drives an etcd endpoint the way a Kubernetes API server does
// (k8s.io/apiserver's etcd3 store, through clientv3) for a fixed time, then
// checks the watch streams against the writes it saw acknowledged.
//
//	k8sload -endpoint 127.0.0.1:2379 -seconds 15 -clients 100 -conns 10
//
// The load, per worker, picks one of:
//   - create: Txn(If mod_revision(key)=0 Then Put)
//   - update: compare-and-swap on the mod_revision it last knew,
//     Txn(If mod_revision=R Then Put Else Get); on conflict it takes the
//     fresh object from the Else branch and retries
//   - delete: the same compare-and-swap with a Delete
//   - event: a Put of a new event object with the shared 1-hour lease
//   - get: a linearizable Range of one object
//   - list: a paginated Range (limit 500) of a resource; pages after the
//     first are pinned to the first page's revision
//   - count: a count_only Range of a resource
//
// Meanwhile every resource prefix has -watches prefix watches (prev_kv,
// progress notify, WithRequireLeader), and a compactor does what the API
// server's does every -compact-every: a compare-and-swap on the compaction
// key's version, then Compact to the revision seen one period earlier.
//
// At the end a sentinel is written under each prefix; once every watch has
// it, each watch's events must be exactly the acknowledged writes under its
// prefix: each once, in revision order, updates and deletes carrying the
// previous version as prev_kv. It prints one line
// "k8s writes=N secs=S rate=R reads=… conflicts=… lists=… compactions=… events=… check=ok"
// and exits 1 if the check failed.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/mvcc/mvccpb"
)

var (
	endpoint     = flag.String("endpoint", "127.0.0.1:2379", "etcd endpoint(s), comma-separated")
	seconds      = flag.Float64("seconds", 15, "load duration")
	clients      = flag.Int("clients", 100, "concurrent workers")
	conns        = flag.Int("conns", 10, "gRPC connections shared by the workers")
	watches      = flag.Int("watches", 2, "prefix watches per resource")
	objects      = flag.Int("objects", 2000, "object names per resource")
	valSize      = flag.Int("val-size", 1024, "object bytes")
	compactEvery = flag.Duration("compact-every", 5*time.Second, "compaction period")
	latency      = flag.Bool("latency", false, "also print each operation's p50/p99 (ms) to stderr")
)

// opNames are the kinds of step a worker takes, for -latency.
var opNames = []string{"create", "update", "delete", "event", "get", "list", "count"}

var resources = []string{"pods", "configmaps", "leases", "events"}

const compactKey = "compact_rev_key"

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "k8sload: "+format+"\n", args...)
	os.Exit(1)
}

// write is one acknowledged mutation.
type write struct {
	key     string
	rev     int64
	deleted bool
}

type counters struct {
	writes, reads, conflicts, lists, listRestarts, counts, failed, compactions int64
}

func main() {
	flag.Parse()
	cs := make([]*clientv3.Client, *conns)
	for i := range cs {
		c, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(*endpoint, ","), DialTimeout: 5 * time.Second,
			MaxCallRecvMsgSize: 64 << 20})
		if err != nil {
			fail("connect: %v", err)
		}
		cs[i] = c
	}
	ctx := context.Background()
	start, err := cs[0].Get(ctx, "/registry/")
	if err != nil {
		fail("get: %v", err)
	}
	// Watches from the revision after the start: every later write is theirs.
	from := start.Header.Revision + 1
	var ws []*watchLog
	for _, res := range resources {
		for i := 0; i < *watches; i++ {
			ws = append(ws, startWatch(cs[(len(ws))%len(cs)], "/registry/"+res+"/", from))
		}
	}
	lease, err := cs[0].Grant(ctx, 3600)
	if err != nil {
		fail("grant: %v", err)
	}

	var c counters
	logs := make([][]write, *clients)
	workers := make([]*worker, *clients)
	known := &revCache{revs: map[string]int64{}}
	deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	stopCompactor := make(chan struct{})
	compactorDone := make(chan struct{})
	go func() { compactor(cs[0], &c, stopCompactor); close(compactorDone) }()
	begin := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wk := worker{id: w, cli: cs[w%len(cs)], r: rand.New(rand.NewSource(int64(w) + 1)), c: &c, known: known,
				lease: lease.ID, value: strings.Repeat("x", *valSize)}
			for time.Now().Before(deadline) {
				wk.step()
			}
			logs[w] = wk.log
			workers[w] = &wk
		}(w)
	}
	wg.Wait()
	secs := time.Since(begin).Seconds()
	close(stopCompactor)
	<-compactorDone

	var acked []write
	for _, l := range logs {
		acked = append(acked, l...)
	}
	if *latency {
		printLatencies(workers)
	}
	check := verify(cs[0], ws, acked, atomic.LoadInt64(&c.failed))
	fmt.Printf("k8s writes=%d secs=%.2f rate=%.0f reads=%d conflicts=%d lists=%d list-restarts=%d counts=%d compactions=%d failed=%d watches=%d check=%s\n",
		len(acked), secs, float64(len(acked))/secs, c.reads, c.conflicts, c.lists, c.listRestarts, c.counts, c.compactions,
		c.failed, len(ws), check)
	if check != "ok" {
		os.Exit(1)
	}
}

// revCache is the API server's view of each object's mod_revision (its
// watch cache): updates start from it and may find it stale.
type revCache struct {
	mu   sync.Mutex
	revs map[string]int64 // 0: deleted / never seen
}

func (k *revCache) get(key string) int64 { k.mu.Lock(); defer k.mu.Unlock(); return k.revs[key] }
func (k *revCache) set(key string, rev int64) {
	k.mu.Lock()
	if rev == 0 || rev > k.revs[key] {
		k.revs[key] = rev
	}
	k.mu.Unlock()
}

type worker struct {
	id     int
	cli    *clientv3.Client
	r      *rand.Rand
	c      *counters
	known  *revCache
	lease  clientv3.LeaseID
	value  string
	log    []write
	events int
	took   [][]time.Duration // per opNames index, with -latency
}

func (wk *worker) objectKey() string {
	res := resources[wk.r.Intn(3)] // pods, configmaps, leases
	return fmt.Sprintf("/registry/%s/ns-%d/obj-%d", res, wk.r.Intn(10), wk.r.Intn(*objects))
}

func (wk *worker) step() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	began, op := time.Now(), 0
	switch p := wk.r.Intn(100); {
	case p < 20:
		err = wk.create(ctx, wk.objectKey())
	case p < 55:
		op = 1
		err = wk.cas(ctx, wk.objectKey(), false)
	case p < 60:
		op = 2
		err = wk.cas(ctx, wk.objectKey(), true)
	case p < 75:
		op = 3
		wk.events++
		key := fmt.Sprintf("/registry/events/ns-%d/evt-%d-%d", wk.r.Intn(10), wk.id, wk.events)
		var resp *clientv3.PutResponse
		resp, err = wk.cli.Put(ctx, key, wk.value, clientv3.WithLease(wk.lease))
		if err == nil {
			wk.acked(key, resp.Header.Revision, false)
		}
	case p < 94:
		op = 4
		_, err = wk.cli.Get(ctx, wk.objectKey())
		atomic.AddInt64(&wk.c.reads, 1)
	case p < 95:
		op = 5
		err = wk.list(ctx, "/registry/"+resources[wk.r.Intn(len(resources))]+"/")
	default:
		op = 6
		prefix := "/registry/" + resources[wk.r.Intn(len(resources))] + "/"
		_, err = wk.cli.Get(ctx, prefix, clientv3.WithRange(clientv3.GetPrefixRangeEnd(prefix)), clientv3.WithCountOnly())
		atomic.AddInt64(&wk.c.counts, 1)
	}
	if err != nil {
		atomic.AddInt64(&wk.c.failed, 1)
	}
	if *latency {
		if wk.took == nil {
			wk.took = make([][]time.Duration, len(opNames))
		}
		wk.took[op] = append(wk.took[op], time.Since(began))
	}
}

// printLatencies writes "latency op=N p50=… p99=…" lines (ms) for -latency.
func printLatencies(workers []*worker) {
	for i, name := range opNames {
		var all []time.Duration
		for _, wk := range workers {
			if wk.took != nil {
				all = append(all, wk.took[i]...)
			}
		}
		if len(all) == 0 {
			continue
		}
		sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
		ms := func(q float64) float64 { return float64(all[int(q*float64(len(all)-1))].Microseconds()) / 1000 }
		fmt.Fprintf(os.Stderr, "latency %s n=%d p50=%.2f p90=%.2f p99=%.2f\n", name, len(all), ms(0.5), ms(0.9), ms(0.99))
	}
}

func (wk *worker) acked(key string, rev int64, deleted bool) {
	wk.log = append(wk.log, write{key, rev, deleted})
	atomic.AddInt64(&wk.c.writes, 1)
	if deleted {
		wk.known.set(key, 0)
	} else {
		wk.known.set(key, rev)
	}
}

// create is the API server's Create: only if the key does not exist.
func (wk *worker) create(ctx context.Context, key string) error {
	resp, err := wk.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, wk.value)).Commit()
	if err != nil {
		return err
	}
	if resp.Succeeded {
		wk.acked(key, resp.Header.Revision, false)
	} else {
		atomic.AddInt64(&wk.c.conflicts, 1) // AlreadyExists
	}
	return nil
}

// cas is GuaranteedUpdate (or a precondition Delete): compare-and-swap on
// the last known mod_revision, re-reading from the Else branch on conflict.
func (wk *worker) cas(ctx context.Context, key string, del bool) error {
	rev := wk.known.get(key)
	for attempt := 0; attempt < 10; attempt++ {
		if rev == 0 { // not in the cache: read it as the API server would
			g, err := wk.cli.Get(ctx, key)
			if err != nil {
				return err
			}
			atomic.AddInt64(&wk.c.reads, 1)
			if len(g.Kvs) == 0 {
				return nil // NotFound
			}
			rev = g.Kvs[0].ModRevision
		}
		op := clientv3.OpPut(key, wk.value)
		if del {
			op = clientv3.OpDelete(key)
		}
		resp, err := wk.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
			Then(op).Else(clientv3.OpGet(key)).Commit()
		if err != nil {
			return err
		}
		if resp.Succeeded {
			wk.acked(key, resp.Header.Revision, del)
			return nil
		}
		atomic.AddInt64(&wk.c.conflicts, 1)
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 0 {
			wk.known.set(key, 0)
			return nil // deleted meanwhile: NotFound
		}
		rev = kvs[0].ModRevision
		wk.known.set(key, rev)
	}
	return nil
}

// list is a paginated list: limit 500, later pages at the first page's revision.
func (wk *worker) list(ctx context.Context, prefix string) error {
	end := clientv3.GetPrefixRangeEnd(prefix)
	key := prefix
	var rev int64
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(500)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := wk.cli.Get(ctx, key, opts...)
		if err != nil {
			if strings.Contains(err.Error(), "compacted") {
				atomic.AddInt64(&wk.c.listRestarts, 1) // 410 Gone: the client lists again later
				return nil
			}
			return err
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		if !resp.More || len(resp.Kvs) == 0 {
			atomic.AddInt64(&wk.c.lists, 1)
			return nil
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// compactor is the API server's: every period, a compare-and-swap on the
// compaction key's version; the winner compacts to the revision it saw a
// period earlier.
func compactor(cli *clientv3.Client, c *counters, stop chan struct{}) {
	var version, prev int64
	t := time.NewTicker(*compactEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		resp, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.Version(compactKey), "=", version)).
			Then(clientv3.OpPut(compactKey, strconv.FormatInt(prev, 10))).Else(clientv3.OpGet(compactKey)).Commit()
		if err != nil {
			cancel()
			atomic.AddInt64(&c.failed, 1)
			continue
		}
		cur := resp.Header.Revision
		if !resp.Succeeded {
			if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) > 0 {
				version = kvs[0].Version
			}
		} else {
			version++
			if prev > 0 {
				if _, err := cli.Compact(ctx, prev); err != nil {
					atomic.AddInt64(&c.failed, 1)
				} else {
					atomic.AddInt64(&c.compactions, 1)
				}
			}
		}
		prev = cur
		cancel()
	}
}

// watchLog records one prefix watch's events.
type watchLog struct {
	prefix   string
	mu       sync.Mutex
	events   []*mvccpb.Event
	sentinel bool
	err      error
	gotEnd   chan struct{}
}

const sentinelName = "zz-k8sload-end"

func startWatch(cli *clientv3.Client, prefix string, from int64) *watchLog {
	w := &watchLog{prefix: prefix, gotEnd: make(chan struct{})}
	ctx := clientv3.WithRequireLeader(context.Background())
	ch := cli.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(from), clientv3.WithPrevKV(),
		clientv3.WithProgressNotify())
	go func() {
		for resp := range ch {
			if err := resp.Err(); err != nil {
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
				break
			}
			if resp.IsProgressNotify() {
				continue
			}
			w.mu.Lock()
			for _, ev := range resp.Events {
				if strings.HasSuffix(string(ev.Kv.Key), sentinelName) {
					if !w.sentinel {
						w.sentinel = true
						close(w.gotEnd)
					}
					continue
				}
				w.events = append(w.events, (*mvccpb.Event)(ev))
			}
			w.mu.Unlock()
		}
		w.mu.Lock()
		if !w.sentinel {
			w.sentinel = true
			close(w.gotEnd)
		}
		w.mu.Unlock()
	}()
	return w
}

// verify writes the sentinels, waits for every watch to see its own, and
// checks each watch's events against the acknowledged writes.
func verify(cli *clientv3.Client, ws []*watchLog, acked []write, failed int64) string {
	for _, res := range resources {
		if _, err := cli.Put(context.Background(), "/registry/"+res+"/"+sentinelName, "1"); err != nil {
			return fmt.Sprintf("sentinel-put-failed:%v", err)
		}
	}
	timeout := time.After(60 * time.Second)
	for _, w := range ws {
		select {
		case <-w.gotEnd:
		case <-timeout:
			return "watch-timeout:" + w.prefix
		}
	}
	sort.Slice(acked, func(i, j int) bool { return acked[i].rev < acked[j].rev })
	for i := 1; i < len(acked); i++ {
		if acked[i].rev == acked[i-1].rev {
			return fmt.Sprintf("two-writes-at-revision-%d", acked[i].rev)
		}
	}
	for _, w := range ws {
		w.mu.Lock()
		events, err := w.events, w.err
		w.mu.Unlock()
		if err != nil {
			return fmt.Sprintf("watch-error:%s:%v", w.prefix, err)
		}
		var want []write
		for _, a := range acked {
			if strings.HasPrefix(a.key, w.prefix) {
				want = append(want, a)
			}
		}
		if msg := compare(w.prefix, events, want, failed); msg != "" {
			return msg
		}
	}
	return "ok"
}

// compare: events in strictly increasing revision order, each acknowledged
// write exactly once, and no other event unless some request failed (a
// write that timed out may still have been applied). prev_kv of an update
// or delete must be the key's previous event in the stream, when that was seen.
func compare(prefix string, events []*mvccpb.Event, want []write, failed int64) string {
	last := int64(0)
	lastOf := map[string]int64{}
	got := map[int64]*mvccpb.Event{}
	for _, ev := range events {
		rev := ev.Kv.ModRevision
		if rev <= last {
			return fmt.Sprintf("out-of-order:%s:rev-%d-after-%d", prefix, rev, last)
		}
		last = rev
		key := string(ev.Kv.Key)
		isCreate := ev.Type == mvccpb.PUT && ev.Kv.Version == 1
		if prevRev, seen := lastOf[key]; seen && !isCreate {
			if ev.PrevKv == nil || ev.PrevKv.ModRevision != prevRev {
				return fmt.Sprintf("wrong-prev-kv:%s:%s@%d", prefix, key, rev)
			}
		}
		if ev.Type == mvccpb.DELETE {
			delete(lastOf, key)
		} else {
			lastOf[key] = rev
		}
		got[rev] = ev
	}
	for _, a := range want {
		ev, ok := got[a.rev]
		if !ok {
			return fmt.Sprintf("missing:%s:%s@%d", prefix, a.key, a.rev)
		}
		if string(ev.Kv.Key) != a.key || (ev.Type == mvccpb.DELETE) != a.deleted {
			return fmt.Sprintf("wrong-event:%s:%s@%d", prefix, a.key, a.rev)
		}
		delete(got, a.rev)
	}
	if len(got) > 0 && failed == 0 {
		for rev, ev := range got {
			return fmt.Sprintf("unacknowledged-event:%s:%s@%d", prefix, ev.Kv.Key, rev)
		}
	}
	return ""
}
