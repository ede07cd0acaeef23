// Re-encodes messages with etcd's own Go types (gogoproto) to check that
// swift-etcd's encoding is byte-identical. Input lines: "<proto name> <hex>".
// Output: SAME, DIFF <go hex>, ERR, or SKIP (type not in etcd 3.4's Go code).
// Run via scripts/proto-go-compat.sh.
package main

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
	"go.etcd.io/etcd/mvcc/mvccpb"
	"go.etcd.io/etcd/auth/authpb"
)

type msg interface {
	Marshal() ([]byte, error)
	Unmarshal([]byte) error
}

func main() {
	types := map[string]func() msg{
		"etcdserverpb.RangeRequest":       func() msg { return &pb.RangeRequest{} },
		"etcdserverpb.RangeResponse":      func() msg { return &pb.RangeResponse{} },
		"etcdserverpb.TxnRequest":         func() msg { return &pb.TxnRequest{} },
		"etcdserverpb.TxnResponse":        func() msg { return &pb.TxnResponse{} },
		"etcdserverpb.WatchRequest":       func() msg { return &pb.WatchRequest{} },
		"etcdserverpb.WatchResponse":      func() msg { return &pb.WatchResponse{} },
		"etcdserverpb.MemberListResponse": func() msg { return &pb.MemberListResponse{} },
		"etcdserverpb.StatusResponse":     func() msg { return &pb.StatusResponse{} },
		"etcdserverpb.LeaseTimeToLiveResponse": func() msg { return &pb.LeaseTimeToLiveResponse{} },
		"etcdserverpb.AlarmResponse":      func() msg { return &pb.AlarmResponse{} },
		"etcdserverpb.ResponseHeader":     func() msg { return &pb.ResponseHeader{} },
		"etcdserverpb.PutRequest":         func() msg { return &pb.PutRequest{} },
		"etcdserverpb.PutResponse":        func() msg { return &pb.PutResponse{} },
		"mvccpb.KeyValue":                 func() msg { return &mvccpb.KeyValue{} },
		"authpb.Role":                     func() msg { return &authpb.Role{} },
		"authpb.User":                     func() msg { return &authpb.User{} },
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		parts := strings.Fields(sc.Text())
		mk, ok := types[parts[0]]
		if !ok {
			fmt.Println(parts[0], "SKIP")
			continue
		}
		in := ""
		if len(parts) > 1 { in = parts[1] }
		b, _ := hex.DecodeString(in)
		m := mk()
		if err := m.Unmarshal(b); err != nil {
			fmt.Println(parts[0], "ERR", err)
			continue
		}
		out, _ := m.Marshal()
		if hex.EncodeToString(out) == in {
			fmt.Println(parts[0], "SAME")
		} else {
			fmt.Println(parts[0], "DIFF", hex.EncodeToString(out))
		}
	}
}
