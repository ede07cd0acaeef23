import Auth
import Foundation
import Logging
import MVCC
import Proto
import Raft
import Testing
@testable import Server

/// Auth through the apply pipeline, as every member applies it: auth entries
/// change the store's auth buckets in the entry's commit, KV entries are
/// checked against the identity in their header at the log position they
/// apply at.
@Suite struct AuthApplyTests {
    final class Member {
        let f: WatchFixture
        let lessor = Lessor(minTTLSeconds: 2, clock: ManualClock())
        let auth = AuthStore(tokens: .simple(SimpleTokens(ttlSeconds: 300)), bcryptCost: 4)
        let applier: ApplyPipeline
        let waits = WaitRegistry<AppliedResult>()
        var index: UInt64 = 0

        init() throws {
            f = try WatchFixture()
            applier = ApplyPipeline(store: f.store, lessor: lessor, hub: f.hub, alarms: AlarmStore(path: f.dir + "/alarms"),
                                    waits: waits, auth: auth, logger: Logger(label: "test"))
        }

        func entry(user: String = "", revision: UInt64 = 0, _ build: (inout Swiftetcd.InternalRaftRequest) -> Void) -> Entry {
            var r = Swiftetcd.InternalRaftRequest()
            build(&r)
            var h = Swiftetcd.RequestHeader()
            h.username = user
            h.authRevision = revision
            r.header = h
            index += 1
            r.id = index
            return Entry(term: 1, index: index, data: r.serializedBytes())
        }

        /// Applies `e` and returns what its proposer would get (its request ID is its index).
        func apply(_ e: Entry) async throws -> AppliedResult {
            try await waits.wait(id: e.index) { applier.apply([e], term: 1) }
        }

        func setUp() async throws {
            for e in [
                entry { var r = Etcdserverpb.AuthUserAddRequest(); r.name = "root"; r.hashedPassword = "JDJh"; $0.authUserAdd = r },
                entry { var r = Etcdserverpb.AuthUserGrantRoleRequest(); r.user = "root"; r.role = "root"; $0.authUserGrantRole = r },
                entry { var r = Etcdserverpb.AuthUserAddRequest(); r.name = "app"; r.hashedPassword = "JDJh"; $0.authUserAdd = r },
                entry { var r = Etcdserverpb.AuthRoleAddRequest(); r.name = "app"; $0.authRoleAdd = r },
                entry {
                    var p = Authpb.Permission(); p.permType = .readwrite; p.key = Array("app/".utf8); p.rangeEnd = Array("app0".utf8)
                    var r = Etcdserverpb.AuthRoleGrantPermissionRequest(); r.name = "app"; r.perm = p
                    $0.authRoleGrantPermission = r
                },
                entry { var r = Etcdserverpb.AuthUserGrantRoleRequest(); r.user = "app"; r.role = "app"; $0.authUserGrantRole = r },
                entry { $0.authEnable = Etcdserverpb.AuthEnableRequest() },
            ] {
                _ = try await apply(e).response.get()
            }
        }

        func put(_ key: String, user: String, revision: UInt64) -> Entry {
            entry(user: user, revision: revision) { var p = Etcdserverpb.PutRequest(); p.key = Array(key.utf8); p.value = [1]; $0.put = p }
        }
    }

    @Test func authEntriesPersistInTheStore() async throws {
        let m = try Member()
        try await m.setUp()
        #expect(m.auth.snapshot.enabled && m.auth.snapshot.revision == 6)
        #expect(try m.f.store.bucketRecords("authUsers").count == 2)
        #expect(try m.f.store.bucketRecords("auth").map(\.value) == [[1], [0, 0, 0, 0, 0, 0, 0, 6]])
        // A second member loading the store sees the same state.
        let other = AuthStore(tokens: .simple(SimpleTokens(ttlSeconds: 300)), bcryptCost: 4)
        try other.load(AuthRecord.Bucket.allCases.flatMap { b in
            try m.f.store.bucketRecords(b.rawValue).map { AuthRecord(bucket: b, key: $0.key, value: $0.value) }
        })
        #expect(other.snapshot.state == m.auth.snapshot.state)
    }

