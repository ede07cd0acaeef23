// ackwriter puts keys from many concurrent clients and prints
// "<key> <revision>" for every put the server acknowledged, until it is
// killed or -total puts are done. A durability test kills the server
// meanwhile and later checks that every printed key is there at its revision.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
)

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:2379", "etcd endpoints, comma-separated")
	clients := flag.Int("clients", 20, "concurrent writers")
	total := flag.Int("total", 1000000, "puts in all")
	valueBytes := flag.Int("value-bytes", 0, "pad each value (the key) to this many bytes")
	flag.Parse()
	cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(*endpoint, ","), DialTimeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ackwriter:", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	var next int64 = -1
	var wg sync.WaitGroup
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := atomic.AddInt64(&next, 1)
				if i >= int64(*total) {
					return
				}
				key := fmt.Sprintf("ack/%08d", i)
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				value := key
				if len(value) < *valueBytes {
					value += strings.Repeat("v", *valueBytes-len(value))
				}
				resp, err := cli.Put(ctx, key, value)
				cancel()
				if err != nil {
					continue // not acknowledged: may or may not survive
				}
				mu.Lock()
				fmt.Fprintf(out, "%s %d\n", key, resp.Header.Revision)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}
