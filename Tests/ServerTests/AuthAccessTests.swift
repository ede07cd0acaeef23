import Auth
import Foundation
import GRPCWire
import MVCC
import Proto
import Testing
@testable import Server

/// The services' access checks with auth: who the caller is (token,
/// Authorization), what each action needs, and etcd's error forms.
@Suite struct AuthAccessTests {
    /// root (root role) and app (read-write on [app/, app0)), auth on, with
    /// a simple token for each: "root.1" and "app.2".
    static func access(enabled: Bool = true) throws -> AuthAccess {
        var s = AuthState()
        _ = s.initialize()
        for u in ["root", "app"] { _ = try s.apply(addUser(u), index: 1) }
        _ = try s.apply(.roleAdd(name: "app"), index: 1)
        _ = try s.apply(.roleGrantPermission(name: "app", perm: perm(.readwrite, "app/", "app0")), index: 1)
        _ = try s.apply(.userGrantRole(user: "app", role: "app"), index: 1)
        _ = try s.apply(.userGrantRole(user: "root", role: "root"), index: 1)
        if enabled { _ = try s.apply(.enable, index: 1) }
        let simple = SimpleTokens(ttlSeconds: 300)
        let store = AuthStore(tokens: .simple(simple), bcryptCost: 4)
        try store.load(s.records)
        simple.assign("root.1", to: "root")
        simple.assign("app.2", to: "app")
        return AuthAccess(auth: store, appliedIndex: { 10 }, barrier: {}, leaseKeys: { _ in [Array("other".utf8)] })
    }

    static func context(_ path: String, token: String? = nil, header: String = "token") -> GRPCRequestContext {
        GRPCRequestContext(headers: token.map { [(header, $0)] } ?? [], path: path)
    }

    static let range = Etcdserverpb.KVService.range.path

    @Test func readsWritesAndIdentity() async throws {
        let a = try Self.access()
        let rev = a.auth.snapshot.revision
        let id = try await a.check(.read(key: Array("app/x".utf8), rangeEnd: []), Self.context(Self.range, token: "app.2"))
        #expect(id == RequestIdentity(username: "app", authRevision: rev))
        await #expect(throws: AuthFailure.permissionDenied.status) {
            try await a.check(.read(key: Array("other".utf8), rangeEnd: []), Self.context(Self.range, token: "app.2"))
        }
        await #expect(throws: AuthFailure.userEmpty.status) {
            try await a.check(.read(key: Array("app/x".utf8), rangeEnd: []), Self.context(Self.range))
        }
        await #expect(throws: AuthFailure.invalidAuthToken.status) {
            try await a.check(.read(key: Array("app/x".utf8), rangeEnd: []), Self.context(Self.range, token: "nope.3"))
        }
        // The gateway forwards the HTTP Authorization header.
        let viaGateway = Self.context(Self.range, token: "app.2", header: "authorization")
        #expect(try await a.check(.write(key: Array("app/x".utf8), rangeEnd: [], alsoReads: true), viaGateway) != nil)
        // etcd's doSerialize: the auth store moved on after the check.
        #expect(throws: AuthFailure.authOldRevision.status) { try a.confirm(RequestIdentity(username: "app", authRevision: rev - 1)) }
    }

    @Test func adminAndMaintenanceForms() async throws {
        let a = try Self.access()
        let defrag = Etcdserverpb.MaintenanceService.defragment.path
        await #expect(throws: AuthFailure.permissionDenied.unmapped) { try await a.check(.admin, Self.context(defrag, token: "app.2")) }
        await #expect(throws: AuthFailure.userEmpty.unmapped) { try await a.check(.admin, Self.context(defrag)) }
        let memberAdd = Etcdserverpb.ClusterService.memberAdd.path
        await #expect(throws: AuthFailure.permissionDenied.status) { try await a.check(.admin, Self.context(memberAdd, token: "app.2")) }
        #expect(try await a.check(.admin, Self.context(memberAdd, token: "root.1"))?.username == "root")
        // A lease's keys: revoke needs write on each, TimeToLive with keys read.
        await #expect(throws: AuthFailure.permissionDenied.status) {
            try await a.check(.lease(id: 5), Self.context(Etcdserverpb.LeaseService.leaseRevoke.path, token: "app.2"))
        }
        await #expect(throws: AuthFailure.permissionDenied.status) {
            try await a.check(.lease(id: 5), Self.context(Etcdserverpb.LeaseService.leaseTimeToLive.path, token: "app.2"))
        }
    }

    @Test func openRequests() async throws {
        let a = try Self.access()
        let status = Etcdserverpb.MaintenanceService.status.path
        #expect(try await a.check(.open, Self.context(status, token: "garbage")) == nil, "Status never looks at the token")
        let grant = Etcdserverpb.LeaseService.leaseGrant.path
        await #expect(throws: AuthFailure.invalidAuthToken.status) { try await a.check(.open, Self.context(grant, token: "bad.1")) }
        #expect(try await a.check(.open, Self.context(grant, token: "app.2"))?.username == "app", "a proposal carries its caller")
    }

    /// etcd's AuthInfoFromTLS: without a token the verified client
    /// certificate's CN is the user; a token wins; a gateway call with an
    /// Accept header never uses the CN (it is the gateway's certificate).
    @Test func clientCertificateCommonName() async throws {
        let a = try Self.access()
        func context(cn: String, headers: [(String, String)] = []) -> GRPCRequestContext {
            GRPCRequestContext(headers: headers, path: Self.range,
                               identity: GRPCConnectionIdentity(verifiedClientCertCommonName: cn))
        }
        let appKey = Array("app/x".utf8)
        #expect(try await a.check(.read(key: appKey, rangeEnd: []), context(cn: "app"))?.username == "app")
        await #expect(throws: AuthFailure.permissionDenied.status) {
            try await a.check(.read(key: Array("other".utf8), rangeEnd: []), context(cn: "app"))
        }
        #expect(try await a.check(.admin, context(cn: "app", headers: [("token", "root.1")]))?.username == "root")
        await #expect(throws: AuthFailure.userEmpty.status) {
            try await a.check(.read(key: appKey, rangeEnd: []), context(cn: "app", headers: [("grpcgateway-accept", "*/*")]))
        }
        await #expect(throws: AuthFailure.permissionDenied.status) {
            try await a.check(.read(key: appKey, rangeEnd: []), context(cn: "stranger"))
        }
    }

    @Test func authOff() async throws {
        let a = try Self.access(enabled: false)
        #expect(try await a.check(.admin, Self.context(Self.range)) == nil)
        // etcd 3.5 still resolves a token while auth is off: none survives a disable.
        await #expect(throws: AuthFailure.invalidAuthToken.status) { try await a.check(.read(key: [1], rangeEnd: []), Self.context(Self.range, token: "app.2")) }
    }
}

private func addUser(_ name: String) -> AuthRequest {
    var r = Etcdserverpb.AuthUserAddRequest()
    r.name = name
    r.hashedPassword = "JDJh"
    return .userAdd(r)
}

private func perm(_ type: Authpb.Permission.TypeEnum, _ key: String, _ end: String) -> Authpb.Permission {
    var p = Authpb.Permission()
    p.permType = type
    p.key = Array(key.utf8)
    p.rangeEnd = Array(end.utf8)
    return p
}
