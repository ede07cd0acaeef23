// stopload holds a member busy while it is being stopped: -watchers watch
// streams (raw gRPC bidi streams spread over -conns connections, each its
// own HTTP/2 stream) and -writers concurrent writers that print
// "<key> <revision>" to stdout for every put the server acknowledged.
// It prints "ready" to stderr once every watch stream is open and the
// writers run, and runs until killed. The test stops the server meanwhile
// and later checks every acknowledged key survived.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
	"google.golang.org/grpc"
)

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:2379", "etcd endpoint")
	watchers := flag.Int("watchers", 500, "open watch streams")
	conns := flag.Int("conns", 10, "gRPC connections")
	writers := flag.Int("writers", 100, "concurrent writers")
	flag.Parse()

	var clients []*grpc.ClientConn
	for i := 0; i < *conns; i++ {
		c, err := grpc.Dial(*endpoint, grpc.WithInsecure(), grpc.WithBlock(), grpc.WithTimeout(10*time.Second))
		if err != nil {
			fmt.Fprintln(os.Stderr, "stopload: dial:", err)
			os.Exit(1)
		}
		clients = append(clients, c)
	}
	for i := 0; i < *watchers; i++ {
		stream, err := pb.NewWatchClient(clients[i%len(clients)]).Watch(context.Background())
		if err != nil {
			fmt.Fprintln(os.Stderr, "stopload: watch:", err)
			os.Exit(1)
		}
		req := &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{
			CreateRequest: &pb.WatchCreateRequest{Key: []byte("ack/"), RangeEnd: []byte("ack0")}}}
		if err := stream.Send(req); err != nil {
			fmt.Fprintln(os.Stderr, "stopload: watch send:", err)
			os.Exit(1)
		}
		if _, err := stream.Recv(); err != nil {
			fmt.Fprintln(os.Stderr, "stopload: watch created:", err)
			os.Exit(1)
		}
		go func() {
			for {
				if _, err := stream.Recv(); err != nil {
					return
				}
			}
		}()
	}

	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	var next int64 = -1
	for w := 0; w < *writers; w++ {
		kv := pb.NewKVClient(clients[w%len(clients)])
		go func() {
			for {
				i := atomic.AddInt64(&next, 1)
				key := fmt.Sprintf("ack/%08d", i)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				resp, err := kv.Put(ctx, &pb.PutRequest{Key: []byte(key), Value: []byte(key)})
				cancel()
				if err != nil {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				mu.Lock()
				fmt.Fprintf(out, "%s %d\n", key, resp.Header.Revision)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	fmt.Fprintln(os.Stderr, "ready")
	select {}
}
