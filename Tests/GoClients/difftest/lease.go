package main

import (
	"math"
	"sort"

	"github.com/gogo/protobuf/proto"
	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
)

// Leases, HashKV and extreme values. Leases are granted with explicit IDs
// from a small pool and TTLs far longer than a run, so both servers hold the
// same leases whatever the timing; the remaining TTL is the one field left out.

var leasePool = []int64{1, 2, 3, 7, 0x7fffffffffffffff, -1}

func (g *generator) leaseID() int64 {
	if g.r.Intn(12) == 0 {
		return []int64{0, math.MinInt64, 99}[g.r.Intn(3)]
	}
	return leasePool[g.r.Intn(len(leasePool))]
}

func (g *generator) leaseReq() proto.Message {
	switch g.r.Intn(6) {
	case 0, 1:
		ttl := int64(3600 + g.r.Intn(100))
		switch g.r.Intn(10) {
		case 0:
			ttl = 9000000001 // "too large lease TTL"
		case 1:
			ttl = math.MaxInt64
		case 2:
			ttl = -1 - g.r.Int63n(5)
		case 3:
			ttl = 9000000000
		}
		id := g.leaseID()
		if id == 0 { // a server-chosen ID differs between servers
			id = 5
		}
		if ttl < 3600 { // granted with the minimum TTL: revoked before it can expire on one server only
			g.pending = &pb.LeaseRevokeRequest{ID: id}
		}
		return &pb.LeaseGrantRequest{TTL: ttl, ID: id}
	case 2:
		return &pb.LeaseRevokeRequest{ID: g.leaseID()}
	case 3, 4:
		return &pb.LeaseTimeToLiveRequest{ID: g.leaseID(), Keys: g.r.Intn(2) == 0}
	default:
		return &pb.LeaseLeasesRequest{}
	}
}

func (g *generator) hashKVReq() *pb.HashKVRequest {
	switch g.r.Intn(6) {
	case 0:
		return &pb.HashKVRequest{Revision: g.compact}
	case 1:
		return &pb.HashKVRequest{Revision: g.revisionArg()}
	case 2:
		return &pb.HashKVRequest{Revision: g.extreme()}
	}
	return &pb.HashKVRequest{}
}

// extreme is a revision, limit or version at the edges of int64.
func (g *generator) extreme() int64 {
	return []int64{math.MaxInt64, math.MinInt64, -1, math.MaxInt64 - 1, math.MinInt64 + 1, 1 << 32, -(1 << 40)}[g.r.Intn(7)]
}

// roughen replaces some fields of a generated request by extreme values.
func (g *generator) roughen(m proto.Message) {
	if g.r.Intn(12) != 0 {
		return
	}
	switch r := m.(type) {
	case *pb.RangeRequest:
		switch g.r.Intn(7) {
		case 0:
			r.Revision = g.extreme()
		case 1:
			r.Limit = g.extreme()
		case 2:
			r.MinModRevision = g.extreme()
		case 3:
			r.MaxCreateRevision = g.extreme()
		case 4:
			r.Key, r.RangeEnd = []byte{0}, []byte{0}
		case 5:
			r.Key, r.RangeEnd = []byte{}, []byte{0}
		default:
			r.SortOrder = pb.RangeRequest_SortOrder(g.r.Intn(3))
			r.SortTarget = pb.RangeRequest_SortTarget(g.r.Intn(5))
			r.Limit = math.MaxInt64
		}
	case *pb.PutRequest:
		switch g.r.Intn(3) {
		case 0:
			r.Key = []byte{0}
		case 1:
			r.Key = []byte{0xff, 0xff}
		default:
			r.Lease = leasePool[g.r.Intn(len(leasePool))]
		}
	case *pb.DeleteRangeRequest:
		r.Key, r.RangeEnd = []byte{0}, []byte{0}
	case *pb.CompactionRequest:
		r.Revision = g.extreme()
	case *pb.TxnRequest:
		for _, c := range r.Compare {
			switch u := c.TargetUnion.(type) {
			case *pb.Compare_Version:
				u.Version = g.extreme()
			case *pb.Compare_CreateRevision:
				u.CreateRevision = g.extreme()
			case *pb.Compare_ModRevision:
				u.ModRevision = g.extreme()
			case *pb.Compare_Lease:
				u.Lease = g.extreme()
			}
		}
	}
}

// clearVolatile leaves out what legitimately differs in lease and hash
// answers: the remaining TTL (a clock), the order of LeaseLeases (a map).
func clearVolatile(m proto.Message) {
	switch r := m.(type) {
	case *pb.LeaseGrantResponse:
		clearHeader(r.Header)
	case *pb.LeaseRevokeResponse:
		clearHeader(r.Header)
	case *pb.LeaseTimeToLiveResponse:
		clearHeader(r.Header)
		if r.TTL > 0 {
			r.TTL = 1
		}
		sort.Slice(r.Keys, func(i, j int) bool { return string(r.Keys[i]) < string(r.Keys[j]) })
	case *pb.LeaseLeasesResponse:
		clearHeader(r.Header)
		sort.Slice(r.Leases, func(i, j int) bool { return r.Leases[i].ID < r.Leases[j].ID })
	case *pb.HashKVResponse:
		clearHeader(r.Header)
	}
}
