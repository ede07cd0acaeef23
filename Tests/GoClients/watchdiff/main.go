// watchdiff runs the same seeded random workload (puts, deletes, txns,
// leases, compactions) against two endpoints, each watched by the same set
// of watches (prefix, single key, all keys with prev_kv, filtered, and a
// historical one), and fails when the event streams differ.
// Usage: watchdiff -a ours:port -b etcd:port -seed 1 -ops 500
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"time"

	"go.etcd.io/etcd/clientv3"
)

var (
	epA  = flag.String("a", "", "first endpoint (ours)")
	epB  = flag.String("b", "", "second endpoint (reference)")
	seed = flag.Int64("seed", 1, "random seed")
	ops  = flag.Int("ops", 500, "operations")
)

type watchDef struct {
	name string
	key  string
	opts []clientv3.OpOption
}

var defs = []watchDef{
	{"prefix-a", "a", []clientv3.OpOption{clientv3.WithPrefix()}},
	{"key-b1", "b1", nil},
	{"all-prevkv", "\x00", []clientv3.OpOption{clientv3.WithFromKey(), clientv3.WithPrevKV()}},
	{"range-a-c-noput", "a", []clientv3.OpOption{clientv3.WithRange("c"), clientv3.WithFilterPut()}},
	{"history-rev2", "", []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithRev(2)}},
}

// flat is one event as compared: type, key, value, revisions, lease, prev value.
type flat struct {
	Type                string
	Key, Value          string
	Create, Mod, Ver, L int64
	Prev                string
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "watchdiff: "+format+"\n", args...)
	os.Exit(1)
}

type side struct {
	cli    *clientv3.Client
	events map[string][]flat
	chans  map[string]clientv3.WatchChan
}

func open(ep string) *side {
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, DialTimeout: 5 * time.Second})
	if err != nil {
		fail("connect %s: %v", ep, err)
	}
	s := &side{cli: cli, events: map[string][]flat{}, chans: map[string]clientv3.WatchChan{}}
	for _, d := range defs {
		opts := append([]clientv3.OpOption{clientv3.WithCreatedNotify()}, d.opts...)
		ch := cli.Watch(context.Background(), d.key, opts...)
		<-ch
		s.chans[d.name] = ch
	}
	return s
}

// drain collects events until `rev` was seen on every watch (or timeout).
func (s *side) drain(rev int64) {
	for _, d := range defs {
		ch := s.chans[d.name]
		deadline := time.After(3 * time.Second)
	collect:
		for {
			evs := s.events[d.name]
			if len(evs) > 0 && evs[len(evs)-1].Mod >= rev {
				break collect
			}
			select {
			case resp, ok := <-ch:
				if !ok {
					fail("watch %s: channel closed", d.name)
				}
				if err := resp.Err(); err != nil {
					fail("watch %s: %v", d.name, err)
				}
				for _, e := range resp.Events {
					f := flat{Type: e.Type.String(), Key: string(e.Kv.Key), Value: string(e.Kv.Value),
						Create: e.Kv.CreateRevision, Mod: e.Kv.ModRevision, Ver: e.Kv.Version}
					if e.Kv.Lease != 0 {
						f.L = 1 // lease IDs differ between servers; only presence counts
					}
					if e.PrevKv != nil {
						f.Prev = string(e.PrevKv.Value)
					}
					s.events[d.name] = append(s.events[d.name], f)
				}
			case <-deadline:
				break collect // the watch may not match the last revisions: compare what came
			}
		}
	}
}

func main() {
	flag.Parse()
	a, b := open(*epA), open(*epB)
	rng := rand.New(rand.NewSource(*seed))
	ctx := context.Background()
	keys := []string{"a", "a1", "a2", "ab", "b", "b1", "b2", "c"}
	var leasesA, leasesB []clientv3.LeaseID
	var last int64
	for i := 0; i < *ops; i++ {
		k := keys[rng.Intn(len(keys))]
		v := fmt.Sprintf("v%d", rng.Intn(1000))
		var ra *clientv3.PutResponse
		var err error
		switch op := rng.Intn(10); {
		case op < 5:
			ra, err = a.cli.Put(ctx, k, v)
			if err == nil {
				_, err = b.cli.Put(ctx, k, v)
			}
			if err == nil {
				last = ra.Header.Revision
			}
		case op < 7:
			var da *clientv3.DeleteResponse
			da, err = a.cli.Delete(ctx, k, clientv3.WithPrefix())
			if err == nil {
				_, err = b.cli.Delete(ctx, k, clientv3.WithPrefix())
				last = da.Header.Revision
			}
		case op < 8:
			t := func(c *clientv3.Client) (*clientv3.TxnResponse, error) {
				return c.Txn(ctx).If(clientv3.Compare(clientv3.Version(k), ">", 0)).
					Then(clientv3.OpPut(k, v), clientv3.OpPut(k+"x", v)).Else(clientv3.OpDelete(k + "x")).Commit()
			}
			var ta *clientv3.TxnResponse
			ta, err = t(a.cli)
			if err == nil {
				_, err = t(b.cli)
				last = ta.Header.Revision
			}
		case op < 9:
			ga, e1 := a.cli.Grant(ctx, 600)
			gb, e2 := b.cli.Grant(ctx, 600)
			if e1 != nil || e2 != nil {
				fail("grant: %v %v", e1, e2)
			}
			leasesA, leasesB = append(leasesA, ga.ID), append(leasesB, gb.ID)
			ra, err = a.cli.Put(ctx, k, v, clientv3.WithLease(ga.ID))
			if err == nil {
				_, err = b.cli.Put(ctx, k, v, clientv3.WithLease(gb.ID))
				last = ra.Header.Revision
			}
		default:
			if len(leasesA) == 0 {
				continue
			}
			j := rng.Intn(len(leasesA))
			ka, e1 := a.cli.Revoke(ctx, leasesA[j])
			_, e2 := b.cli.Revoke(ctx, leasesB[j])
			if (e1 == nil) != (e2 == nil) {
				fail("revoke differs: %v vs %v", e1, e2)
			}
			if e1 == nil {
				last = ka.Header.Revision
			}
			leasesA, leasesB = append(leasesA[:j], leasesA[j+1:]...), append(leasesB[:j], leasesB[j+1:]...)
		}
		if err != nil {
			fail("op %d: %v", i, err)
		}
	}
	a.drain(last)
	b.drain(last)
	total := 0
	for _, d := range defs {
		ea, eb := a.events[d.name], b.events[d.name]
		if !reflect.DeepEqual(ea, eb) {
			n := len(ea)
			if len(eb) < n {
				n = len(eb)
			}
			for i := 0; i < n; i++ {
				if ea[i] != eb[i] {
					fail("watch %s differs at event %d: ours %+v, etcd %+v", d.name, i, ea[i], eb[i])
				}
			}
			fail("watch %s: ours %d events, etcd %d", d.name, len(ea), len(eb))
		}
		total += len(ea)
		fmt.Printf("%s: %d events\n", d.name, len(ea))
	}
	fmt.Printf("watchdiff: %d events on %d watches identical\n", total, len(defs))
}
