import Foundation
import MVCC
import Testing
@testable import Server

/// A clock the test moves by hand.
final class ManualClock: LeaseClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now = 1000.0
    func nowSeconds() -> Double { lock.withLock { now } }
    func advance(_ seconds: Double) { lock.withLock { now += seconds } }
}

@Suite struct LessorTests {
    @Test func minimumTTLAsEtcdComputesIt() {
        // Defaults: 10 election ticks of 100 ms → 1.5 s → 2 s.
        #expect(Lessor.minTTLSeconds(electionTimeoutMs: 1000, heartbeatIntervalMs: 100) == 2)
        #expect(Lessor.minTTLSeconds(electionTimeoutMs: 5000, heartbeatIntervalMs: 500) == 8)
        #expect(Lessor.minTTLSeconds(electionTimeoutMs: 3000, heartbeatIntervalMs: 100) == 5)
    }

    @Test func grantChecksAndClamps() throws {
        let lessor = Lessor(minTTLSeconds: 2, clock: ManualClock())
        #expect(try lessor.prepareGrant(id: 1, ttlSeconds: 1).get() == StoredLease(id: 1, ttlSeconds: 2))
        lessor.applyGrant(StoredLease(id: 1, ttlSeconds: 2))
        #expect(lessor.prepareGrant(id: 1, ttlSeconds: 10) == .failure(LeaseErrors.exists))
        #expect(lessor.prepareGrant(id: 2, ttlSeconds: Lessor.maxTTLSeconds + 1) == .failure(LeaseErrors.ttlTooLarge))
        #expect(lessor.prepareGrant(id: 0, ttlSeconds: 10) == .failure(LeaseErrors.notFound))
        #expect(LeaseErrors.exists.message == "etcdserver: lease already exists")
        #expect(LeaseErrors.ttlTooLarge.message == "etcdserver: too large lease TTL")
    }

    @Test func onlyThePrimaryExpiresLeases() {
        let clock = ManualClock()
        let lessor = Lessor(minTTLSeconds: 1, clock: clock)
        lessor.applyGrant(StoredLease(id: 7, ttlSeconds: 10))
        clock.advance(100)
        #expect(lessor.expired(limit: 10).isEmpty)  // not leader: clocks are not running
        lessor.promote(extendSeconds: 1)
        clock.advance(10.5)
        #expect(lessor.expired(limit: 10).isEmpty)  // promote gave TTL + extend
        clock.advance(1)
        #expect(lessor.expired(limit: 10) == [7])
        #expect(lessor.expired(limit: 10).isEmpty)  // revoke already proposed
        clock.advance(5)
        #expect(lessor.expired(limit: 10) == [7])  // proposal lost: asked again
    }

    @Test func keepAliveRestartsTheClock() throws {
        let clock = ManualClock()
        let lessor = Lessor(minTTLSeconds: 1, clock: clock)
        lessor.promote(extendSeconds: 0)
        lessor.applyGrant(StoredLease(id: 3, ttlSeconds: 5))
        clock.advance(4)
        #expect(lessor.timeToLive(3)?.remainingSeconds == 1)
        #expect(try lessor.renew(3).get() == Lessor.Renewal(ttlSeconds: 5, needsCheckpointReset: false))
        clock.advance(4)
        #expect(lessor.expired(limit: 10).isEmpty)
        #expect(lessor.timeToLive(3)?.remainingSeconds == 1)
        clock.advance(2)
        #expect(lessor.expired(limit: 10) == [3])
        #expect(lessor.renew(3) == .failure(LeaseErrors.notFound))  // expired: revoke is on its way
        #expect(lessor.renew(99) == .failure(LeaseErrors.notFound))
    }

    @Test func promoteAfterRestartExtendsEveryLease() {
        let clock = ManualClock()
        let lessor = Lessor(minTTLSeconds: 1, clock: clock)
        lessor.load(leases: [StoredLease(id: 1, ttlSeconds: 60), StoredLease(id: 2, ttlSeconds: 600, remainingTTLSeconds: 30)],
                    leasedKeys: [(Array("k".utf8), 1), (Array("orphan".utf8), 9)])
        lessor.promote(extendSeconds: 0)
        #expect(lessor.timeToLive(1)?.remainingSeconds == 60)
        #expect(lessor.timeToLive(2)?.remainingSeconds == 30)  // checkpointed remaining TTL
        #expect(lessor.timeToLive(1)?.keys == [Array("k".utf8)])
        lessor.demote()
        clock.advance(1000)
        #expect(lessor.expired(limit: 10).isEmpty)
    }

