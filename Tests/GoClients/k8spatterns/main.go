// k8spatterns drives an endpoint through clientv3 as a Kubernetes API
// server does at its edges and prints one line per outcome (answers and
// errors as code and message, no revisions or IDs that differ between
// servers), so a test can compare the output of a swift-etcd member with
// etcd 3.5.1's for the same flags. Exit 1 on a failure to connect only.
//
//	k8spatterns -endpoint 127.0.0.1:2379 -max-txn-ops 128 -max-request-bytes 1572864 -lease-keys 10000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"go.etcd.io/etcd/clientv3"
	"google.golang.org/grpc/status"
)

var (
	endpoint        = flag.String("endpoint", "127.0.0.1:2379", "etcd endpoint")
	maxTxnOps       = flag.Int("max-txn-ops", 128, "the server's --max-txn-ops")
	maxRequestBytes = flag.Int("max-request-bytes", 1572864, "the server's --max-request-bytes")
	leaseKeys       = flag.Int("lease-keys", 10000, "keys attached to the revoked lease")
	only            = flag.String("only", "", "run only the checks whose name contains this")
	noLeaderWait    = flag.Duration("no-leader-wait", 0, "instead of the checks: open watches, print \"watching\", and report for this long what becomes of them (the caller takes the quorum away)")
)

// describe gives an error as its gRPC code and message, or "ok".
func describe(err error) string {
	if err == nil {
		return "ok"
	}
	if s, ok := status.FromError(err); ok {
		return fmt.Sprintf("%s %q", s.Code(), s.Message())
	}
	return fmt.Sprintf("%T %q", err, err.Error())
}

func say(check string, format string, args ...interface{}) {
	fmt.Printf("%s: %s\n", check, fmt.Sprintf(format, args...))
}

