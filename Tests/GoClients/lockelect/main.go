// lockelect drives etcd's server-side Lock and Election gRPC services
// (v3lockpb, v3electionpb) through Go's generated clients and fails (exit 1)
// on the first answer that differs from what etcd does. Run against real
// etcd and against swift-etcd, it must pass on both.
// Usage: lockelect -endpoint 127.0.0.1:2379
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/etcdserver/api/v3election/v3electionpb"
	"go.etcd.io/etcd/etcdserver/api/v3lock/v3lockpb"
)

var endpoint = flag.String("endpoint", "127.0.0.1:2379", "etcd endpoint")

func check(cond bool, format string, args ...interface{}) {
	if !cond {
		fmt.Fprintf(os.Stderr, "lockelect: FAIL: "+format+"\n", args...)
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
	locks := v3lockpb.NewLockClient(cli.ActiveConnection())
	elections := v3electionpb.NewElectionClient(cli.ActiveConnection())

	l1, err := cli.Grant(ctx, 30)
	must(err, "grant 1")
	l2, err := cli.Grant(ctx, 30)
	must(err, "grant 2")

	lockQueue(ctx, cli, locks, int64(l1.ID), int64(l2.ID))
	lockEdgeCases(ctx, cli, locks)
	election(ctx, cli, elections, int64(l1.ID), int64(l2.ID))
	fmt.Println("lockelect: all checks passed")
}

func lockQueue(ctx context.Context, cli *clientv3.Client, locks v3lockpb.LockClient, l1, l2 int64) {
	first, err := locks.Lock(ctx, &v3lockpb.LockRequest{Name: []byte("mylock"), Lease: l1})
	must(err, "lock 1")
	check(string(first.Key) == fmt.Sprintf("mylock/%x", l1), "lock 1 key %q", first.Key)
	check(first.Header.Revision > 0, "lock 1 header %v", first.Header)

	acquired := make(chan *v3lockpb.LockResponse, 1)
	go func() {
		r, err := locks.Lock(ctx, &v3lockpb.LockRequest{Name: []byte("mylock"), Lease: l2})
		must(err, "lock 2")
		acquired <- r
	}()
	select {
	case <-acquired:
		check(false, "second lock acquired while the first is held")
	case <-time.After(500 * time.Millisecond):
	}
	// A third waiter gives up: its key must not stay in the queue.
	tctx, tcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = locks.Lock(tctx, &v3lockpb.LockRequest{Name: []byte("mylock")})
	tcancel()
	check(err != nil, "third lock should time out")

	un, err := locks.Unlock(ctx, &v3lockpb.UnlockRequest{Key: first.Key})
	must(err, "unlock 1")
	var second *v3lockpb.LockResponse
	select {
	case second = <-acquired:
	case <-time.After(10 * time.Second):
		check(false, "second lock not acquired after unlock")
	}
	check(string(second.Key) == fmt.Sprintf("mylock/%x", l2), "lock 2 key %q", second.Key)
	check(second.Header.Revision >= un.Header.Revision, "lock 2 header %d before unlock %d", second.Header.Revision, un.Header.Revision)
	deadline := time.Now().Add(5 * time.Second)
	for {
		held, err := cli.Get(ctx, "mylock/", clientv3.WithPrefix())
		must(err, "get lock keys")
		if len(held.Kvs) == 1 {
			check(string(held.Kvs[0].Key) == string(second.Key), "holder %q", held.Kvs[0].Key)
			check(held.Kvs[0].Lease == l2, "lock key lease %d", held.Kvs[0].Lease)
			break
		}
		check(time.Now().Before(deadline), "abandoned waiter's key left behind: %d keys", len(held.Kvs))
		time.Sleep(50 * time.Millisecond)
	}
	_, err = locks.Unlock(ctx, &v3lockpb.UnlockRequest{Key: second.Key})
	must(err, "unlock 2")
}

func lockEdgeCases(ctx context.Context, cli *clientv3.Client, locks v3lockpb.LockClient) {
	// No lease: the server grants one (etcd's session default TTL, 60 s).
	r, err := locks.Lock(ctx, &v3lockpb.LockRequest{Name: []byte("nolease")})
	must(err, "lock without lease")
	got, err := cli.Get(ctx, string(r.Key))
	must(err, "get nolease key")
	check(len(got.Kvs) == 1 && got.Kvs[0].Lease != 0, "lock key without a lease: %v", got.Kvs)
	ttl, err := cli.TimeToLive(ctx, clientv3.LeaseID(got.Kvs[0].Lease))
	must(err, "ttl")
	check(ttl.GrantedTTL == 60, "granted TTL %d", ttl.GrantedTTL)
	_, err = cli.Revoke(ctx, clientv3.LeaseID(got.Kvs[0].Lease))
	must(err, "revoke")

	_, err = locks.Lock(ctx, &v3lockpb.LockRequest{Name: []byte("badlease"), Lease: 123456789})
	check(err != nil && strings.Contains(err.Error(), "requested lease not found"), "lock with unknown lease: %v", err)

	// Unlocking a key nobody holds is not an error.
	_, err = locks.Unlock(ctx, &v3lockpb.UnlockRequest{Key: []byte("mylock/nothing")})
	must(err, "unlock of a missing key")
}

func election(ctx context.Context, cli *clientv3.Client, el v3electionpb.ElectionClient, l1, l2 int64) {
	_, err := el.Leader(ctx, &v3electionpb.LeaderRequest{Name: []byte("e")})
	check(err != nil && strings.Contains(err.Error(), "election: no leader"), "leader of empty election: %v", err)

	octx, ocancel := context.WithCancel(ctx)
	defer ocancel()
	obs, err := el.Observe(octx, &v3electionpb.LeaderRequest{Name: []byte("e")})
	must(err, "observe")
	seen := make(chan string, 16)
	go func() {
		for {
			r, err := obs.Recv()
			if err != nil {
				close(seen)
				return
			}
			seen <- string(r.Kv.Value)
		}
	}()

	c1, err := el.Campaign(ctx, &v3electionpb.CampaignRequest{Name: []byte("e"), Lease: l1, Value: []byte("a")})
	must(err, "campaign 1")
	leader := c1.Leader
	check(string(leader.Key) == fmt.Sprintf("e/%x", l1) && leader.Lease == l1 && string(leader.Name) == "e", "leader key %v", leader)
	check(leader.Rev == c1.Header.Revision, "leader rev %d header %d", leader.Rev, c1.Header.Revision)
	lr, err := el.Leader(ctx, &v3electionpb.LeaderRequest{Name: []byte("e")})
	must(err, "leader")
	check(string(lr.Kv.Value) == "a" && lr.Kv.CreateRevision == leader.Rev, "leader value %q", lr.Kv.Value)

	_, err = el.Proclaim(ctx, &v3electionpb.ProclaimRequest{Leader: leader, Value: []byte("b")})
	must(err, "proclaim")
	stale := *leader
	stale.Rev = leader.Rev - 1
	_, err = el.Proclaim(ctx, &v3electionpb.ProclaimRequest{Leader: &stale, Value: []byte("x")})
	check(err != nil && strings.Contains(err.Error(), "election: not leader"), "proclaim by a stale leader: %v", err)
	_, err = el.Proclaim(ctx, &v3electionpb.ProclaimRequest{Value: []byte("x")})
	check(err != nil && strings.Contains(err.Error(), `"leader" field must be provided`), "proclaim without leader: %v", err)

	won := make(chan *v3electionpb.CampaignResponse, 1)
	go func() {
		r, err := el.Campaign(ctx, &v3electionpb.CampaignRequest{Name: []byte("e"), Lease: l2, Value: []byte("c")})
		must(err, "campaign 2")
		won <- r
	}()
	select {
	case <-won:
		check(false, "second candidate won while the first leads")
	case <-time.After(500 * time.Millisecond):
	}
	_, err = el.Resign(ctx, &v3electionpb.ResignRequest{Leader: leader})
	must(err, "resign")
	var c2 *v3electionpb.CampaignResponse
	select {
	case c2 = <-won:
	case <-time.After(10 * time.Second):
		check(false, "second candidate did not win after resign")
	}
	check(string(c2.Leader.Key) == fmt.Sprintf("e/%x", l2), "leader 2 key %q", c2.Leader.Key)

	var values []string
	timeout := time.After(10 * time.Second)
	for len(values) < 3 {
		select {
		case v, ok := <-seen:
			check(ok, "observe stream ended early after %v", values)
			values = append(values, v)
		case <-timeout:
			check(false, "observe saw only %v", values)
		}
	}
	check(strings.Join(values, ",") == "a,b,c", "observe saw %v", values)
	_, err = el.Resign(ctx, &v3electionpb.ResignRequest{Leader: c2.Leader})
	must(err, "resign 2")
}
