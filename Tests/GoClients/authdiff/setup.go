package main

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/etcd/auth/authpb"
	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
)

// Users and their roles: none has no role; ro may read, wo may write, rw
// may do both on prefix "in/" (rw also reads key "k1" and every key from
// "z"); root holds the root role.
var passwords = map[string]string{"root": "rootpw", "none": "pw-none", "ro": "pw-ro", "wo": "pw-wo", "rw": "pw-rw"}

func perm(t authpb.Permission_Type, key, end string) *authpb.Permission {
	p := &authpb.Permission{PermType: t, Key: []byte(key)}
	if end != "" {
		p.RangeEnd = []byte(end)
	}
	return p
}

func setup(s *side) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, u := range []string{"root", "none", "ro", "wo", "rw"} {
		if _, err := s.auth.UserAdd(ctx, &pb.AuthUserAddRequest{Name: u, Password: passwords[u]}); err != nil {
			return fmt.Errorf("user add %s: %v", u, err)
		}
	}
	grants := map[string][]*authpb.Permission{
		"root": nil,
		"ro":   {perm(authpb.READ, "in/", "in0")},
		"wo":   {perm(authpb.WRITE, "in/", "in0")},
		"rw":   {perm(authpb.READWRITE, "in/", "in0"), perm(authpb.READ, "k1", ""), perm(authpb.READ, "z", "\x00")},
	}
	for _, role := range []string{"root", "ro", "wo", "rw"} {
		if _, err := s.auth.RoleAdd(ctx, &pb.AuthRoleAddRequest{Name: role}); err != nil {
			return fmt.Errorf("role add %s: %v", role, err)
		}
		for _, p := range grants[role] {
			if _, err := s.auth.RoleGrantPermission(ctx, &pb.AuthRoleGrantPermissionRequest{Name: role, Perm: p}); err != nil {
				return fmt.Errorf("grant %s: %v", role, err)
			}
		}
		if _, err := s.auth.UserGrantRole(ctx, &pb.AuthUserGrantRoleRequest{User: role, Role: role}); err != nil {
			return fmt.Errorf("grant role %s: %v", role, err)
		}
	}
	for _, k := range []string{"in/a", "out/a", "k1", "z1"} {
		if _, err := s.kv.Put(ctx, &pb.PutRequest{Key: []byte(k), Value: []byte("v")}); err != nil {
			return err
		}
	}
	// Leases holding a key inside (1001) and outside (1002) the granted prefix, in a fixed
	// order (a Go map's order is random per iteration, so the two servers' revisions differed).
	for _, l := range []struct {
		id  int64
		key string
	}{{1001, "in/lease"}, {1002, "out/lease"}} {
		id, key := l.id, l.key
		if _, err := s.lease.LeaseGrant(ctx, &pb.LeaseGrantRequest{ID: id, TTL: 600}); err != nil {
			return err
		}
		if _, err := s.kv.Put(ctx, &pb.PutRequest{Key: []byte(key), Value: []byte("v"), Lease: id}); err != nil {
			return err
		}
	}
	if _, err := s.kv.Compact(ctx, &pb.CompactionRequest{Revision: 2}); err != nil {
		return err
	}
	if _, err := s.auth.AuthEnable(ctx, &pb.AuthEnableRequest{}); err != nil {
		return fmt.Errorf("auth enable: %v", err)
	}
	return authenticateAll(s)
}

func authenticateAll(s *side) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for u, pw := range passwords {
		r, err := s.auth.Authenticate(ctx, &pb.AuthenticateRequest{Name: u, Password: pw})
		if err != nil {
			return fmt.Errorf("authenticate %s: %v", u, err)
		}
		s.tokens[u] = r.Token
	}
	return nil
}