func main() {
	flag.Parse()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second,
		MaxCallSendMsgSize: 64 << 20})
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(1)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Second)
	defer cancel()
	if *noLeaderWait > 0 {
		noLeader(ctx, cli)
		return
	}
	run := func(name string, f func(string)) {
		if *only == "" || strings.Contains(name, *only) {
			f(name)
		}
	}

	run("compacted-watch", func(n string) {
		p1, _ := cli.Put(ctx, "cw/a", "1")
		cli.Put(ctx, "cw/a", "2")
		p3, _ := cli.Put(ctx, "cw/a", "3")
		_, err := cli.Compact(ctx, p3.Header.Revision)
		say(n, "compact %s", describe(err))
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		defer wcancel()
		wch := cli.Watch(clientv3.WithRequireLeader(wctx), "cw/", clientv3.WithPrefix(), clientv3.WithRev(p1.Header.Revision))
		resp, ok := <-wch
		if !ok {
			say(n, "channel closed with no answer")
			return
		}
		say(n, "err %s canceled %v compact_revision_is_compaction %v events %d",
			describe(resp.Err()), resp.Canceled, resp.CompactRevision == p3.Header.Revision, len(resp.Events))
		_, ok = <-wch
		say(n, "channel open after %v", ok)
		// At the compaction revision itself the watch works.
		wch2 := cli.Watch(wctx, "cw/", clientv3.WithPrefix(), clientv3.WithRev(p3.Header.Revision))
		resp = <-wch2
		say(n, "at compaction: err %s events %d", describe(resp.Err()), len(resp.Events))
	})

	run("paginated-list", func(n string) {
		for i := 0; i < 10; i++ {
			cli.Put(ctx, fmt.Sprintf("pl/%02d", i), "v")
		}
		first, err := cli.Get(ctx, "pl/", clientv3.WithPrefix(), clientv3.WithLimit(3))
		say(n, "page1 %s kvs %d more %v count %d", describe(err), len(first.Kvs), first.More, first.Count)
		rev := first.Header.Revision
		next := string(first.Kvs[len(first.Kvs)-1].Key) + "\x00"
		second, err := cli.Get(ctx, next, clientv3.WithRange(clientv3.GetPrefixRangeEnd("pl/")), clientv3.WithLimit(3), clientv3.WithRev(rev))
		say(n, "page2 %s kvs %d more %v count %d", describe(err), len(second.Kvs), second.More, second.Count)
		cli.Put(ctx, "pl/00", "w")
		p, _ := cli.Put(ctx, "pl/00", "x")
		_, err = cli.Compact(ctx, p.Header.Revision)
		say(n, "compact %s", describe(err))
		_, err = cli.Get(ctx, next, clientv3.WithRange(clientv3.GetPrefixRangeEnd("pl/")), clientv3.WithLimit(3), clientv3.WithRev(rev))
		say(n, "page3 pinned to compacted revision: %s", describe(err))
		_, err = cli.Get(ctx, "pl/", clientv3.WithPrefix(), clientv3.WithRev(p.Header.Revision+100))
		say(n, "future revision: %s", describe(err))
	})

	run("count-only", func(n string) {
		for i := 0; i < 5; i++ {
			cli.Put(ctx, fmt.Sprintf("co/%d", i), "v")
		}
		for _, c := range []struct {
			name string
			opts []clientv3.OpOption
		}{
			{"prefix", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithCountOnly()}},
			{"range", []clientv3.OpOption{clientv3.WithRange("co/3"), clientv3.WithCountOnly()}},
			{"from-key", []clientv3.OpOption{clientv3.WithFromKey(), clientv3.WithCountOnly()}},
			{"limit", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithCountOnly(), clientv3.WithLimit(2)}},
			{"keys-only", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithCountOnly(), clientv3.WithKeysOnly()}},
			{"single", []clientv3.OpOption{clientv3.WithCountOnly()}},
		} {
			key := "co/"
			if c.name == "range" {
				key = "co/1"
			}
			if c.name == "single" {
				key = "co/2"
			}
			r, err := cli.Get(ctx, key, c.opts...)
			if err != nil {
				say(n, "%s %s", c.name, describe(err))
				continue
			}
			say(n, "%s count %d kvs %d more %v", c.name, r.Count, len(r.Kvs), r.More)
		}
	})

	run("txn-ops", func(n string) {
		ops := func(k int) []clientv3.Op {
			var o []clientv3.Op
			for i := 0; i < k; i++ {
				o = append(o, clientv3.OpPut(fmt.Sprintf("tx/%d", i), "v"))
			}
			return o
		}
		_, err := cli.Txn(ctx).Then(ops(*maxTxnOps)...).Commit()
		say(n, "at max %s", describe(err))
		_, err = cli.Txn(ctx).Then(ops(*maxTxnOps + 1)...).Commit()
		say(n, "one over %s", describe(err))
		var cmps []clientv3.Cmp
		for i := 0; i < *maxTxnOps+1; i++ {
			cmps = append(cmps, clientv3.Compare(clientv3.Version(fmt.Sprintf("tx/%d", i)), ">", -1))
		}
		_, err = cli.Txn(ctx).If(cmps...).Commit()
		say(n, "compares over %s", describe(err))
		_, err = cli.Txn(ctx).Then(ops(*maxTxnOps / 2)...).Else(ops(*maxTxnOps/2 + 1)...).Commit()
		say(n, "then+else over %s", describe(err))
		var gets []clientv3.Op
		for i := 0; i < *maxTxnOps+1; i++ {
			gets = append(gets, clientv3.OpGet(fmt.Sprintf("tx/%d", i)))
		}
		_, err = cli.Txn(ctx).Then(gets...).Commit()
		say(n, "read-only over %s", describe(err))
		_, err = cli.Txn(ctx).Then(clientv3.OpPut("tx/dup", "1"), clientv3.OpPut("tx/dup", "2")).Commit()
		say(n, "duplicate key %s", describe(err))
	})

	run("request-size", func(n string) {
		// A Put's encoding: key field, value field; find the largest value that fits.
		key := "rs/k"
		overhead := func(v int) int {
			vl := 1
			for x := v; x >= 0x80; x >>= 7 {
				vl++
			}
			return 2 + len(key) + 1 + vl + v
		}
		v := *maxRequestBytes - 16
		for overhead(v) > *maxRequestBytes {
			v--
		}
		for overhead(v+1) <= *maxRequestBytes {
			v++
		}
		_, err := cli.Put(ctx, key, strings.Repeat("x", v))
		say(n, "exactly max %s", describe(err))
		_, err = cli.Put(ctx, key, strings.Repeat("x", v+1))
		say(n, "one byte over %s", describe(err))
		// (The largest value that fits is FlagBehaviourTests' business: the
		// Raft entry is what etcd limits, and request IDs differ in length.)
		_, err = cli.Put(ctx, key, strings.Repeat("x", *maxRequestBytes+600*1024))
		say(n, "past grpc limit %s", describe(err))
		var big []clientv3.Op
		for i := 0; i < 4; i++ {
			big = append(big, clientv3.OpPut(fmt.Sprintf("rs/%d", i), strings.Repeat("y", *maxRequestBytes/4)))
		}
		_, err = cli.Txn(ctx).Then(big...).Commit()
		say(n, "txn over %s", describe(err))
	})

	run("lease-revoke-watch", func(n string) {
		lease, err := cli.Grant(ctx, 600)
		say(n, "grant %s", describe(err))
		if err != nil {
			return
		}
		wctx, wcancel := context.WithCancel(ctx)
		defer wcancel()
		start, _ := cli.Put(ctx, "lr-start", "x")
		wch := cli.Watch(wctx, "lr/", clientv3.WithPrefix(), clientv3.WithRev(start.Header.Revision+1))
		for i := 0; i < *leaseKeys; i += 100 {
			var batch []clientv3.Op
			for j := i; j < i+100 && j < *leaseKeys; j++ {
				batch = append(batch, clientv3.OpPut(fmt.Sprintf("lr/%06d", j), "v", clientv3.WithLease(lease.ID)))
			}
			if _, err := cli.Txn(ctx).Then(batch...).Commit(); err != nil {
				say(n, "put %s", describe(err))
				return
			}
		}
		rv, err := cli.Revoke(ctx, lease.ID)
		say(n, "revoke %s", describe(err))
		revokeRev := rv.Header.Revision
		puts, deletes, outOfOrder, dup, wrongRev := 0, 0, 0, 0, 0
		seen := map[string]bool{}
		last := ""
		timeout := time.After(120 * time.Second)
	loop:
		for deletes < *leaseKeys {
			select {
			case resp, ok := <-wch:
				if !ok || resp.Err() != nil {
					say(n, "watch ended: %s", describe(resp.Err()))
					break loop
				}
				for _, e := range resp.Events {
					if e.Type == clientv3.EventTypePut {
						puts++
						continue
					}
					deletes++
					k := string(e.Kv.Key)
					if seen[k] {
						dup++
					}
					seen[k] = true
					if k < last {
						outOfOrder++
					}
					last = k
					if e.Kv.ModRevision != revokeRev {
						wrongRev++
					}
				}
			case <-timeout:
				break loop
			}
		}
		say(n, "puts %d deletes %d distinct %d duplicates %d out-of-order %d not-at-revoke-revision %d",
			puts, deletes, len(seen), dup, outOfOrder, wrongRev)
		ttl, err := cli.TimeToLive(ctx, lease.ID)
		if err == nil {
			say(n, "ttl after revoke %d", ttl.TTL)
		} else {
			say(n, "ttl after revoke %s", describe(err))
		}
	})
}

