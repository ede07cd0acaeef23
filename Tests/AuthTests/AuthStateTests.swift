import Foundation
import Testing
import Proto
@testable import Auth

func hashed(_ password: String) -> String { Data(PasswordHasher.hash(password, cost: 4)).base64EncodedString() }

func addUser(_ name: String, password: String = "pw", noPassword: Bool = false) -> AuthRequest {
    var r = Etcdserverpb.AuthUserAddRequest()
    r.name = name
    if noPassword {
        var o = Authpb.UserAddOptions()
        o.noPassword = true
        r.options = o
    } else {
        r.hashedPassword = hashed(password)
    }
    return .userAdd(r)
}

func perm(_ type: Authpb.Permission.TypeEnum, _ key: String, _ end: String = "") -> Authpb.Permission {
    var p = Authpb.Permission()
    p.permType = type
    p.key = Array(key.utf8)
    p.rangeEnd = Array(end.utf8)
    return p
}

/// etcd's auth store operations: answers, errors and revision bumps, the
/// same steps etcdctl's flow takes against etcd 3.5.1.
@Suite struct AuthStateTests {
    @discardableResult
    func apply(_ s: inout AuthState, _ r: AuthRequest, index: UInt64 = 1) throws -> AuthApplied {
        try s.apply(r, index: index)
    }

    @Test func etcdctlFlowRevisions() throws {
        var s = AuthState()
        #expect(s.initialize() == AuthRecord.revision(1))
        #expect(throws: AuthFailure.rootUserNotExist) { try apply(&s, .enable) }
        try apply(&s, addUser("root"))
        #expect(s.revision == 2)
        #expect(throws: AuthFailure.rootRoleNotExist) { try apply(&s, .enable) }
        try apply(&s, .roleAdd(name: "root"))
        try apply(&s, .userGrantRole(user: "root", role: "root"))
        #expect(s.revision == 4)
        let enabled = try apply(&s, .enable)
        #expect(s.enabled && s.revision == 4 && enabled.records == [.enabled(true)], "enable does not bump the revision")
        #expect(try apply(&s, .enable).records.isEmpty)
        try apply(&s, .userGrantRole(user: "root", role: "root"))
        #expect(s.revision == 4, "a role already granted is a no-op")
        let disabled = try apply(&s, .disable)
        #expect(!s.enabled && s.revision == 5 && disabled.records == [.enabled(false), .revision(5)])
        #expect(try apply(&s, .disable).records.isEmpty)
    }

    @Test func userErrors() throws {
        var s = AuthState()
        _ = s.initialize()
        #expect(throws: AuthFailure.userEmpty) { try apply(&s, addUser("")) }
        try apply(&s, addUser("alice"))
        #expect(throws: AuthFailure.userAlreadyExist) { try apply(&s, addUser("alice")) }
        #expect(throws: AuthFailure.userNotFound) { try apply(&s, .userGet(name: "bob")) }
        #expect(throws: AuthFailure.roleNotFound) { try apply(&s, .userGrantRole(user: "alice", role: "nope")) }
        #expect(throws: AuthFailure.userNotFound) { try apply(&s, .userGrantRole(user: "bob", role: "nope")) }
        #expect(throws: AuthFailure.roleNotGranted) { try apply(&s, .userRevokeRole(name: "alice", role: "r")) }
        try apply(&s, .userGrantRole(user: "alice", role: "root"))  // root need not exist as a role
        try apply(&s, .roleAdd(name: "b"))
        try apply(&s, .roleAdd(name: "a"))
        try apply(&s, .userGrantRole(user: "alice", role: "b"))
        try apply(&s, .userGrantRole(user: "alice", role: "a"))
        #expect(try apply(&s, .userGet(name: "alice")).answer == .userRoles(["a", "b", "root"]))
        try apply(&s, .userRevokeRole(name: "alice", role: "b"))
        #expect(try apply(&s, .userGet(name: "alice")).answer == .userRoles(["a", "root"]))
        let deleted = try apply(&s, .userDelete(name: "alice"))
        #expect(deleted.invalidatedUser == "alice")
        #expect(throws: AuthFailure.userNotFound) { try apply(&s, .userDelete(name: "alice")) }
    }

