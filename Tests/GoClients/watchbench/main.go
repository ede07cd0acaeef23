// watchbench measures watch fan-out, writes under watchers, and lease
// keep-alive throughput.
// Usage: watchbench -endpoint 127.0.0.1:2379 -mode fanout|putwatched|keepalive
//
//   - fanout: -watchers watchers on one prefix, spread over -conns clients
//     (1: one client, all on one gRPC stream), and -puts sequential puts
//     from a separate client. Prints "fanout watchers=… puts=… secs=…
//     p50ms=… p99ms=…": secs from the first put to the moment every watcher
//     had every event; p50/p99 from a put's request to each watcher's
//     event (from the request, not the answer: an event may well arrive
//     before the put's answer).
//   - putwatched: the same watchers stay open while one client puts
//     -puts times back to back; prints "putwatched watchers=… ops=…
//     rate=… p50ms=… p99ms=…" (the writer's figures), after checking that
//     every watcher got every event.
//   - keepalive: "keepalive clients=… ops=… rate=…".
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
		fanout(false)
	case "putwatched":
		fanout(true)
	case "keepalive":
		keepalive()
	default:
		fail("unknown mode %q", *mode)
	}
}

func fanout(writerFigures bool) {
	ctx := context.Background()
	connect := func() *clientv3.Client {
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second})
		if err != nil {
			fail("connect: %v", err)
		}
		return c
	}
	cs := make([]*clientv3.Client, *conns)
	for i := range cs {
		cs[i] = connect()
	}
	writer := connect()
	start, err := writer.Put(ctx, "wb/start", "x")
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
					if i >= 0 && i < *puts && received[w][i].IsZero() {
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
	value := string(make([]byte, 256))
	sent := make([]time.Time, *puts)
	putLatency := make([]float64, *puts)
	began := time.Now()
	for i := 0; i < *puts; i++ {
		sent[i] = time.Now()
		r, err := writer.Put(ctx, fmt.Sprintf("wb/k%d", i%100), value)
		if err != nil {
			fail("put: %v", err)
		}
		putLatency[i] = time.Since(sent[i]).Seconds() * 1000
		if r.Header.Revision != first+int64(i) {
			fail("unexpected revision %d", r.Header.Revision)
		}
	}
	putSecs := time.Since(began).Seconds()
	waitOrFail(&done, 300*time.Second)
	if writerFigures {
		sort.Float64s(putLatency)
		fmt.Printf("putwatched watchers=%d ops=%d rate=%.0f p50ms=%.3f p99ms=%.3f\n", *watchers, *puts,
			float64(*puts)/putSecs, putLatency[len(putLatency)/2], putLatency[len(putLatency)*99/100])
		return
	}
	var last time.Time
	lat := make([]float64, 0, *watchers**puts)
	for w := range received {
		for i, t := range received[w] {
			if t.After(last) {
				last = t
			}
			lat = append(lat, t.Sub(sent[i]).Seconds()*1000)
		}
	}
	sort.Float64s(lat)
	// putsecs: how long the writer took. While the watchers' client cannot
	// keep up with the writer, its backlog grows for the whole run and
	// p50ms is about half of (secs - putsecs).
	fmt.Printf("fanout watchers=%d puts=%d secs=%.3f p50ms=%.3f p99ms=%.3f putsecs=%.3f\n", *watchers, *puts,
		last.Sub(began).Seconds(), lat[len(lat)/2], lat[len(lat)*99/100], putSecs)
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
	fmt.Printf("keepalive clients=%d ops=%d rate=%.0f\n", *clients, total, float64(total)/float64(*seconds))
}
