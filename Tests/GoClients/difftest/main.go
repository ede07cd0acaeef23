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
	hashEach  = flag.Bool("hash-each", false, "compare HashKV after every request (finds the first request that makes the stores differ)")
)

type clients struct {
	kv    pb.KVClient
	lease pb.LeaseClient
	maint pb.MaintenanceClient
}

func dial(endpoint string) clients {
	conn, err := grpc.Dial(endpoint, grpc.WithInsecure(), grpc.WithBlock(), grpc.WithTimeout(5*time.Second))
	if err != nil {
		fmt.Fprintf(os.Stderr, "difftest: cannot connect to %s: %v\n", endpoint, err)
		os.Exit(2)
	}
	return clients{pb.NewKVClient(conn), pb.NewLeaseClient(conn), pb.NewMaintenanceClient(conn)}
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
	clearVolatile(resp)
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

func send(c clients, req proto.Message) outcome {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv := c.kv
	switch r := req.(type) {
	case *pb.LeaseGrantRequest:
		resp, err := c.lease.LeaseGrant(ctx, r)
		return normalise(resp, err)
	case *pb.LeaseRevokeRequest:
		resp, err := c.lease.LeaseRevoke(ctx, r)
		return normalise(resp, err)
	case *pb.LeaseTimeToLiveRequest:
		resp, err := c.lease.LeaseTimeToLive(ctx, r)
		return normalise(resp, err)
	case *pb.LeaseLeasesRequest:
		resp, err := c.lease.LeaseLeases(ctx, r)
		return normalise(resp, err)
	case *pb.HashKVRequest:
		resp, err := c.maint.HashKV(ctx, r)
		return normalise(resp, err)
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
		if h, ok := req.(*pb.HashKVRequest); ok {
			ra, rb = sendHash(a, b, h)
		}
		if ra.String() != rb.String() {
			fmt.Printf("MISMATCH seed=%d op=%d\nrequest: %T %s\n  ours:      %s\n  reference: %s\n", *seed, i, req, proto.CompactTextString(req), ra, rb)
			fmt.Printf("replay: make difftest SEED=%d OPS=%d\n", *seed, i+1)
			os.Exit(1)
		}
		g.observe(rb)
		if *hashEach {
			h := &pb.HashKVRequest{}
			if ha, hb := sendHash(a, b, h); ha.String() != hb.String() {
				fmt.Printf("HASH MISMATCH seed=%d after op=%d\nrequest: %T %s\n  ours:      %s\n  reference: %s\n  hash ours:      %s\n  hash reference: %s\n", *seed, i, req, proto.CompactTextString(req), ra, rb, ha, hb)
				os.Exit(1)
			}
		}
	}
	// HashKV at the current revision and at each of the last 300 before it
	// (those at or below the compaction answer its error on both).
	for rev := g.revision; rev >= 0 && rev > g.revision-300; rev-- {
		h := &pb.HashKVRequest{Revision: rev}
		if rev == g.revision {
			h.Revision = 0
		}
		if ra, rb := sendHash(a, b, h); ra.String() != rb.String() {
			fmt.Printf("MISMATCH seed=%d final HashKV at revision %d\n  ours:      %s\n  reference: %s\n", *seed, h.Revision, ra, rb)
			os.Exit(1)
		}
	}
	if ia, ib := raftIndexes(a, b); ia != ib {
		fmt.Printf("MISMATCH seed=%d final Raft index (endpoint status): ours %d, reference %d: a request went through Raft on one server only\n", *seed, ia, ib)
		os.Exit(1)
	}
	fmt.Printf("difftest: seed=%d %d ops, 0 mismatches\n", *seed, *ops)
}

// Keep rand in scope for generator.go.
var _ = rand.Int63

// sendHash asks both servers for a HashKV and, when the answers differ, asks
// again after etcd's backend commit interval: etcd 3.5.1 hashes its last
// committed bolt transaction, in which a compaction's deletes appear up to
// 100 ms late, and with no live key left (an empty keep set) every entry at
// or below the compaction revision still in bolt enters the hash.
func sendHash(a, b clients, h *pb.HashKVRequest) (outcome, outcome) {
	ra, rb := send(a, h), send(b, h)
	if ra.String() != rb.String() {
		time.Sleep(300 * time.Millisecond)
		ra, rb = send(a, h), send(b, h)
	}
	return ra, rb
}

// raftIndexes answers both servers' Status raft_index once they agree, or
// after 2 s. Each request went through Raft on both or on neither (etcd
// serves only txns of ranges alone without it), so the indexes end equal;
// a status can lag the last apply, hence the wait.
func raftIndexes(a, b clients) (uint64, uint64) {
	var ia, ib uint64
	for try := 0; try < 20; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		sa, ea := a.maint.Status(ctx, &pb.StatusRequest{})
		sb, eb := b.maint.Status(ctx, &pb.StatusRequest{})
		cancel()
		if ea != nil || eb != nil {
			fmt.Fprintf(os.Stderr, "difftest: status: %v %v\n", ea, eb)
			os.Exit(2)
		}
		if ia, ib = sa.RaftIndex, sb.RaftIndex; ia == ib {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ia, ib
}
