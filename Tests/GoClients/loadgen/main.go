// loadgen runs one benchmark workload against an etcd endpoint through Go's
// clientv3 and prints one line: "<workload> ops=N secs=S rate=R p50ms=A p99ms=B".
//
//	loadgen -endpoint 127.0.0.1:2379 -workload put -clients 100 -conns 10 -total 50000
//
// Workloads: put, range-lin, range-ser, txn-put, mixed (90% linearizable
// range / 10% put), fill (put -total random 16-byte keys with 256-byte values),
// authenticate (Auth.Authenticate with -user/-password, one bcrypt check each),
// handshake (new TLS connections: dial, full handshake offering h2, close).
// With -user/-password every client logs in (auth enabled) and -prefix puts
// the keys under a prefix the user may use; -cacert/-cert/-key make every
// connection mutual TLS.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"math/rand"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
)

var (
	endpoint = flag.String("endpoint", "127.0.0.1:2379", "etcd endpoint(s), comma-separated")
	workload = flag.String("workload", "put", "put|range-lin|range-ser|txn-put|mixed|fill")
	clients  = flag.Int("clients", 1, "concurrent clients")
	conns    = flag.Int("conns", 1, "gRPC connections shared by the clients")
	total    = flag.Int("total", 10000, "requests in all")
	keySize  = flag.Int("key-size", 8, "key bytes")
	valSize  = flag.Int("val-size", 256, "value bytes")
	keySpace = flag.Int("key-space", 1000, "distinct keys for put/range workloads")
	user     = flag.String("user", "", "log in as this user (auth enabled)")
	password = flag.String("password", "", "the user's password")
	prefix   = flag.String("prefix", "", "key prefix")
	cacert   = flag.String("cacert", "", "TLS: CA bundle (enables TLS)")
	cert     = flag.String("cert", "", "TLS: client certificate")
	key      = flag.String("key", "", "TLS: client key")
)

// tlsConfig is nil without -cacert.
func tlsConfig() *tls.Config {
	if *cacert == "" {
		return nil
	}
	pem, err := ioutil.ReadFile(*cacert)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool}
	if *cert != "" {
		pair, err := tls.LoadX509KeyPair(*cert, *key)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg
}

func main() {
	flag.Parse()
	tlsCfg := tlsConfig()
	cs := make([]*clientv3.Client, *conns)
	for i := range cs {
		c, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(*endpoint, ","), DialTimeout: 5 * time.Second, TLS: tlsCfg,
			Username: *user, Password: *password})
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		cs[i] = c
	}
	value := string(make([]byte, *valSize))
	keyOf := func(r *rand.Rand) string {
		if *workload == "fill" {
			b := make([]byte, 16)
			r.Read(b)
			return string(b)
		}
		return *prefix + fmt.Sprintf("%0*d", *keySize, r.Intn(*keySpace))
	}
	// Ranges need something to read.
	if *workload == "range-lin" || *workload == "range-ser" || *workload == "mixed" {
		r := rand.New(rand.NewSource(1))
		for i := 0; i < *keySpace; i++ {
			if _, err := cs[0].Put(context.Background(), *prefix+fmt.Sprintf("%0*d", *keySize, i), value); err != nil {
				fmt.Fprintln(os.Stderr, "loadgen: preload:", err)
				os.Exit(1)
			}
		}
		_ = r
	}

	var next int64 = -1
	var failures int64
	latencies := make([][]time.Duration, *clients)
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			cli := cs[c%len(cs)]
			r := rand.New(rand.NewSource(int64(c) + 1))
			for atomic.AddInt64(&next, 1) < int64(*total) {
				t0 := time.Now()
				var err error
				ctx := context.Background()
				switch w := *workload; {
				case w == "put" || w == "fill":
					_, err = cli.Put(ctx, keyOf(r), value)
				case w == "range-lin":
					_, err = cli.Get(ctx, keyOf(r))
				case w == "range-ser":
					_, err = cli.Get(ctx, keyOf(r), clientv3.WithSerializable())
				case w == "txn-put":
					k := keyOf(r)
					_, err = cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(k), ">", -1)).Then(clientv3.OpPut(k, value)).Commit()
				case w == "handshake":
					hcfg := tlsCfg.Clone()
					hcfg.NextProtos = []string{"h2"}
					hcfg.ClientSessionCache = nil
					var conn *tls.Conn
					conn, err = tls.Dial("tcp", strings.Split(*endpoint, ",")[0], hcfg)
					if err == nil {
						// Ready to serve: the HTTP/2 preface answered by the server's SETTINGS
						// (with TLS 1.3 this also waits for the server to verify our certificate).
						if err = conn.Handshake(); err == nil {
							_, err = conn.Write(append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 0, 0, 0, 4, 0, 0, 0, 0, 0))
						}
						if err == nil {
							buf := make([]byte, 9)
							_, err = io.ReadFull(conn, buf)
						}
						conn.Close()
					}
				case w == "mixed":
					if r.Intn(10) == 0 {
						_, err = cli.Put(ctx, keyOf(r), value)
					} else {
						_, err = cli.Get(ctx, keyOf(r))
					}
				case w == "authenticate":
					_, err = pb.NewAuthClient(cli.ActiveConnection()).Authenticate(ctx, &pb.AuthenticateRequest{Name: *user, Password: *password})
				default:
					fmt.Fprintln(os.Stderr, "loadgen: unknown workload", w)
					os.Exit(2)
				}
				if err != nil {
					atomic.AddInt64(&failures, 1)
					continue
				}
				latencies[c] = append(latencies[c], time.Since(t0))
			}
		}(c)
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	var all []time.Duration
	for _, l := range latencies {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(float64(len(all)-1)*p)].Microseconds()) / 1000
	}
	fmt.Printf("%s ops=%d failed=%d secs=%.2f rate=%.0f p50ms=%.2f p99ms=%.2f\n",
		*workload, len(all), failures, secs, float64(len(all))/secs, pct(0.5), pct(0.99))
	if failures > 0 {
		os.Exit(1)
	}
}
