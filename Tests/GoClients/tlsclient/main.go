// tlsclient talks to etcd over TLS the way the Kubernetes API server does
// (clientv3 with a tls.Config built from --etcd-cafile/--etcd-certfile/
// --etcd-keyfile) and exits non-zero on the first unexpected answer.
//
//	tlsclient -endpoints https://127.0.0.1:2379 -cacert ca.crt -cert c.crt -key c.key -mode putget
//	    put, get and a watch event over one TLS connection
//	tlsclient ... -mode apiserver -duration 20s -pause-file F
//	    writes keys and watches them; prints "writing" once a write was
//	    watched; when F appears it prints "paused" and waits for F to vanish
//	    (the test kills the leader meanwhile); exits 0 once 20 writes and
//	    their events came after that ("resumed"), 1 if -duration (then only
//	    a bound on a hang) passes first. Without F it runs for -duration.
//	tlsclient ... -mode expectfail
//	    exits 0 only if the first request fails (refused handshake)
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"strings"
	"time"

	"go.etcd.io/etcd/clientv3"
)

var (
	endpoints = flag.String("endpoints", "https://127.0.0.1:2379", "comma-separated endpoints")
	cacert    = flag.String("cacert", "", "CA bundle")
	cert      = flag.String("cert", "", "client certificate")
	key       = flag.String("key", "", "client key")
	mode      = flag.String("mode", "putget", "putget | apiserver | expectfail")
	duration  = flag.Duration("duration", 20*time.Second, "apiserver mode: how long to run")
	pauseFile = flag.String("pause-file", "", "apiserver mode: file whose presence marks the disruption")
	prefix    = flag.String("prefix", "/registry/tlsclient/", "key prefix")
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "tlsclient: FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func tlsConfig() *tls.Config {
	cfg := &tls.Config{}
	if *cacert != "" {
		pem, err := ioutil.ReadFile(*cacert)
		if err != nil {
			fail("read ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			fail("no certificates in %s", *cacert)
		}
		cfg.RootCAs = pool
	}
	if *cert != "" {
		pair, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			fail("load client pair: %v", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg
}

func main() {
	flag.Parse()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   strings.Split(*endpoints, ","),
		DialTimeout: 5 * time.Second,
		TLS:         tlsConfig(),
	})
	if err != nil {
		if *mode == "expectfail" {
			fmt.Println("refused:", err)
			return
		}
		fail("connect: %v", err)
	}
	defer cli.Close()
	switch *mode {
	case "putget":
		putGet(cli)
	case "apiserver":
		apiServer(cli)
	case "expectfail":
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := cli.Get(ctx, "x"); err == nil {
			fail("request succeeded without a valid client certificate")
		} else {
			fmt.Println("refused:", err)
		}
	default:
		fail("unknown mode %s", *mode)
	}
}

func putGet(cli *clientv3.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	wch := cli.Watch(ctx, *prefix+"k")
	if _, err := cli.Put(ctx, *prefix+"k", "v1"); err != nil {
		fail("put: %v", err)
	}
	get, err := cli.Get(ctx, *prefix+"k")
	if err != nil || len(get.Kvs) != 1 || string(get.Kvs[0].Value) != "v1" {
		fail("get: %v %v", get, err)
	}
	select {
	case w := <-wch:
		if len(w.Events) != 1 || string(w.Events[0].Kv.Value) != "v1" {
			fail("watch: %+v", w)
		}
	case <-ctx.Done():
		fail("no watch event")
	}
	fmt.Println("ok")
}

// apiServer writes and watches like kube-apiserver: each write is watched;
// errors during the disruption are tolerated, but writes and watch events
// must resume afterwards.
func apiServer(cli *clientv3.Client) {
	deadline := time.Now().Add(*duration)
	ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(10*time.Second))
	defer cancel()
	wch := cli.Watch(clientv3.WithRequireLeader(ctx), *prefix, clientv3.WithPrefix())
	events := make(chan int64, 1024)
	go func() {
		for w := range wch {
			for _, e := range w.Events {
				events <- e.Kv.ModRevision
			}
		}
		close(events)
	}()
	var written, writesAfter, eventsAfter, errors int
	paused, resumed, announced := false, false, false
	for i := 0; time.Now().Before(deadline); i++ {
		if *pauseFile != "" && resumed && writesAfter >= 20 && eventsAfter >= 20 {
			break
		}
		if *pauseFile != "" {
			_, statErr := os.Stat(*pauseFile)
			if statErr == nil && !paused {
				paused = true
				fmt.Println("paused")
			} else if statErr != nil && paused && !resumed {
				resumed = true
				fmt.Println("resumed")
			}
		}
		wctx, wcancel := context.WithTimeout(ctx, 3*time.Second)
		_, err := cli.Put(wctx, fmt.Sprintf("%skey-%d", *prefix, i%50), fmt.Sprintf("v%d", i))
		wcancel()
		if err != nil {
			errors++
			time.Sleep(100 * time.Millisecond)
		} else {
			written++
			if resumed {
				writesAfter++
			}
		}
	drain:
		for {
			select {
			case _, ok := <-events:
				if !ok {
					break drain
				}
				if resumed {
					eventsAfter++
				}
				if !announced {
					announced = true
					fmt.Println("writing")
				}
			default:
				break drain
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Let the last events arrive.
	timeout := time.After(5 * time.Second)
wait:
	for eventsAfter < writesAfter {
		select {
		case _, ok := <-events:
			if !ok {
				break wait
			}
			eventsAfter++
		case <-timeout:
			break wait
		}
	}
	fmt.Printf("written=%d errors=%d writes_after=%d events_after=%d\n", written, errors, writesAfter, eventsAfter)
	if written == 0 || (*pauseFile != "" && (!resumed || writesAfter == 0 || eventsAfter == 0)) {
		fail("writes or watch did not resume")
	}
}