    @Test func rootIsProtectedOnlyWhileEnabled() throws {
        var s = AuthState()
        _ = s.initialize()
        try apply(&s, addUser("root"))
        try apply(&s, .userGrantRole(user: "root", role: "root"))
        try apply(&s, .roleAdd(name: "root"))
        try apply(&s, .enable)
        #expect(throws: AuthFailure.invalidAuthMgmt) { try apply(&s, .userDelete(name: "root")) }
        #expect(throws: AuthFailure.invalidAuthMgmt) { try apply(&s, .userRevokeRole(name: "root", role: "root")) }
        #expect(throws: AuthFailure.invalidAuthMgmt) { try apply(&s, .roleDelete(role: "root")) }
        try apply(&s, .disable)
        try apply(&s, .roleDelete(role: "root"))
        #expect(s.user("root")?.roles == [], "deleting a role revokes it from its users")
    }

    @Test func listsAreInByteOrder() throws {
        var s = AuthState()
        for name in ["b", "é", "a", "Z", "e\u{301}"] { try apply(&s, addUser(name)) }
        #expect(s.userNames == ["Z", "a", "b", "e\u{301}", "é"])
        #expect(s.users.count == 5, "canonically equivalent names are distinct users, as in etcd")
        #expect(try apply(&s, .userList).answer == .users(["Z", "a", "b", "e\u{301}", "é"]))
    }