    @Test func writesAreCheckedAtApply() async throws {
        let m = try Member()
        try await m.setUp()
        let rev = m.auth.snapshot.revision
        #expect(try await m.apply(m.put("app/a", user: "app", revision: rev)).response.get().revision == 2)
        await #expect(throws: ServerError(AuthFailure.permissionDenied.status)) { try await m.apply(m.put("other", user: "app", revision: rev)).response.get() }
        await #expect(throws: ServerError(AuthFailure.userEmpty.status)) { try await m.apply(m.put("app/a", user: "", revision: 0)).response.get() }
        #expect(try await m.apply(m.put("other", user: "root", revision: rev)).response.get().revision == 3)
        #expect(try m.f.store.get(Array("other".utf8))?.modRevision == 3)
    }

    /// A put checked at revision R, applied after a revocation moved the
    /// auth store to R+1, is refused (etcd's ErrAuthOldRevision).
    @Test func writeAfterARevocationIsOld() async throws {
        let m = try Member()
        try await m.setUp()
        let checkedAt = m.auth.snapshot.revision
        let revoke = m.entry(user: "root", revision: checkedAt) {
            var r = Etcdserverpb.AuthRoleRevokePermissionRequest(); r.role = "app"; r.key = Array("app/".utf8); r.rangeEnd = Array("app0".utf8)
            $0.authRoleRevokePermission = r
        }
        _ = try await m.apply(revoke).response.get()
        await #expect(throws: ServerError(AuthFailure.authOldRevision.status)) { try await m.apply(m.put("app/a", user: "app", revision: checkedAt)).response.get() }
        #expect(try m.f.store.get(Array("app/a".utf8)) == nil)
    }

    @Test func managementNeedsRoot() async throws {
        let m = try Member()
        try await m.setUp()
        let rev = m.auth.snapshot.revision
        let add = m.entry(user: "app", revision: rev) { var r = Etcdserverpb.AuthRoleAddRequest(); r.name = "x"; $0.authRoleAdd = r }
        await #expect(throws: ServerError(AuthFailure.permissionDenied.status)) { try await m.apply(add).response.get() }
        let get = m.entry(user: "app", revision: rev) { var r = Etcdserverpb.AuthUserGetRequest(); r.name = "app"; $0.authUserGet = r }
        #expect(try await m.apply(get).auth == .userRoles(["app"]))
        #expect(m.auth.snapshot.revision == rev, "refused operations change nothing")
    }
}

extension AuthApplyTests {
    /// A put attaching a lease whose keys the user may not write is refused,
    /// even when the key joined the lease earlier in the same batch.
    @Test func leaseKeysIncludeEarlierEntriesOfTheBatch() async throws {
        let m = try Member()
        try await m.setUp()
        let rev = m.auth.snapshot.revision
        let grant = m.entry(user: "root", revision: rev) { var g = Etcdserverpb.LeaseGrantRequest(); g.id = 7; g.ttl = 60; $0.leaseGrant = g }
        _ = try await m.apply(grant).response.get()
        let rootPut = m.entry(user: "root", revision: rev) {
            var p = Etcdserverpb.PutRequest(); p.key = Array("secret".utf8); p.lease = 7; $0.put = p
        }
        let appPut = m.entry(user: "app", revision: rev) {
            var p = Etcdserverpb.PutRequest(); p.key = Array("app/x".utf8); p.lease = 7; $0.put = p
        }
        let result = try await m.waits.wait(id: appPut.index) { m.applier.apply([rootPut, appPut], term: 1) }
        #expect(throws: ServerError(AuthFailure.permissionDenied.status)) { try result.response.get() }
        #expect(try m.f.store.get(Array("app/x".utf8)) == nil)
    }
}
