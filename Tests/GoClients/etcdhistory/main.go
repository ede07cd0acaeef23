// etcdhistory writes one deterministic history to an etcd endpoint, or
// prints everything an endpoint holds of its history as canonical text, so
// two servers (etcd and swift-etcd, before and after a snapshot trip) can
// be compared line by line.
//
//	etcdhistory -endpoint E -mode write -keys 100000 [-compact=true] [-after=true]
//	    puts keys "hist/%06d" (values 0..199 bytes, seeded) in txns of 128,
//	    overwrites every 7th, deletes every 11th and the range hist/00001*,
//	    writes keys of 600, 1000 and 5000 bytes, values of 1 MB and 200 kB,
//	    grants a lease (TTL 600) holding lease/a..c and one (TTL 900) holding
//	    none, compacts (physically) at the revision after the overwrites, then
//	    (-after) overwrites and deletes a few more, revokes nothing.
//	    Prints "revision R compact C".
//	etcdhistory -endpoint E -mode write-more -keys N
//	    N more puts "more/%06d" one request each (a WAL tail).
//	etcdhistory -endpoint E -mode dump
//	    prints: the revision, the compaction revision, HashKV at the
//	    current revision and at a revision between them, every lease with
//	    its granted TTL and keys, every key at the compaction revision (or
//	    none) with create/mod revision, version, lease and value digest, and
//	    every event after it, from a watch, as the same fields.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strings"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/mvcc/mvccpb"
)

var ctx = context.Background()

// portable: see the -portable flag. leaseNames maps IDs to their names then.
var portable bool
var leaseNames = map[int64]string{}

func leaseName(id int64) string {
	if !portable || id == 0 {
		return fmt.Sprintf("%x", id)
	}
	if n, ok := leaseNames[id]; ok {
		return n
	}
	return "unknown"
}

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "etcdhistory: %s: %v\n", what, err)
	os.Exit(1)
}

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:2379", "endpoint")
	mode := flag.String("mode", "dump", "write|write-more|dump")
	keys := flag.Int("keys", 1000, "write: keys")
	compact := flag.Bool("compact", true, "write: compact")
	after := flag.Bool("after", true, "write: changes after the compaction")
	flag.BoolVar(&portable, "portable", false, "dump: name leases L1, L2… by granted TTL and leave out HashKV (both depend on lease IDs, which differ between servers that ran the same history)")
	flag.Parse()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second,
		MaxCallSendMsgSize: 8 << 20, MaxCallRecvMsgSize: 256 << 20})
	if err != nil {
		die("connect", err)
	}
	defer cli.Close()
	switch *mode {
	case "write":
		write(cli, *keys, *compact, *after)
	case "write-more":
		for i := 0; i < *keys; i++ {
			if _, err := cli.Put(ctx, fmt.Sprintf("more/%06d", i), fmt.Sprintf("m%d", i)); err != nil {
				die("put more", err)
			}
		}
	case "dump":
		dump(cli)
	default:
		die("mode", fmt.Errorf("unknown %q", *mode))
	}
}

func key(i int) string { return fmt.Sprintf("hist/%06d", i) }

func write(cli *clientv3.Client, n int, compact, after bool) {
	rng := rand.New(rand.NewSource(16))
	value := func(i int) string { return strings.Repeat(string(rune('a'+i%26)), rng.Intn(200)) }
	var ops []clientv3.Op
	flush := func() {
		if len(ops) > 0 {
			if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
				die("txn", err)
			}
			ops = ops[:0]
		}
	}
	for i := 0; i < n; i++ {
		ops = append(ops, clientv3.OpPut(key(i), value(i)))
		if len(ops) == 128 {
			flush()
		}
	}
	flush()
	for i := 0; i < n; i += 7 {
		ops = append(ops, clientv3.OpPut(key(i), "overwritten"+value(i)))
		if len(ops) == 128 {
			flush()
		}
	}
	flush()
	compactAt := put(cli, "marker/compact-here", "x").Header.Revision
	for i := 0; i < n; i += 11 {
		ops = append(ops, clientv3.OpDelete(key(i)))
		if len(ops) == 128 {
			flush()
		}
	}
	flush()
	del(cli, "hist/00001", clientv3.WithPrefix())
	for i, size := range []int{600, 1000, 5000} {
		put(cli, "long/"+strings.Repeat("k", size)+fmt.Sprint(i), fmt.Sprintf("long value %d", i))
	}
	put(cli, "long/"+strings.Repeat("k", 600)+"0", "long value overwritten")
	put(cli, "big/1", strings.Repeat("B", 1<<20))
	put(cli, "big/2", strings.Repeat("b", 200<<10))
	l1, err := cli.Grant(ctx, 600)
	if err != nil {
		die("grant", err)
	}
	if _, err := cli.Grant(ctx, 900); err != nil {
		die("grant", err)
	}
	for _, k := range []string{"lease/a", "lease/b", "lease/c"} {
		put(cli, k, "leased", clientv3.WithLease(l1.ID))
	}
	compactRev := int64(-1)
	if compact {
		compactRev = compactAt
		if _, err := cli.Compact(ctx, compactRev, clientv3.WithCompactPhysical()); err != nil {
			die("compact", err)
		}
	}
	if after {
		put(cli, key(1), "after compaction")
		del(cli, key(3))
		del(cli, "lease/b")
		put(cli, "big/2", "small now")
		del(cli, "hist/0002", clientv3.WithPrefix())
	}
	r, err := cli.Get(ctx, "marker/")
	if err != nil {
		die("get", err)
	}
	fmt.Printf("revision %d compact %d\n", r.Header.Revision, compactRev)
}

