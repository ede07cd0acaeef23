package main

import (
	"context"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/mvcc/mvccpb"
)

// op is one client operation as the client saw it. Times are since the run
// started (Go's monotonic clock). An op whose outcome is unknown (error or
// timeout) may or may not have taken effect.
type op struct {
	client  int
	kind    string // put, cas, get, sget (serializable), leaseput, revoke
	key     string
	value   string // put/cas: the value written (unique in the run); get: the value read
	prevRev int64  // cas: the mod_revision compared
	rev     int64  // put/cas/leaseput: the write's revision (header); get: the key's mod_revision
	header  int64  // header revision of the answer
	found   bool   // get: the key exists
	ok      bool   // the answer arrived (false: unknown outcome)
	success bool   // cas: the txn's compare held
	lease   int64
	invoke  time.Duration
	ret     time.Duration
	err     string
}

// event is one watch event as a watcher received it.
type event struct {
	rev, modRev, createRev, version int64
	key, value                      string
	delete                          bool
	received                        time.Duration
}

type recorder struct {
	start time.Time
	mu    sync.Mutex
	ops   []op
}

func (r *recorder) now() time.Duration { return time.Since(r.start) }

func (r *recorder) add(o op) {
	r.mu.Lock()
	r.ops = append(r.ops, o)
	r.mu.Unlock()
}

const prefix = "chaos/"

// kvClient does random puts, CAS txns on mod_revision, and linearizable and
// serializable gets on a few keys until stop closes.
func kvClient(id int, cli *clientv3.Client, rec *recorder, keys int, timeout time.Duration, rng *rand.Rand, stop <-chan struct{}) {
	for seq := 0; ; seq++ {
		select {
		case <-stop:
			return
		default:
		}
		key := fmt.Sprintf("%skv/%02d", prefix, rng.Intn(keys))
		value := fmt.Sprintf("c%d-%d", id, seq)
		n := rng.Intn(20)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		o := op{client: id, key: key, invoke: rec.now()}
		switch {
		case n < 7:
			o.kind, o.value = "put", value
			resp, err := cli.Put(ctx, key, value)
			o.ret = rec.now()
			if err == nil {
				o.ok, o.rev, o.header = true, resp.Header.Revision, resp.Header.Revision
			} else {
				o.err = err.Error()
			}
		case n < 13:
			// Read the key (linearizable), then CAS on its mod_revision.
			get := read(ctx, cli, rec, id, key, false)
			rec.add(get)
			if !get.ok {
				cancel()
				continue
			}
			o = op{client: id, kind: "cas", key: key, value: value, invoke: rec.now()}
			if get.found {
				o.prevRev = get.rev
			}
			resp, err := cli.Txn(ctx).
				If(clientv3.Compare(clientv3.ModRevision(key), "=", o.prevRev)).
				Then(clientv3.OpPut(key, value)).Commit()
			o.ret = rec.now()
			if err == nil {
				o.ok, o.success, o.header = true, resp.Succeeded, resp.Header.Revision
				if resp.Succeeded {
					o.rev = resp.Header.Revision
				}
			} else {
				o.err = err.Error()
			}
		default:
			o = read(ctx, cli, rec, id, key, n >= 17)
		}
		cancel()
		rec.add(o)
	}
}

func read(ctx context.Context, cli *clientv3.Client, rec *recorder, id int, key string, serializable bool) op {
	o := op{client: id, kind: "get", key: key, invoke: rec.now()}
	var opts []clientv3.OpOption
	if serializable {
		o.kind = "sget"
		opts = append(opts, clientv3.WithSerializable())
	}
	resp, err := cli.Get(ctx, key, opts...)
	o.ret = rec.now()
	if err != nil {
		o.err = err.Error()
		return o
	}
	o.ok, o.header = true, resp.Header.Revision
	if len(resp.Kvs) > 0 {
		o.found, o.value, o.rev = true, string(resp.Kvs[0].Value), resp.Kvs[0].ModRevision
	}
	return o
}

// leaseClient grants a lease, keeps it alive, puts one key on it, holds it a
// while and revokes it; the keep-alive answers' largest gap is recorded.
type leaseRecord struct {
	id        int64
	key       string
	ttl       int64
	maxGap    time.Duration // largest gap between keep-alive answers before the revoke
	revokeAt  time.Duration // when the revoke was sent (0: never)
	revokedOK bool
	revokeRev int64
}