    @Test func checkpointsCarryRemainingTTLAcrossPromotion() throws {
        let clock = ManualClock()
        let lessor = Lessor(minTTLSeconds: 1, clock: clock)
        lessor.promote(extendSeconds: 0)
        lessor.applyGrant(StoredLease(id: 1, ttlSeconds: 600))
        lessor.applyGrant(StoredLease(id: 2, ttlSeconds: 600))
        clock.advance(100.5)
        let cps = lessor.checkpointBatches(aboveSeconds: 300, batchSize: 10).joined()
        #expect(cps.map(\.remainingTTLSeconds) == [500, 500])
        for c in cps { lessor.applyCheckpoint(c) }
        #expect(lessor.checkpointBatches(aboveSeconds: 300, batchSize: 10).isEmpty)  // nothing changed since
        // A new leader restarts clocks from the checkpointed remaining TTL.
        lessor.demote()
        lessor.promote(extendSeconds: 0)
        #expect(lessor.timeToLive(1)?.remainingSeconds == 500)
        // A keep-alive asks for the checkpoint to be reset.
        #expect(try lessor.renew(1).get() == Lessor.Renewal(ttlSeconds: 600, needsCheckpointReset: true))
    }

    /// Every due lease is checkpointed each round, in batches, not only the
    /// lowest 1000 IDs (the others used to restart their whole TTL at each
    /// leader change); leases that will not outlive the interval are left
    /// out, as etcd leaves them.
    @Test func checkpointsCoverEveryLongLease() {
        let clock = ManualClock()
        let lessor = Lessor(minTTLSeconds: 1, clock: clock)
        lessor.promote(extendSeconds: 0)
        for id in 1...2500 { lessor.applyGrant(StoredLease(id: Int64(id), ttlSeconds: 3600)) }
        lessor.applyGrant(StoredLease(id: 9000, ttlSeconds: 200))
        for round in 1...2 {
            clock.advance(100.5)
            let batches = lessor.checkpointBatches(aboveSeconds: 300, batchSize: 1000)
            #expect(batches.map(\.count) == [1000, 1000, 500], "round \(round)")
            #expect(batches.joined().map(\.id) == (1...2500).map(Int64.init), "round \(round)")
            for c in batches.joined() { lessor.applyCheckpoint(c) }
        }
        lessor.demote()
        lessor.promote(extendSeconds: 0)
        #expect(lessor.timeToLive(2500)?.remainingSeconds == 3399)
        #expect(lessor.timeToLive(9000)?.remainingSeconds == 200)
    }

    /// A backlog of expired leases is revoked longest expired first, as
    /// etcd's expiry heap orders it, whatever the IDs or the map's order.
    @Test func expiredBacklogDrainsInExpiryOrder() {
        let clock = ManualClock()
        let lessor = Lessor(minTTLSeconds: 1, clock: clock)
        lessor.promote(extendSeconds: 0)
        for i in 0..<2000 { lessor.applyGrant(StoredLease(id: Int64(7919 * i % 2003 + 1), ttlSeconds: 10)); clock.advance(0.01) }
        clock.advance(100)
        let order = (0..<2000).map { Int64(7919 * $0 % 2003 + 1) }
        var revoked: [Int64] = []
        while case let round = lessor.expired(limit: 500), !round.isEmpty { revoked += round }
        #expect(revoked == order)
    }

    /// `--experimental-enable-lease-checkpoint-persist`: only with it does a
    /// checkpointed remaining TTL in the store survive a restart; without it
    /// (etcd 3.5's default) the lease starts over with its full TTL.
    @Test func persistedRemainingTTLCountsOnlyWithCheckpointPersist() {
        for persist in [true, false] {
            let lessor = Lessor(minTTLSeconds: 1, clock: ManualClock())
            lessor.usesPersistedRemainingTTL = persist
            lessor.load(leases: [StoredLease(id: 7, ttlSeconds: 600, remainingTTLSeconds: 42)], leasedKeys: [])
            lessor.promote(extendSeconds: 0)
            #expect(lessor.timeToLive(7)?.remainingSeconds == (persist ? 42 : 600), "persist \(persist)")
        }
    }

    @Test func attachmentsFollowEvents() {
        let lessor = Lessor(minTTLSeconds: 1, clock: ManualClock())
        lessor.applyGrant(StoredLease(id: 1, ttlSeconds: 10))
        lessor.applyGrant(StoredLease(id: 2, ttlSeconds: 10))
        let a = Array("a".utf8), b = Array("b".utf8)
        lessor.applyEvents([Event(type: .put, kv: KeyValue(key: a, lease: 1)), Event(type: .put, kv: KeyValue(key: b, lease: 1))])
        #expect(lessor.keysToRevoke(1)?.count == 2)
        lessor.applyEvents([Event(type: .put, kv: KeyValue(key: a, lease: 2)), Event(type: .delete, kv: KeyValue(key: b))])
        #expect(lessor.keysToRevoke(1) == [])
        #expect(lessor.keysToRevoke(2) == [a])
        lessor.applyEvents([Event(type: .put, kv: KeyValue(key: a))])  // put without lease detaches
        #expect(lessor.keysToRevoke(2) == [])
        lessor.applyRevoke(2)
        #expect(lessor.keysToRevoke(2) == nil)
        #expect(lessor.ids() == [1])
    }
}
