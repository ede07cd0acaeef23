// alarmactivate raises an alarm on the member behind an endpoint through
// Maintenance.Alarm ACTIVATE (etcdctl can only list and disarm), so tests
// can compare how swift-etcd and etcd behave under it.
// Usage: alarmactivate -endpoint 127.0.0.1:2379 -alarm CORRUPT
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"go.etcd.io/etcd/clientv3"
	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
)

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:2379", "etcd endpoint")
	alarm := flag.String("alarm", "CORRUPT", "NOSPACE or CORRUPT")
	flag.Parse()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := cli.Status(ctx, *endpoint)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_, err = pb.NewMaintenanceClient(cli.ActiveConnection()).Alarm(ctx, &pb.AlarmRequest{
		Action: pb.AlarmRequest_ACTIVATE, MemberID: st.Header.MemberId, Alarm: pb.AlarmType(pb.AlarmType_value[*alarm])})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
