// watchbench measures watch fan-out latency (put acknowledged → event
// delivered to each of many watchers) and lease keep-alive throughput.
// Usage: watchbench -endpoint 127.0.0.1:2379 -mode fanout|keepalive
// Prints one line: "fanout watchers=… puts=… p50ms=… p99ms=…" or
// "keepalive clients=… rate=…".
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
	"google.golang.org/grpc"
)

var (
	endpoint = flag.String("endpoint", "127.0.0.1:2379", "etcd endpoint")
	mode     = flag.String("mode", "fanout", "fanout or keepalive")
	watchers = flag.Int("watchers", 1000, "watchers (fanout)")
	puts     = flag.Int("puts", 2000, "puts (fanout)")
	conns    = flag.Int("conns", 10, "client connections")
	clients  = flag.Int("clients", 100, "keep-alive clients")
	seconds  = flag.Int("seconds", 10, "keep-alive duration")
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "watchbench: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	flag.Parse()
	switch *mode {
	case "fanout":
		fanout()
	case "keepalive":
		keepalive()
	default:
		fail("unknown mode %q", *mode)
	}
}

func fanout() {
	ctx := context.Background()
	cs := make([]*clientv3.Client, *conns)
	for i := range cs {
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second})
		if err != nil {
			fail("connect: %v", err)
		}
		cs[i] = c
	}
	start, err := cs[0].Put(ctx, "wb/start", "x")
	if err != nil {
		fail("put: %v", err)
	}
	first := start.Header.Revision + 1
	// received[w][i]: when watcher w got the event of put i.
	received := make([][]time.Time, *watchers)
	var ready, done sync.WaitGroup
	for w := 0; w < *watchers; w++ {
		received[w] = make([]time.Time, *puts)
		ready.Add(1)
		done.Add(1)
		go func(w int) {
			defer done.Done()
			ch := cs[w%*conns].Watch(ctx, "wb/k", clientv3.WithPrefix(), clientv3.WithCreatedNotify())
			<-ch
			ready.Done()
			got := 0
			for resp := range ch {
				now := time.Now()
				for _, ev := range resp.Events {
					i := int(ev.Kv.ModRevision - first)
					if i >= 0 && i < *puts {
						received[w][i] = now
						got++
					}
				}
				if got >= *puts {
					return
				}
			}
		}(w)
	}
	ready.Wait()
	acked := make([]time.Time, *puts)
	for i := 0; i < *puts; i++ {
		r, err := cs[0].Put(ctx, fmt.Sprintf("wb/k%d", i%100), "v")
		if err != nil {
			fail("put: %v", err)
		}
		acked[i] = time.Now()
		if r.Header.Revision != first+int64(i) {
			fail("unexpected revision %d", r.Header.Revision)
		}
	}
	waitOrFail(&done, 120*time.Second)
	lat := make([]float64, 0, *watchers**puts)
	for w := range received {
		for i, t := range received[w] {
			d := t.Sub(acked[i]).Seconds() * 1000
			if d < 0 {
				d = 0 // delivered before the put's answer reached the client
			}
			lat = append(lat, d)
		}
	}
	sort.Float64s(lat)
	fmt.Printf("fanout watchers=%d puts=%d p50ms=%.3f p99ms=%.3f\n", *watchers, *puts,
		lat[len(lat)/2], lat[len(lat)*99/100])
}

func waitOrFail(wg *sync.WaitGroup, d time.Duration) {
	c := make(chan struct{})
	go func() { wg.Wait(); close(c) }()
	select {
	case <-c:
	case <-time.After(d):
		fail("watchers did not get every event within %v", d)
	}
}

func keepalive() {
	ctx := context.Background()
	conn := make([]*grpc.ClientConn, *conns)
	for i := range conn {
		c, err := grpc.Dial(*endpoint, grpc.WithInsecure())
		if err != nil {
			fail("dial: %v", err)
		}
		conn[i] = c
	}
	var total int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	deadline := time.Now().Add(time.Duration(*seconds) * time.Second)
	for i := 0; i < *clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			lc := pb.NewLeaseClient(conn[i%*conns])
			g, err := lc.LeaseGrant(ctx, &pb.LeaseGrantRequest{TTL: 60})
			if err != nil {
				fail("grant: %v", err)
			}
			s, err := lc.LeaseKeepAlive(ctx)
			if err != nil {
				fail("keepalive: %v", err)
			}
			n := int64(0)
			for time.Now().Before(deadline) {
				if err := s.Send(&pb.LeaseKeepAliveRequest{ID: g.ID}); err != nil {
					fail("send: %v", err)
				}
				r, err := s.Recv()
				if err != nil || r.TTL != 60 {
					fail("recv: %v %v", r, err)
				}
				n++
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	fmt.Printf("keepalive clients=%d rate=%.0f\n", *clients, float64(total)/float64(*seconds))
}
