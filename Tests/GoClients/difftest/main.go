// difftest sends the same seeded random sequence of KV requests to two etcd
// endpoints (swift-etcd and a reference etcd) and compares every response
// field by field, ignoring cluster_id, member_id and raft_term.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"time"

	"github.com/gogo/protobuf/proto"
	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

var (
	endpointA = flag.String("a", "127.0.0.1:2379", "endpoint under test")
	endpointB = flag.String("b", "127.0.0.1:12379", "reference endpoint")
	seed      = flag.Int64("seed", 1, "random seed")
	ops       = flag.Int("ops", 2000, "number of requests")
	verbose   = flag.Bool("v", false, "print every request")
)

type target struct {
	name string
	kv   pb.KVClient
}

func dial(endpoint string) pb.KVClient {
	conn, err := grpc.Dial(endpoint, grpc.WithInsecure(), grpc.WithBlock(), grpc.WithTimeout(5*time.Second))
	if err != nil {
		fmt.Fprintf(os.Stderr, "difftest: cannot connect to %s: %v\n", endpoint, err)
		os.Exit(2)
	}
	return pb.NewKVClient(conn)
}

// outcome is a response or an error, normalised for comparison.
type outcome struct {
	resp proto.Message
	code string
	msg  string
}

func (o outcome) String() string {
	if o.resp == nil {
		return fmt.Sprintf("error code=%s msg=%q", o.code, o.msg)
	}
	return proto.CompactTextString(o.resp)
}

func normalise(resp proto.Message, err error) outcome {
	if err != nil {
		st, _ := status.FromError(err)
		return outcome{code: st.Code().String(), msg: st.Message()}
	}
	clearHeaders(resp)
	return outcome{resp: resp}
}

// clearHeaders zeroes the fields that legitimately differ between servers.
func clearHeaders(m proto.Message) {
	switch r := m.(type) {
	case *pb.RangeResponse:
		clearHeader(r.Header)
	case *pb.PutResponse:
		clearHeader(r.Header)
	case *pb.DeleteRangeResponse:
		clearHeader(r.Header)
	case *pb.CompactionResponse:
		clearHeader(r.Header)
	case *pb.TxnResponse:
		clearHeader(r.Header)
		for _, op := range r.Responses {
			switch x := op.Response.(type) {
			case *pb.ResponseOp_ResponseRange:
				clearHeaders(x.ResponseRange)
			case *pb.ResponseOp_ResponsePut:
				clearHeaders(x.ResponsePut)
			case *pb.ResponseOp_ResponseDeleteRange:
				clearHeaders(x.ResponseDeleteRange)
			case *pb.ResponseOp_ResponseTxn:
				clearHeaders(x.ResponseTxn)
			}
		}
	}
}

func clearHeader(h *pb.ResponseHeader) {
	if h != nil {
		h.ClusterId, h.MemberId, h.RaftTerm = 0, 0, 0
	}
}

func send(kv pb.KVClient, req proto.Message) outcome {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch r := req.(type) {
	case *pb.RangeRequest:
		resp, err := kv.Range(ctx, r)
		return normalise(resp, err)
	case *pb.PutRequest:
		resp, err := kv.Put(ctx, r)
		return normalise(resp, err)
	case *pb.DeleteRangeRequest:
		resp, err := kv.DeleteRange(ctx, r)
		return normalise(resp, err)
	case *pb.TxnRequest:
		resp, err := kv.Txn(ctx, r)
		return normalise(resp, err)
	case *pb.CompactionRequest:
		resp, err := kv.Compact(ctx, r)
		return normalise(resp, err)
	}
	panic("unknown request")
}

func main() {
	flag.Parse()
	a, b := dial(*endpointA), dial(*endpointB)
	g := newGenerator(*seed)
	for i := 0; i < *ops; i++ {
		req := g.next()
		if *verbose {
			fmt.Printf("%d: %T %s\n", i, req, proto.CompactTextString(req))
		}
		ra, rb := send(a, req), send(b, req)
		if ra.String() != rb.String() {
			fmt.Printf("MISMATCH seed=%d op=%d\nrequest: %T %s\n  ours:      %s\n  reference: %s\n", *seed, i, req, proto.CompactTextString(req), ra, rb)
			fmt.Printf("replay: make difftest SEED=%d OPS=%d\n", *seed, i+1)
			os.Exit(1)
		}
		g.observe(rb)
	}
	fmt.Printf("difftest: seed=%d %d ops, 0 mismatches\n", *seed, *ops)
}

// Keep rand in scope for generator.go.
var _ = rand.Int63