    @Test func grantAndRevokePermissions() throws {
        var s = AuthState()
        #expect(throws: AuthFailure.roleNotFound) { try apply(&s, .roleGrantPermission(name: "r", perm: perm(.read, "a"))) }
        #expect(throws: AuthFailure.permissionNotGiven) { try apply(&s, .roleGrantPermission(name: "r", perm: nil)) }
        #expect(throws: AuthFailure.roleEmpty) { try apply(&s, .roleAdd(name: "")) }
        try apply(&s, .roleAdd(name: "r"))
        #expect(throws: AuthFailure.roleAlreadyExist) { try apply(&s, .roleAdd(name: "r")) }
        #expect(throws: AuthFailure.permissionNotGiven) { try apply(&s, .roleGrantPermission(name: "r", perm: nil)) }
        try apply(&s, .roleGrantPermission(name: "r", perm: perm(.read, "m", "z")))
        try apply(&s, .roleGrantPermission(name: "r", perm: perm(.write, "c")))
        try apply(&s, .roleGrantPermission(name: "r", perm: perm(.readwrite, "m", "z")))  // updates in place
        try apply(&s, .roleGrantPermission(name: "r", perm: perm(.read, "a", "\0")))
        #expect(try apply(&s, .roleGet(role: "r")).answer
                == .permissions([perm(.read, "a", "\0"), perm(.write, "c"), perm(.readwrite, "m", "z")]))
        #expect(throws: AuthFailure.permissionNotGranted) {
            try apply(&s, .roleRevokePermission(role: "r", key: Array("m".utf8), rangeEnd: []))
        }
        try apply(&s, .roleRevokePermission(role: "r", key: Array("m".utf8), rangeEnd: Array("z".utf8)))
        #expect(try apply(&s, .roleGet(role: "r")).answer == .permissions([perm(.read, "a", "\0"), perm(.write, "c")]))
        #expect(s.revision == 6)
    }

    @Test func authenticateAssignsSimpleTokenAtIndex() throws {
        var s = AuthState()
        try apply(&s, addUser("root"))
        try apply(&s, addUser("cert", noPassword: true))
        try apply(&s, .userGrantRole(user: "root", role: "root"))
        #expect(throws: AuthFailure.authNotEnabled) { try apply(&s, .authenticate(name: "root", simpleToken: "abc")) }
        try apply(&s, .enable)
        #expect(try apply(&s, .authenticate(name: "root", simpleToken: "abc"), index: 42).answer
                == .authenticated(user: "root", revision: 3, simpleToken: "abc.42"))
        #expect(throws: AuthFailure.authFailed) { try apply(&s, .authenticate(name: "cert", simpleToken: "abc")) }
        #expect(throws: AuthFailure.authFailed) { try apply(&s, .authenticate(name: "nobody", simpleToken: "abc")) }
    }

    @Test func changePasswordKeepsRolesAndNoPasswordUsers() throws {
        var s = AuthState()
        try apply(&s, addUser("u", password: "old"))
        try apply(&s, .userGrantRole(user: "u", role: "root"))
        let changed = try apply(&s, .userChangePassword(name: "u", hashedPassword: hashed("new")))
        #expect(changed.invalidatedUser == "u")
        #expect(PasswordHasher.verify("new", hash: s.user("u")!.password))
        #expect(s.user("u")!.roles == ["root"])
        try apply(&s, addUser("c", noPassword: true))
        try apply(&s, .userChangePassword(name: "c", hashedPassword: hashed("x")))
        #expect(s.user("c")!.password.isEmpty)
        // A client's own hash that is not base64: etcd 3.5.1's error; a no-password user ignores it.
        #expect(throws: AuthFailure.noPasswordUser) { try apply(&s, .userChangePassword(name: "u", hashedPassword: "$2a$10$x")) }
        try apply(&s, .userChangePassword(name: "c", hashedPassword: "$2a$10$x"))
        // Go's base64 skips newlines: "\n" is an empty hash to etcd 3.5.1 (API fuzzer seed 3019).
        try apply(&s, .userChangePassword(name: "u", hashedPassword: "\n"))
        #expect(s.user("u")!.password.isEmpty)
        #expect(throws: AuthFailure.noPasswordUser) { try apply(&s, .userChangePassword(name: "u", hashedPassword: "Zm9vY")) }
        #expect(throws: AuthFailure.other("illegal base64 data at input byte 4")) {
            var r = Etcdserverpb.AuthUserAddRequest()
            r.name = "d"
            r.hashedPassword = "Zm9vY"
            try apply(&s, .userAdd(r))
        }
    }

    @Test func recordsRoundTrip() throws {
        var s = AuthState()
        _ = s.initialize()
        try apply(&s, addUser("root"))
        try apply(&s, .roleAdd(name: "r"))
        try apply(&s, .roleGrantPermission(name: "r", perm: perm(.readwrite, "k", "l")))
        try apply(&s, .userGrantRole(user: "root", role: "r"))
        try apply(&s, .userGrantRole(user: "root", role: "root"))
        try apply(&s, .enable)
        #expect(try AuthState(records: s.records) == s)
    }

    /// The bytes etcd (gogoproto) writes for a user and a role.
    @Test func recordsUseEtcdEncodings() throws {
        var user = Authpb.User()
        user.name = Array("root".utf8)
        user.password = Array("$2a$".utf8)
        user.roles = ["root"]
        user.options = Authpb.UserAddOptions()
        #expect(AuthRecord.user(user).value == [0x0a, 4] + Array("root".utf8) + [0x12, 4] + Array("$2a$".utf8)
                + [0x1a, 4] + Array("root".utf8) + [0x22, 0])
        var role = Authpb.Role()
        role.name = Array("r".utf8)
        role.keyPermission = [perm(.readwrite, "k", "l")]
        #expect(AuthRecord.role(role).value == [0x0a, 1, 0x72, 0x12, 8, 0x08, 2, 0x12, 1, 0x6b, 0x1a, 1, 0x6c])
        #expect(AuthRecord.revision(258).value == [0, 0, 0, 0, 0, 0, 1, 2])
    }
}