func leaseClient(id int, cli *clientv3.Client, rec *recorder, timeout time.Duration, rng *rand.Rand,
	stop <-chan struct{}, leasesOut chan<- leaseRecord) {
	for seq := 0; ; seq++ {
		select {
		case <-stop:
			return
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		grant, err := cli.Grant(ctx, 6)
		cancel()
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		lr := leaseRecord{id: int64(grant.ID), ttl: grant.TTL, key: fmt.Sprintf("%slease/%d/%d", prefix, id, seq)}
		kaCtx, kaCancel := context.WithCancel(context.Background())
		ka, err := cli.KeepAlive(kaCtx, grant.ID)
		var gapMu sync.Mutex
		last := rec.now()
		done := make(chan struct{})
		if err == nil {
			go func() {
				defer close(done)
				for range ka {
					gapMu.Lock()
					now := rec.now()
					if now-last > lr.maxGap {
						lr.maxGap = now - last
					}
					last = now
					gapMu.Unlock()
				}
			}()
		} else {
			close(done)
		}
		ctx, cancel = context.WithTimeout(context.Background(), timeout)
		o := op{client: id, kind: "leaseput", key: lr.key, value: fmt.Sprintf("l%d-%d", id, seq), lease: lr.id, invoke: rec.now()}
		resp, err := cli.Put(ctx, lr.key, o.value, clientv3.WithLease(grant.ID))
		o.ret = rec.now()
		cancel()
		if err == nil {
			o.ok, o.rev, o.header = true, resp.Header.Revision, resp.Header.Revision
		} else {
			o.err = err.Error()
		}
		rec.add(o)
		select {
		case <-stop:
		case <-time.After(time.Duration(500+rng.Intn(3000)) * time.Millisecond):
		}
		gapMu.Lock()
		if now := rec.now(); now-last > lr.maxGap {
			lr.maxGap = now - last
		}
		lr.revokeAt = rec.now()
		gapMu.Unlock()
		ctx, cancel = context.WithTimeout(context.Background(), timeout)
		rv := op{client: id, kind: "revoke", key: lr.key, lease: lr.id, invoke: lr.revokeAt}
		rresp, err := cli.Revoke(ctx, grant.ID)
		rv.ret = rec.now()
		cancel()
		if err == nil {
			rv.ok, rv.header = true, rresp.Header.Revision
			lr.revokedOK, lr.revokeRev = true, rresp.Header.Revision
		} else {
			rv.err = err.Error()
		}
		rec.add(rv)
		kaCancel()
		<-done
		leasesOut <- lr
	}
}

// watcher records every event under prefix from revision 1 on; progress is
// the last revision it received (the nemesis compacts below the slowest).
type watcher struct {
	id       int
	events   []event
	progress int64 // atomic
	failure  string
	mu       sync.Mutex
}

func (w *watcher) run(cli *clientv3.Client, rec *recorder, stop <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wch := cli.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(1))
	for {
		select {
		case <-stop:
			return
		case resp, ok := <-wch:
			if !ok {
				w.setFailure("watch channel closed")
				return
			}
			if err := resp.Err(); err != nil {
				w.setFailure(fmt.Sprintf("watch error: %v (compact revision %d)", err, resp.CompactRevision))
				return
			}
			now := rec.now()
			w.mu.Lock()
			for _, ev := range resp.Events {
				e := event{rev: ev.Kv.ModRevision, modRev: ev.Kv.ModRevision, createRev: ev.Kv.CreateRevision,
					version: ev.Kv.Version, key: string(ev.Kv.Key), value: string(ev.Kv.Value),
					delete: ev.Type == mvccpb.DELETE, received: now}
				w.events = append(w.events, e)
			}
			w.mu.Unlock()
			if n := len(resp.Events); n > 0 {
				atomic.StoreInt64(&w.progress, resp.Events[n-1].Kv.ModRevision)
			}
		}
	}
}

func (w *watcher) setFailure(s string) {
	w.mu.Lock()
	if w.failure == "" {
		w.failure = s
	}
	w.mu.Unlock()
}

func (w *watcher) snapshot() ([]event, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]event{}, w.events...), w.failure
}
