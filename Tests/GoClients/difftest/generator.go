package main

import (
	"fmt"
	"math/rand"

	"github.com/gogo/protobuf/proto"
	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
)

// generator produces a random but reproducible request stream over a small
// key space, so ranges, histories, tombstones and compares collide often.
type generator struct {
	r        *rand.Rand
	revision int64 // last revision seen in a reference response header
	compact  int64
	pending  proto.Message // sent next, before any generated request
}

func newGenerator(seed int64) *generator {
	return &generator{r: rand.New(rand.NewSource(seed)), revision: 1}
}

func (g *generator) observe(o outcome) {
	if o.resp == nil {
		return
	}
	var h *pb.ResponseHeader
	switch r := o.resp.(type) {
	case *pb.RangeResponse:
		h = r.Header
	case *pb.PutResponse:
		h = r.Header
	case *pb.DeleteRangeResponse:
		h = r.Header
	case *pb.TxnResponse:
		h = r.Header
	case *pb.CompactionResponse:
		h = r.Header
	case *pb.LeaseRevokeResponse:
		h = r.Header
	}
	if h != nil && h.Revision > g.revision {
		g.revision = h.Revision
	}
}

func (g *generator) key() []byte {
	prefixes := []string{"a", "ab", "abc", "b", "b/", "b/x", "c", "k"}
	p := prefixes[g.r.Intn(len(prefixes))]
	if g.r.Intn(3) == 0 {
		return []byte(p)
	}
	return []byte(fmt.Sprintf("%s%d", p, g.r.Intn(6)))
}

func (g *generator) value() []byte {
	if g.r.Intn(10) == 0 {
		return []byte{}
	}
	n := 1 + g.r.Intn(12)
	v := make([]byte, n)
	for i := range v {
		v[i] = byte('a' + g.r.Intn(4))
	}
	return v
}

