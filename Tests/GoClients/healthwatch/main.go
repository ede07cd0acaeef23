// healthwatch polls the gRPC health service (grpc.health.v1.Health/Check)
// as fast as answers come until -stop-file exists (or -seconds pass) and
// prints "serving=<n> not_serving=<n> errors=<n>": a test runs it while the
// member defragments to see what a load balancer would see. It prints
// "ready" after its first answer and "saw NOT_SERVING" at the first one.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:2379", "etcd endpoint")
	seconds := flag.Float64("seconds", 5, "how long to poll at most")
	stopFile := flag.String("stop-file", "", "stop polling once this file exists")
	flag.Parse()
	conn, err := grpc.Dial(*endpoint, grpc.WithInsecure(), grpc.WithBlock(), grpc.WithTimeout(10*time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthwatch:", err)
		os.Exit(1)
	}
	client := healthpb.NewHealthClient(conn)
	var serving, notServing, errors int
	deadline := time.Now().Add(time.Duration(*seconds * float64(time.Second)))
	for time.Now().Before(deadline) {
		if *stopFile != "" {
			if _, err := os.Stat(*stopFile); err == nil {
				break
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		switch {
		case err != nil:
			errors++
		case resp.Status == healthpb.HealthCheckResponse_SERVING:
			serving++
		default:
			if notServing == 0 {
				fmt.Println("saw NOT_SERVING")
			}
			notServing++
		}
		if serving+notServing+errors == 1 {
			fmt.Println("ready")
		}
	}
	fmt.Printf("serving=%d not_serving=%d errors=%d\n", serving, notServing, errors)
}
