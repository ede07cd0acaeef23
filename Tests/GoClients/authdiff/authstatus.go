package main

import (
	gocontext "context"
	"fmt"

	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
)

// Auth.AuthStatus is newer than the vendored 3.4 stubs: called by hand.
type authStatusRequest struct{}

func (m *authStatusRequest) Reset()         { *m = authStatusRequest{} }
func (m *authStatusRequest) String() string { return "" }
func (*authStatusRequest) ProtoMessage()    {}

type authStatusResponse struct {
	Header       *pb.ResponseHeader `protobuf:"bytes,1,opt,name=header,proto3" json:"header,omitempty"`
	Enabled      bool               `protobuf:"varint,2,opt,name=enabled,proto3" json:"enabled,omitempty"`
	AuthRevision uint64             `protobuf:"varint,3,opt,name=authRevision,proto3" json:"authRevision,omitempty"`
}

func (m *authStatusResponse) Reset() { *m = authStatusResponse{} }
func (m *authStatusResponse) String() string {
	return fmt.Sprintf("enabled:%v authRevision:%d", m.Enabled, m.AuthRevision)
}
func (*authStatusResponse) ProtoMessage()                   {}
func (m *authStatusResponse) GetHeader() *pb.ResponseHeader { return m.Header }

func authStatus(s *side, ctx gocontext.Context) (message, error) {
	out := &authStatusResponse{}
	if err := s.conn.Invoke(ctx, "/etcdserverpb.Auth/AuthStatus", &authStatusRequest{}, out); err != nil {
		return nil, err
	}
	return out, nil
}
