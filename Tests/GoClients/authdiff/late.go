package main

import (
	gocontext "context"

	"go.etcd.io/etcd/auth/authpb"
	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
)

// managementSteps: the Auth RPCs' error cases, as root, before the matrix.
func managementSteps() []step {
	return []step{
		authStep("user add empty name", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.UserAdd(ctx, &pb.AuthUserAddRequest{Name: "", Password: "x"})
		}),
		authStep("user add existing", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.UserAdd(ctx, &pb.AuthUserAddRequest{Name: "ro", Password: "x"})
		}),
		authStep("user add no-password", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.UserAdd(ctx, &pb.AuthUserAddRequest{Name: "cert", Options: &authpb.UserAddOptions{NoPassword: true}})
		}),
		authStep("authenticate no-password user", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.Authenticate(ctx, &pb.AuthenticateRequest{Name: "cert", Password: "x"})
		}),
		authStep("authenticate wrong password", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.Authenticate(ctx, &pb.AuthenticateRequest{Name: "ro", Password: "nope"})
		}),
		authStep("authenticate unknown user", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.Authenticate(ctx, &pb.AuthenticateRequest{Name: "ghost", Password: "x"})
		}),
		authStep("authenticate empty name", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.Authenticate(ctx, &pb.AuthenticateRequest{})
		}),
		authStep("user get unknown", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.UserGet(ctx, &pb.AuthUserGetRequest{Name: "ghost"})
		}),
		authStep("user delete unknown", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.UserDelete(ctx, &pb.AuthUserDeleteRequest{Name: "ghost"})
		}),
		authStep("user change password unknown", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.UserChangePassword(ctx, &pb.AuthUserChangePasswordRequest{Name: "ghost", Password: "x"})
		}),
		authStep("user grant unknown role", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.UserGrantRole(ctx, &pb.AuthUserGrantRoleRequest{User: "ro", Role: "ghost"})
		}),
		authStep("user grant role to unknown user", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.UserGrantRole(ctx, &pb.AuthUserGrantRoleRequest{User: "ghost", Role: "ro"})
		}),
		authStep("user grant role twice", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.UserGrantRole(ctx, &pb.AuthUserGrantRoleRequest{User: "ro", Role: "ro"})
		}),
		authStep("user revoke role not granted", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.UserRevokeRole(ctx, &pb.AuthUserRevokeRoleRequest{Name: "ro", Role: "wo"})
		}),
		authStep("user revoke root from root", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.UserRevokeRole(ctx, &pb.AuthUserRevokeRoleRequest{Name: "root", Role: "root"})
		}),
		authStep("user delete root", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.UserDelete(ctx, &pb.AuthUserDeleteRequest{Name: "root"})
		}),
		authStep("role add empty", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.RoleAdd(ctx, &pb.AuthRoleAddRequest{})
		}),
		authStep("role add existing", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.RoleAdd(ctx, &pb.AuthRoleAddRequest{Name: "ro"})
		}),
		authStep("role get unknown", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.RoleGet(ctx, &pb.AuthRoleGetRequest{Role: "ghost"})
		}),
		authStep("role get root", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.RoleGet(ctx, &pb.AuthRoleGetRequest{Role: "root"})
		}),
		authStep("role delete root", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.RoleDelete(ctx, &pb.AuthRoleDeleteRequest{Role: "root"})
		}),
		authStep("role delete unknown", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.RoleDelete(ctx, &pb.AuthRoleDeleteRequest{Role: "ghost"})
		}),
		authStep("role grant to unknown role", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.RoleGrantPermission(ctx, &pb.AuthRoleGrantPermissionRequest{Name: "ghost", Perm: perm(authpb.READ, "a", "")})
		}),
		authStep("role add inv", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.RoleAdd(ctx, &pb.AuthRoleAddRequest{Name: "inv"})
		}),
		authStep("role grant inverted range", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.RoleGrantPermission(ctx, &pb.AuthRoleGrantPermissionRequest{Name: "inv", Perm: perm(authpb.WRITE, "z", "a")})
		}),
		authStep("role grant same key other end", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.RoleGrantPermission(ctx, &pb.AuthRoleGrantPermissionRequest{Name: "inv", Perm: perm(authpb.READ, "z", "zz")})
		}),
		authStep("role grant update type", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.RoleGrantPermission(ctx, &pb.AuthRoleGrantPermissionRequest{Name: "inv", Perm: perm(authpb.READWRITE, "z", "zz")})
		}),
		authStep("role grant empty key", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.RoleGrantPermission(ctx, &pb.AuthRoleGrantPermissionRequest{Name: "inv", Perm: perm(authpb.READ, "", "")})
		}),
		authStep("role get inv", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.RoleGet(ctx, &pb.AuthRoleGetRequest{Role: "inv"})
		}),
		authStep("role revoke not granted", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.RoleRevokePermission(ctx, &pb.AuthRoleRevokePermissionRequest{Role: "inv", Key: []byte("q")})
		}),
		authStep("role revoke", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.RoleRevokePermission(ctx, &pb.AuthRoleRevokePermissionRequest{Role: "inv", Key: []byte("z"), RangeEnd: []byte("a")})
		}),
		authStep("user list", func(s *side, ctx gocontext.Context, u string) (message, error) { return s.auth.UserList(ctx, &pb.AuthUserListRequest{}) }),
		authStep("role list", func(s *side, ctx gocontext.Context, u string) (message, error) { return s.auth.RoleList(ctx, &pb.AuthRoleListRequest{}) }),
		authStep("auth status", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return authStatus(s, ctx)
		}),
	}
}

