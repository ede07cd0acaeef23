// watchlease drives Watch and Lease through Go's clientv3: a watch with
// WithProgressNotify and RequestProgress, concurrency.Session keep-alives,
// and concurrency.Mutex lock/unlock between two sessions. It fails (exit 1)
// on the first answer that differs from etcd's.
// Usage: watchlease -endpoint 127.0.0.1:2379
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/concurrency"
)

var endpoint = flag.String("endpoint", "127.0.0.1:2379", "etcd endpoint")

func check(cond bool, format string, args ...interface{}) {
	if !cond {
		fmt.Fprintf(os.Stderr, "watchlease: FAIL: "+format+"\n", args...)
		os.Exit(1)
	}
}

func must(err error, what string) {
	check(err == nil, "%s: %v", what, err)
}

func main() {
	flag.Parse()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second})
	must(err, "connect")
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	watchWithProgress(ctx, cli)
	sessionsAndMutex(ctx, cli)
	fmt.Println("watchlease: ok")
}

func watchWithProgress(ctx context.Context, cli *clientv3.Client) {
	put, err := cli.Put(ctx, "wl/a", "1")
	must(err, "put")
	wctx, wcancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer wcancel()
	wch := cli.Watch(wctx, "wl/", clientv3.WithPrefix(), clientv3.WithRev(put.Header.Revision),
		clientv3.WithProgressNotify(), clientv3.WithPrevKV())

	// History first: the put before the watch.
	resp := <-wch
	must(resp.Err(), "watch")
	check(len(resp.Events) == 1 && string(resp.Events[0].Kv.Key) == "wl/a", "history: %+v", resp.Events)

	_, err = cli.Put(ctx, "wl/a", "2")
	must(err, "put 2")
	resp = <-wch
	must(resp.Err(), "watch live")
	check(len(resp.Events) == 1 && resp.Events[0].PrevKv != nil && string(resp.Events[0].PrevKv.Value) == "1",
		"live event with prev kv: %+v", resp.Events)
	last := resp.Header.Revision

	// A progress request is answered with an empty notification at the
	// current revision.
	must(cli.RequestProgress(wctx), "request progress")
	resp = <-wch
	must(resp.Err(), "watch progress")
	check(resp.IsProgressNotify(), "expected a progress notification, got %+v", resp)
	check(resp.Header.Revision == last, "progress revision %d, want %d", resp.Header.Revision, last)

	_, err = cli.Delete(ctx, "wl/a")
	must(err, "delete")
	resp = <-wch
	check(len(resp.Events) == 1 && resp.Events[0].Type == clientv3.EventTypeDelete, "delete event: %+v", resp.Events)

	// Idle: periodic progress notifications arrive by themselves (the test
	// runs the server with a 1 s --experimental-watch-progress-notify-interval).
	select {
	case resp = <-wch:
		check(resp.IsProgressNotify(), "expected a periodic progress notification, got %+v", resp)
	case <-time.After(10 * time.Second):
		check(false, "no periodic progress notification")
	}
}

func sessionsAndMutex(ctx context.Context, cli *clientv3.Client) {
	s1, err := concurrency.NewSession(cli, concurrency.WithTTL(5))
	must(err, "session 1")
	defer s1.Close()
	s2, err := concurrency.NewSession(cli, concurrency.WithTTL(5))
	must(err, "session 2")
	defer s2.Close()

	ttl, err := cli.TimeToLive(ctx, s1.Lease())
	must(err, "timetolive")
	check(ttl.GrantedTTL == 5 && ttl.TTL > 0, "session lease TTL: %+v", ttl)

	m1 := concurrency.NewMutex(s1, "/wl-lock/")
	m2 := concurrency.NewMutex(s2, "/wl-lock/")
	must(m1.Lock(ctx), "lock 1")

	acquired := make(chan error, 1)
	go func() { acquired <- m2.Lock(ctx) }()
	select {
	case err := <-acquired:
		check(false, "second session got the lock while the first holds it (%v)", err)
	case <-time.After(1500 * time.Millisecond):
	}
	// Keep-alives run meanwhile; outlive the TTL to prove they work.
	time.Sleep(6 * time.Second)
	select {
	case <-s1.Done():
		check(false, "session 1 expired despite keep-alives")
	default:
	}
	must(m1.Unlock(ctx), "unlock 1")
	select {
	case err := <-acquired:
		must(err, "lock 2")
	case <-time.After(10 * time.Second):
		check(false, "second session never got the lock")
	}
	must(m2.Unlock(ctx), "unlock 2")

	// Revoking a session's lease deletes its keys.
	_, err = cli.Put(ctx, "wl/owned", "x", clientv3.WithLease(s2.Lease()))
	must(err, "put with lease")
	_, err = cli.Revoke(ctx, s2.Lease())
	must(err, "revoke")
	get, err := cli.Get(ctx, "wl/owned")
	must(err, "get")
	check(len(get.Kvs) == 0, "key survived its lease's revoke")
}