func prefixEnd(k []byte) []byte {
	end := append([]byte{}, k...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return []byte{0}
}

// rangeEnd picks a single key, a prefix, "from key" or an explicit interval.
func (g *generator) rangeEnd(k []byte) []byte {
	switch g.r.Intn(6) {
	case 0, 1:
		return nil
	case 2, 3:
		return prefixEnd(k)
	case 4:
		return []byte{0}
	default:
		return g.key()
	}
}

func (g *generator) revisionArg() int64 {
	switch g.r.Intn(8) {
	case 0:
		return g.revision + int64(g.r.Intn(3))
	case 1, 2:
		if g.revision > 1 {
			return 1 + g.r.Int63n(g.revision)
		}
	}
	return 0
}

func (g *generator) rangeReq() *pb.RangeRequest {
	k := g.key()
	if g.r.Intn(20) == 0 {
		k = []byte{}
	}
	req := &pb.RangeRequest{Key: k, RangeEnd: g.rangeEnd(k), Revision: g.revisionArg()}
	if g.r.Intn(3) == 0 {
		req.Limit = int64(g.r.Intn(5))
	}
	if g.r.Intn(3) == 0 {
		req.SortOrder = pb.RangeRequest_SortOrder(g.r.Intn(3))
		req.SortTarget = pb.RangeRequest_SortTarget(g.r.Intn(5))
	}
	req.KeysOnly = g.r.Intn(6) == 0
	req.CountOnly = g.r.Intn(8) == 0
	req.Serializable = g.r.Intn(4) == 0
	if g.r.Intn(6) == 0 {
		req.MinModRevision = g.r.Int63n(g.revision + 1)
	}
	if g.r.Intn(6) == 0 {
		req.MaxModRevision = g.r.Int63n(g.revision + 1)
	}
	if g.r.Intn(6) == 0 {
		req.MinCreateRevision = g.r.Int63n(g.revision + 1)
	}
	if g.r.Intn(6) == 0 {
		req.MaxCreateRevision = g.r.Int63n(g.revision + 1)
	}
	return req
}

func (g *generator) putReq() *pb.PutRequest {
	req := &pb.PutRequest{Key: g.key(), Value: g.value(), PrevKv: g.r.Intn(2) == 0}
	switch g.r.Intn(20) {
	case 0:
		req.IgnoreValue = true
		if g.r.Intn(2) == 0 {
			req.Value = nil
		}
	case 1:
		req.IgnoreLease = true
	case 2:
		req.Lease = 1 + g.r.Int63n(100) // no leases exist: "requested lease not found"
	case 3:
		req.Key = nil
	}
	return req
}

func (g *generator) deleteReq() *pb.DeleteRangeRequest {
	k := g.key()
	return &pb.DeleteRangeRequest{Key: k, RangeEnd: g.rangeEnd(k), PrevKv: g.r.Intn(2) == 0}
}

func (g *generator) compare() *pb.Compare {
	k := g.key()
	c := &pb.Compare{Key: k, Result: pb.Compare_CompareResult(g.r.Intn(4))}
	if g.r.Intn(4) == 0 {
		c.RangeEnd = g.rangeEnd(k)
	}
	switch g.r.Intn(5) {
	case 0:
		c.Target = pb.Compare_VERSION
		c.TargetUnion = &pb.Compare_Version{Version: int64(g.r.Intn(4))}
	case 1:
		c.Target = pb.Compare_CREATE
		c.TargetUnion = &pb.Compare_CreateRevision{CreateRevision: g.r.Int63n(g.revision + 2)}
	case 2:
		c.Target = pb.Compare_MOD
		c.TargetUnion = &pb.Compare_ModRevision{ModRevision: g.r.Int63n(g.revision + 2)}
	case 3:
		c.Target = pb.Compare_VALUE
		c.TargetUnion = &pb.Compare_Value{Value: g.value()}
	default:
		c.Target = pb.Compare_LEASE
		c.TargetUnion = &pb.Compare_Lease{Lease: int64(g.r.Intn(2))}
	}
	return c
}

func (g *generator) requestOp(depth int) *pb.RequestOp {
	switch g.r.Intn(8) {
	case 0, 1, 2:
		return &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: g.rangeReq()}}
	case 3, 4:
		p := g.putReq()
		p.Lease, p.IgnoreLease, p.IgnoreValue = 0, false, false
		return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: p}}
	case 5, 6:
		return &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: g.deleteReq()}}
	default:
		if depth < 2 {
			return &pb.RequestOp{Request: &pb.RequestOp_RequestTxn{RequestTxn: g.txnReq(depth + 1)}}
		}
		return &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: g.rangeReq()}}
	}
}

func (g *generator) txnReq(depth int) *pb.TxnRequest {
	req := &pb.TxnRequest{}
	for i := g.r.Intn(3); i > 0; i-- {
		req.Compare = append(req.Compare, g.compare())
	}
	for i := g.r.Intn(4); i > 0; i-- {
		req.Success = append(req.Success, g.requestOp(depth))
	}
	for i := g.r.Intn(3); i > 0; i-- {
		req.Failure = append(req.Failure, g.requestOp(depth))
	}
	return req
}

func (g *generator) compactReq() *pb.CompactionRequest {
	rev := g.compact + 1 + g.r.Int63n(3)
	if g.r.Intn(5) == 0 {
		rev = g.r.Int63n(g.revision + 3)
	}
	if rev > g.compact && rev <= g.revision {
		g.compact = rev
	}
	return &pb.CompactionRequest{Revision: rev, Physical: g.r.Intn(2) == 0}
}

func (g *generator) next() proto.Message {
	if m := g.pending; m != nil {
		g.pending = nil
		return m
	}
	m := g.pick()
	g.roughen(m)
	return m
}

func (g *generator) pick() proto.Message {
	switch n := g.r.Intn(100); {
	case n < 30:
		return g.putReq()
	case n < 57:
		return g.rangeReq()
	case n < 66:
		return g.deleteReq()
	case n < 86:
		return g.txnReq(0)
	case n < 88:
		return g.compactReq()
	case n < 97:
		return g.leaseReq()
	default:
		return g.hashKVReq()
	}
}