func put(cli *clientv3.Client, k, v string, opts ...clientv3.OpOption) *clientv3.PutResponse {
	r, err := cli.Put(ctx, k, v, opts...)
	if err != nil {
		die("put "+showKey([]byte(k)), err)
	}
	return r
}

func del(cli *clientv3.Client, k string, opts ...clientv3.OpOption) {
	if _, err := cli.Delete(ctx, k, opts...); err != nil {
		die("delete "+k, err)
	}
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

func showKey(k []byte) string {
	if len(k) > 64 {
		return fmt.Sprintf("%s…(%d bytes, %s)", k[:32], len(k), digest(k))
	}
	return string(k)
}

func kvLine(prefix string, kv *mvccpb.KeyValue) string {
	return fmt.Sprintf("%s %s create=%d mod=%d version=%d lease=%s value=%d:%s", prefix, showKey(kv.Key),
		kv.CreateRevision, kv.ModRevision, kv.Version, leaseName(kv.Lease), len(kv.Value), digest(kv.Value))
}

func dump(cli *clientv3.Client) {
	h, err := cli.HashKV(ctx, cli.Endpoints()[0], 0)
	if err != nil {
		die("hashkv", err)
	}
	current, compact := h.Header.Revision, h.CompactRevision
	fmt.Printf("revision %d\ncompact %d\n", current, compact)
	if !portable {
		fmt.Printf("hashkv@current %d\n", h.Hash)
	}
	mid := (current + compact) / 2
	if compact < 1 {
		mid = current / 2
	}
	if !portable && mid > compact && mid > 0 {
		hm, err := cli.HashKV(ctx, cli.Endpoints()[0], mid)
		if err != nil {
			die("hashkv mid", err)
		}
		fmt.Printf("hashkv@%d %d\n", mid, hm.Hash)
	}
	leases, err := cli.Leases(ctx)
	if err != nil {
		die("leases", err)
	}
	type leaseInfo struct {
		id      int64
		granted int64
		keys    string
	}
	var infos []leaseInfo
	for _, l := range leases.Leases {
		t, err := cli.TimeToLive(ctx, l.ID, clientv3.WithAttachedKeys())
		if err != nil {
			die("ttl", err)
		}
		var ks []string
		for _, k := range t.Keys {
			ks = append(ks, string(k))
		}
		sort.Strings(ks)
		infos = append(infos, leaseInfo{int64(l.ID), t.GrantedTTL, strings.Join(ks, ",")})
	}
	sort.Slice(infos, func(i, j int) bool {
		if portable && infos[i].granted != infos[j].granted {
			return infos[i].granted < infos[j].granted
		}
		return infos[i].id < infos[j].id
	})
	for i, l := range infos {
		leaseNames[l.id] = fmt.Sprintf("L%d", i+1)
		fmt.Printf("lease %s granted=%d keys=%s\n", leaseName(l.id), l.granted, l.keys)
	}
	// The key space at the compaction revision (the oldest still readable), paged.
	base := compact
	if base < 1 {
		base = 1
	}
	from := "\x00"
	for {
		r, err := cli.Get(ctx, from, clientv3.WithFromKey(), clientv3.WithRev(base), clientv3.WithLimit(5000),
			clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
		if err != nil {
			die("get", err)
		}
		for _, kv := range r.Kvs {
			fmt.Println(kvLine("kv@base", kv))
		}
		if !r.More || len(r.Kvs) == 0 {
			break
		}
		from = string(r.Kvs[len(r.Kvs)-1].Key) + "\x00"
	}
	// Every change after it, in revision order.
	if current > base {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		w := cli.Watch(wctx, "\x00", clientv3.WithFromKey(), clientv3.WithRev(base+1))
		last := base
		for last < current {
			resp, ok := <-w
			if !ok || resp.Err() != nil {
				die("watch", resp.Err())
			}
			for _, ev := range resp.Events {
				if ev.Type == clientv3.EventTypeDelete {
					fmt.Printf("ev DELETE %s mod=%d\n", showKey(ev.Kv.Key), ev.Kv.ModRevision)
				} else {
					fmt.Println(kvLine("ev PUT", ev.Kv))
				}
				last = ev.Kv.ModRevision
			}
		}
	}
}