// noLeader watches with and without WithRequireLeader while the caller
// stops the other members: etcd cancels the first kind with "etcdserver:
// no leader" once its member has had no leader for a while (clientv3 then
// closes the channel after that error), and leaves the second open.
func noLeader(ctx context.Context, cli *clientv3.Client) {
	wctx, wcancel := context.WithTimeout(ctx, *noLeaderWait)
	defer wcancel()
	required := cli.Watch(clientv3.WithRequireLeader(wctx), "nl/", clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	plain := cli.Watch(wctx, "nl/", clientv3.WithPrefix(), clientv3.WithCreatedNotify())
	<-required
	<-plain
	fmt.Println("watching")
	start := time.Now()
	report := func(name string, ch clientv3.WatchChan, done chan<- string) {
		for {
			resp, ok := <-ch
			if !ok {
				done <- fmt.Sprintf("%s: closed", name)
				return
			}
			if err := resp.Err(); err != nil {
				done <- fmt.Sprintf("%s: %s canceled %v after-election-timeouts %v", name, describe(err), resp.Canceled,
					time.Since(start) > 2*time.Second)
				return
			}
		}
	}
	a, b := make(chan string, 1), make(chan string, 1)
	go report("require-leader", required, a)
	go report("plain", plain, b)
	select {
	case line := <-a:
		fmt.Println(line)
	case <-wctx.Done():
		fmt.Println("require-leader: still open")
	}
	select {
	case line := <-b:
		if wctx.Err() == nil {
			fmt.Println(line)
		} else {
			fmt.Println("plain: still open")
		}
	case <-wctx.Done():
		fmt.Println("plain: still open")
	}
}