// lateSteps: tokens after their user changes, and after auth is disabled.
func lateSteps() []lateStep {
	rangeAs := func(name, user string) lateStep {
		return lateStep{name: name, user: user, run: requestSteps()[0].run}
	}
	return []lateStep{
		{name: "change ro's password", user: "root", run: authStep("", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.UserChangePassword(ctx, &pb.AuthUserChangePasswordRequest{Name: "ro", Password: "new"})
		}).run},
		rangeAs("range in/a with ro's old token", "ro"),
		{name: "delete wo", user: "root", run: authStep("", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.UserDelete(ctx, &pb.AuthUserDeleteRequest{Name: "wo"})
		}).run},
		rangeAs("range in/a with deleted wo's token", "wo"),
		{name: "revoke rw's role", user: "root", run: authStep("", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.UserRevokeRole(ctx, &pb.AuthUserRevokeRoleRequest{Name: "rw", Role: "rw"})
		}).run},
		rangeAs("range in/a as rw without its role", "rw"),
		{name: "delete role ro", user: "root", run: authStep("", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.RoleDelete(ctx, &pb.AuthRoleDeleteRequest{Role: "ro"})
		}).run},
		{name: "user get ro after its role was deleted", user: "root", run: authStep("", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.UserGet(ctx, &pb.AuthUserGetRequest{Name: "ro"})
		}).run},
		{name: "auth disable", user: "root", run: authStep("", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.AuthDisable(ctx, &pb.AuthDisableRequest{})
		}).run},
		rangeAs("range in/a without a token, auth off", ""),
		rangeAs("range in/a with root's stale token, auth off", "root"),
		rangeAs("range in/a with a bad token, auth off", "bad"),
		{name: "auth status, auth off", user: "", run: authStep("", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return authStatus(s, ctx)
		}).run},
		{name: "authenticate, auth off", user: "", run: authStep("", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.Authenticate(ctx, &pb.AuthenticateRequest{Name: "root", Password: "rootpw"})
		}).run},
		{name: "auth enable again", user: "", run: authStep("", func(s *side, ctx gocontext.Context, u string) (message, error) {
			return s.auth.AuthEnable(ctx, &pb.AuthEnableRequest{})
		}).run},
		rangeAs("range in/a with root's token from before the disable", "root"),
	}
}

type lateStep struct {
	name string
	user string
	run  func(s *side, user string) string
}
