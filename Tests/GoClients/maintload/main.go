// maintload is the load side of the maintenance benchmark and fault tests.
//
//	maintload -endpoint E -mode fill -total 1000000 -val-size 100 -clients 16
//	    puts keys "<prefix>%08d" 0..total-1 in txns of -batch puts each and
//	    prints "fill keys=N secs=S rate=R".
//	maintload -endpoint E -mode writer
//	    one client putting "pause/%08d" back to back until SIGTERM/SIGINT,
//	    then prints "writer puts=N errors=E max-pause-ms=M p99ms=P": the
//	    longest time between two acknowledged puts is what a defrag costs
//	    a writer.
//	maintload -endpoint E -mode leases -total 500 -ttl 600 -keys 2 -prefix lease/
//	    grants -total leases of -ttl seconds from -clients clients, puts
//	    -keys keys "<prefix><lease hex>/<k>" on each, and prints every lease
//	    ID (16 hex digits, as etcdctl lease list) on its own line, then "leases n=N secs=S".
package main

import (
	"context"
	"flag"
	"fmt"
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

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:2379", "etcd endpoints, comma-separated")
	mode := flag.String("mode", "fill", "fill|writer")
	total := flag.Int("total", 100000, "fill: keys")
	valSize := flag.Int("val-size", 100, "fill: value bytes")
	clients := flag.Int("clients", 16, "fill: concurrent clients")
	batch := flag.Int("batch", 100, "fill: puts per txn (etcd allows 128)")
	prefix := flag.String("prefix", "key/", "fill, leases: key prefix")
	ttl := flag.Int64("ttl", 600, "leases: TTL in seconds")
	keys := flag.Int("keys", 2, "leases: keys per lease")
	flag.Parse()
	cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(*endpoint, ","), DialTimeout: 5 * time.Second,
		MaxCallSendMsgSize: 8 << 20})
	if err != nil {
		fmt.Fprintln(os.Stderr, "maintload:", err)
		os.Exit(1)
	}
	switch *mode {
	case "fill":
		fill(cli, *total, *valSize, *clients, *batch, *prefix)
	case "writer":
		writer(cli)
	case "leases":
		leases(cli, *total, *ttl, *keys, *clients, *prefix)
	default:
		fmt.Fprintln(os.Stderr, "maintload: unknown mode", *mode)
		os.Exit(2)
	}
}

func fill(cli *clientv3.Client, total, valSize, clients, batch int, prefix string) {
	value := strings.Repeat("v", valSize)
	start := time.Now()
	ok := inParallel(clients, (total+batch-1)/batch, func(b int) error {
		var ops []clientv3.Op
		for i := b * batch; i < (b+1)*batch && i < total; i++ {
			ops = append(ops, clientv3.OpPut(fmt.Sprintf("%s%08d", prefix, i), value))
		}
		var err error
		for attempt := 0; attempt < 5; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, err = cli.Txn(ctx).Then(ops...).Commit()
			cancel()
			if err == nil {
				return nil
			}
		}
		return fmt.Errorf("fill: %v", err)
	})
	if !ok {
		os.Exit(1)
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("fill keys=%d secs=%.2f rate=%.0f\n", total, secs, float64(total)/secs)
}

// inParallel runs job(0), job(1), … job(jobs-1) on n goroutines; the first
// error is printed and stops every goroutine's next job. False if one failed.
func inParallel(n, jobs int, job func(i int) error) bool {
	var next int64 = -1
	var failed int32
	var wg sync.WaitGroup
	for c := 0; c < n; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.LoadInt32(&failed) == 0 {
				i := int(atomic.AddInt64(&next, 1))
				if i >= jobs {
					return
				}
				if err := job(i); err != nil {
					fmt.Fprintln(os.Stderr, "maintload:", err)
					atomic.StoreInt32(&failed, 1)
				}
			}
		}()
	}
	wg.Wait()
	return failed == 0
}

func writer(cli *clientv3.Client) {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	var latencies []time.Duration
	var maxPause time.Duration
	errors := 0
	last := time.Now()
	for i := 0; ; i++ {
		select {
		case <-stop:
			sort.Slice(latencies, func(a, b int) bool { return latencies[a] < latencies[b] })
			p99 := time.Duration(0)
			if len(latencies) > 0 {
				p99 = latencies[len(latencies)*99/100]
			}
			fmt.Printf("writer puts=%d errors=%d max-pause-ms=%.1f p99ms=%.2f\n", len(latencies), errors,
				float64(maxPause.Microseconds())/1000, float64(p99.Microseconds())/1000)
			return
		default:
		}
		begin := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := cli.Put(ctx, fmt.Sprintf("pause/%08d", i%1000), "x")
		cancel()
		now := time.Now()
		if err != nil {
			errors++
			continue
		}
		latencies = append(latencies, now.Sub(begin))
		if gap := now.Sub(last); gap > maxPause {
			maxPause = gap
		}
		last = now
	}
}

func leases(cli *clientv3.Client, total int, ttl int64, keys, clients int, prefix string) {
	var mu sync.Mutex
	var ids []clientv3.LeaseID
	start := time.Now()
	ok := inParallel(clients, total, func(int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		lease, err := cli.Grant(ctx, ttl)
		if err != nil {
			return fmt.Errorf("leases: %v", err)
		}
		var ops []clientv3.Op
		for k := 0; k < keys; k++ {
			ops = append(ops, clientv3.OpPut(fmt.Sprintf("%s%x/%d", prefix, int64(lease.ID), k), "v", clientv3.WithLease(lease.ID)))
		}
		if _, err := cli.Txn(ctx).Then(ops...).Commit(); err != nil {
			return fmt.Errorf("leases: %v", err)
		}
		mu.Lock()
		ids = append(ids, lease.ID)
		mu.Unlock()
		return nil
	})
	if !ok {
		os.Exit(1)
	}
	for _, id := range ids {
		fmt.Printf("%016x\n", int64(id))
	}
	fmt.Printf("leases n=%d secs=%.2f\n", len(ids), time.Since(start).Seconds())
}
