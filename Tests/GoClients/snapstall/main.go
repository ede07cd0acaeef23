// snapstall opens Maintenance.Snapshot streams and does not read them (or
// reads only their first bytes), as a stuck or hostile client would, then
// leaves: what a server holds for such streams must stay small and go away
// when they leave.
//
//	snapstall -endpoint E -streams 20 -read 0 -hold 5s
//	    opens the streams (each on its own connection), reads -read bytes
//	    from each, holds them -hold, closes them; prints
//	    "opened N read B" after opening and "closed" at the end.
//	    With -hold 0 they are held until stdin ends (the caller decides when).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"sync"
	"time"

	"go.etcd.io/etcd/clientv3"
)

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:2379", "endpoint")
	streams := flag.Int("streams", 20, "streams")
	read := flag.Int("read", 0, "bytes to read from each stream")
	hold := flag.Duration("hold", 5*time.Second, "how long to keep them open (0: until stdin ends)")
	flag.Parse()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	var clients []*clientv3.Client
	for i := 0; i < *streams; i++ {
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second})
		if err != nil {
			fmt.Fprintln(os.Stderr, "snapstall: connect:", err)
			os.Exit(1)
		}
		clients = append(clients, cli)
		wg.Add(1)
		go func(cli *clientv3.Client) {
			defer wg.Done()
			rc, err := cli.Snapshot(ctx)
			if err != nil {
				fmt.Fprintln(os.Stderr, "snapstall: snapshot:", err)
				return
			}
			if *read > 0 {
				n, _ := io.ReadFull(rc, make([]byte, *read))
				mu.Lock()
				total += n
				mu.Unlock()
			}
			<-ctx.Done()
			rc.Close()
		}(cli)
	}
	time.Sleep(500 * time.Millisecond)
	mu.Lock()
	fmt.Printf("opened %d read %d\n", *streams, total)
	mu.Unlock()
	if *hold > 0 {
		time.Sleep(*hold)
	} else {
		ioutil.ReadAll(os.Stdin)
	}
	cancel()
	wg.Wait()
	for _, c := range clients {
		c.Close()
	}
	fmt.Println("closed")
}
