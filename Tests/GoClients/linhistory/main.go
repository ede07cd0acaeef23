// linhistory records a history for the linearizability checker: -clients
// concurrent clientv3 clients do random puts, linearizable gets and
// compare-and-set txns (If(Value(k) = expected) Then(Put(k, new))) on a few
// keys for -duration, and write one JSON line per operation (the format of
// Tools/Linearizability/History.swift) to -out when done. Every put writes
// a value unique to the whole history; times are nanoseconds on Go's
// monotonic clock since the program started. SIGTERM or SIGINT ends the run
// early (the history is still written). An operation that fails (per-op
// timeout, connection error, no leader) is recorded as "unknown": it may or
// may not have taken effect.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/etcd/clientv3"
)

type record struct {
	ID     int64   `json:"id"`
	Client int     `json:"client"`
	Kind   string  `json:"kind"`
	Key    string  `json:"key"`
	Value  *string `json:"value,omitempty"`
	Expect *string `json:"expect,omitempty"`
	Output *string `json:"output,omitempty"`
	Invoke int64   `json:"invoke"`
	Return int64   `json:"return"`
	Result string  `json:"result"`
	Error  string  `json:"error,omitempty"` // why the outcome is unknown
}

// history collects records from all clients; ids are unique across them.
type history struct {
	mu      sync.Mutex
	records []record
	counts  map[string]int
}

func (h *history) add(r record) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r.ID = int64(len(h.records) + 1)
	h.records = append(h.records, r)
	h.counts[r.Kind+" "+r.Result]++
}

func main() {
	endpoints := flag.String("endpoints", "127.0.0.1:2379", "comma-separated client endpoints")
	clients := flag.Int("clients", 8, "concurrent clients, each with its own connection")
	keys := flag.Int("keys", 12, "number of keys")
	prefix := flag.String("prefix", "lin/", "key prefix")
	duration := flag.Duration("duration", 20*time.Second, "how long to issue operations (at most)")
	timeout := flag.Duration("timeout", time.Second, "per-operation timeout")
	think := flag.Duration("think", 2*time.Millisecond, "maximum random pause between a client's operations")
	seed := flag.Int64("seed", 1, "random seed (operation mix and keys; timing is not reproducible)")
	out := flag.String("out", "-", "history file (- for stdout)")
	flag.Parse()

	start := time.Now()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		select {
		case <-stop:
		case <-time.After(*duration):
		}
		close(done)
	}()
	running := func() bool {
		select {
		case <-done:
			return false
		default:
			return true
		}
	}
	now := func() int64 { return int64(time.Since(start)) } // monotonic
	eps := strings.Split(*endpoints, ",")
	h := &history{counts: map[string]int{}}
	var wg sync.WaitGroup
	for c := 0; c < *clients; c++ {
		// Rotate the endpoint list so clients start on different members.
		rotated := append(append([]string{}, eps[c%len(eps):]...), eps[:c%len(eps)]...)
		cli, err := clientv3.New(clientv3.Config{Endpoints: rotated, DialTimeout: 5 * time.Second})
		if err != nil {
			fmt.Fprintln(os.Stderr, "linhistory:", err)
			os.Exit(1)
		}
		defer cli.Close()
		wg.Add(1)
		go func(client int, cli *clientv3.Client, rng *rand.Rand) {
			defer wg.Done()
			seen := map[string]string{} // last value this client saw per key
			lastRead := ""              // key of the previous op if it was a get that found a value
			for seq := 0; running(); seq++ {
				key := fmt.Sprintf("%s%02d", *prefix, rng.Intn(*keys))
				n := rng.Intn(10)
				if lastRead != "" && rng.Intn(2) == 0 {
					key, n = lastRead, 9 // read-modify-write: CAS from the value just read
				}
				lastRead = ""
				value := fmt.Sprintf("c%d-%d", client, seq)
				expect, known := seen[key]
				ctx, cancel := context.WithTimeout(context.Background(), *timeout)
				r := record{Client: client, Key: key, Invoke: now()}
				switch {
				case n < 4:
					r.Kind = "get"
					resp, err := cli.Get(ctx, key)
					r.Return = now()
					if err != nil {
						r.Result, r.Error = "unknown", err.Error()
					} else {
						r.Result = "ok"
						if len(resp.Kvs) > 0 {
							v := string(resp.Kvs[0].Value)
							r.Output = &v
							seen[key] = v
							lastRead = key
						}
					}
				case n < 7 || !known:
					r.Kind, r.Value = "put", &value
					_, err := cli.Put(ctx, key, value)
					r.Return = now()
					r.Result = "ok"
					if err != nil {
						r.Result, r.Error = "unknown", err.Error()
					} else {
						seen[key] = value
					}
				default:
					r.Kind, r.Value, r.Expect = "cas", &value, &expect
					resp, err := cli.Txn(ctx).
						If(clientv3.Compare(clientv3.Value(key), "=", expect)).
						Then(clientv3.OpPut(key, value)).Commit()
					r.Return = now()
					switch {
					case err != nil:
						r.Result, r.Error = "unknown", err.Error()
					case resp.Succeeded:
						r.Result = "succeeded"
						seen[key] = value
					default:
						r.Result = "failed"
					}
				}
				cancel()
				h.add(r)
				if *think > 0 {
					time.Sleep(time.Duration(rng.Int63n(int64(*think))))
				}
			}
		}(c, cli, rand.New(rand.NewSource(*seed*1000+int64(c))))
	}
	wg.Wait()

	w := os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "linhistory:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, r := range h.records {
		if err := enc.Encode(r); err != nil {
			fmt.Fprintln(os.Stderr, "linhistory:", err)
			os.Exit(1)
		}
	}
	if err := bw.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "linhistory:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "linhistory: %d operations %v\n", len(h.records), h.counts)
}
