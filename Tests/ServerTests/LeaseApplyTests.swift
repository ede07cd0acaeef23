import Foundation
import Logging
import MVCC
import Proto
import Raft
import Testing
@testable import Server

/// Lease requests through the apply pipeline: Raft entries in, store +
/// lessor + watch hub out, as on a member.
@Suite struct LeaseApplyTests {
    final class Member {
        let f: WatchFixture
        let lessor: Lessor
        let clock = ManualClock()
        let alarms: AlarmStore
        let applier: ApplyPipeline
        let waits = WaitRegistry<AppliedResult>()
        var index: UInt64 = 0

        init() throws {
            f = try WatchFixture()
            lessor = Lessor(minTTLSeconds: 2, clock: clock)
            alarms = AlarmStore(path: f.dir + "/alarms")
            applier = ApplyPipeline(store: f.store, lessor: lessor, hub: f.hub, alarms: alarms, waits: waits,
                                    logger: Logger(label: "test"))
        }

        func entry(_ build: (inout Swiftetcd.InternalRaftRequest) -> Void) -> Entry {
            var r = Swiftetcd.InternalRaftRequest()
            build(&r)
            index += 1
            return Entry(term: 1, index: index, data: r.serializedBytes())
        }

        func grant(_ id: Int64, ttl: Int64) -> Entry {
            entry { var g = Etcdserverpb.LeaseGrantRequest(); g.id = id; g.ttl = ttl; $0.leaseGrant = g }
        }

        func put(_ key: String, lease: Int64) -> Entry {
            entry { var p = Etcdserverpb.PutRequest(); p.key = Array(key.utf8); p.value = [1]; p.lease = lease; $0.put = p }
        }

        func revoke(_ id: Int64) -> Entry {
            entry { var r = Etcdserverpb.LeaseRevokeRequest(); r.id = id; $0.leaseRevoke = r }
        }
    }

    @Test func grantPutRevokeInOneBatch() throws {
        let m = try Member()
        let s = m.f.stream()
        m.f.hub.create(WatchSpec(key: [0], rangeEnd: [0]), on: s)
        // Grant, attach two keys, a put with an unknown lease, then revoke: all
        // in one Raft batch, so each lease step must see the ones before it.
        m.applier.apply([m.grant(5, ttl: 1), m.put("a", lease: 5), m.put("b", lease: 5), m.put("c", lease: 6),
                         m.put("free", lease: 0), m.revoke(5)], term: 1)
        #expect(try m.f.store.get(Array("a".utf8)) == nil)
        #expect(try m.f.store.get(Array("b".utf8)) == nil)
        #expect(try m.f.store.get(Array("c".utf8)) == nil)  // lease 6 not found: not written
        #expect(try m.f.store.get(Array("free".utf8)) != nil)
        #expect(m.lessor.ids().isEmpty)
        #expect(try m.f.store.leases().isEmpty)
        let revs = m.f.hub.take(s).compactMap(\.eventRevisions).map(\.1)
        // puts a, b, free at 2, 3, 4; the revoke deletes a and b in ONE revision.
        #expect(revs == [[2], [3], [4], [5, 5]])
    }

    @Test func grantsPersistAndClampAndDuplicatesFail() throws {
        let m = try Member()
        m.applier.apply([m.grant(9, ttl: 1), m.grant(9, ttl: 100), m.grant(10, ttl: 30)], term: 1)
        #expect(try m.f.store.leases() == [StoredLease(id: 9, ttlSeconds: 2), StoredLease(id: 10, ttlSeconds: 30)])
        #expect(m.lessor.ids() == [9, 10])
    }

    @Test func leaseShowsInRangeAndUnknownLeaseIsRefused() throws {
        let m = try Member()
        m.applier.apply([m.grant(1, ttl: 10)], term: 1)
        let put = m.put("k", lease: 1), bad = m.put("x", lease: 2)
        m.applier.apply([put, bad], term: 1)
        #expect(try m.f.store.get(Array("k".utf8))?.lease == 1)
        #expect(try m.f.store.get(Array("x".utf8)) == nil)
        #expect(m.lessor.timeToLive(1)?.keys == [Array("k".utf8)])
    }
}
