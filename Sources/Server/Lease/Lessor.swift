import Foundation
import MVCC

/// The leases of this member and which keys each holds (etcd's lessor).
///
/// Two sides:
/// - apply side (the Raft apply thread): grants, revokes and key
///   attachments change only here, in log order, so every member agrees;
/// - leader side: expiry. Only the primary (the leader) runs lease clocks;
///   on other members every lease's expiry is infinite. `promote` restarts
///   every lease's clock at now + its TTL + `extend` (etcd's Promote), so an
///   election never expires a lease by itself; `expired` lists leases the
///   leader should revoke through Raft.
///
/// Thread-safe: all state is guarded by `lock`.
final class Lessor: @unchecked Sendable {
    /// etcd's MaxLeaseTTL (seconds).
    static let maxTTLSeconds: Int64 = 9_000_000_000

    struct Lease {
        var id: Int64
        /// Granted TTL in seconds (already clamped to the minimum).
        var ttlSeconds: Int64
        /// Last checkpointed remaining TTL (0 = none): used once by promote.
        var remainingTTLSeconds: Int64
        /// Monotonic seconds; `.infinity` when not primary.
        var expiry: Double
        var keys: Set<[UInt8]>
        /// When the leader last proposed a revoke for it (monotonic seconds).
        var revokeProposedAt: Double?
    }

    /// The smallest TTL a grant gets, in seconds (etcd: ceil(1.5 × election timeout)).
    let minTTLSeconds: Int64
    private let clock: LeaseClock
    private let lock = NSLock()
    private var leases: [Int64: Lease] = [:]  // guarded by lock
    private var keyLease: [[UInt8]: Int64] = [:]  // guarded by lock
    private var primary = false  // guarded by lock

    /// etcd: minTTL = ceil((3 × electionTicks / 2) × heartbeat), electionTicks
    /// in whole heartbeats.
    static func minTTLSeconds(electionTimeoutMs: Int, heartbeatIntervalMs: Int) -> Int64 {
        let electionTicks = max(electionTimeoutMs / max(heartbeatIntervalMs, 1), 1)
        let minTTLMs = (3 * electionTicks / 2) * heartbeatIntervalMs
        return Int64((minTTLMs + 999) / 1000)
    }

    init(minTTLSeconds: Int64, clock: LeaseClock = MonotonicLeaseClock()) {
        self.minTTLSeconds = minTTLSeconds
        self.clock = clock
    }

    /// Whether remaining TTLs checkpointed into the store count after a
    /// restart or a snapshot install (`--experimental-enable-lease-checkpoint-persist`).
    /// Off (etcd 3.5's default), a lease read from the store starts over
    /// with its full TTL, as etcd's do when checkpoints are not persisted.
    var usesPersistedRemainingTTL = true

    /// Rebuilds state from the store at start-up (not primary yet).
    func load(leases stored: [StoredLease], leasedKeys: [(key: [UInt8], lease: Int64)]) {
        lock.withLock { loadLocked(stored, leasedKeys) }
    }

    /// Replaces every lease with the store's, after a snapshot from the
    /// leader replaced the store (only a follower installs one, so no lease
    /// clock runs here).
    func reload(leases stored: [StoredLease], leasedKeys: [(key: [UInt8], lease: Int64)]) {
        lock.withLock {
            leases.removeAll()
            keyLease.removeAll()
            loadLocked(stored, leasedKeys)
        }
    }

    private func loadLocked(_ stored: [StoredLease], _ leasedKeys: [(key: [UInt8], lease: Int64)]) {
        for s in stored {
            let remaining = usesPersistedRemainingTTL ? s.remainingTTLSeconds : 0
            leases[s.id] = Lease(id: s.id, ttlSeconds: s.ttlSeconds, remainingTTLSeconds: remaining,
                                 expiry: primary ? clock.nowSeconds() + Double(s.ttlSeconds) : .infinity,
                                 keys: [], revokeProposedAt: nil)
        }
        for (key, id) in leasedKeys where leases[id] != nil {
            leases[id]!.keys.insert(key)
            keyLease[key] = id
        }
    }

    // MARK: apply side

    func exists(_ id: Int64) -> Bool { lock.withLock { leases[id] != nil } }

    /// Checks a grant as etcd's lessor.Grant and returns the lease to persist
    /// (TTL clamped to the minimum).
    func prepareGrant(id: Int64, ttlSeconds: Int64) -> Result<StoredLease, ServerError> {
        if id == 0 { return .failure(LeaseErrors.notFound) }
        if ttlSeconds > Self.maxTTLSeconds { return .failure(LeaseErrors.ttlTooLarge) }
        return lock.withLock {
            if leases[id] != nil { return .failure(LeaseErrors.exists) }
            return .success(StoredLease(id: id, ttlSeconds: max(ttlSeconds, minTTLSeconds)))
        }
    }

    /// Records a grant the store persisted.
    func applyGrant(_ s: StoredLease) {
        lock.withLock {
            let expiry = primary ? clock.nowSeconds() + Double(s.ttlSeconds) : .infinity
            leases[s.id] = Lease(id: s.id, ttlSeconds: s.ttlSeconds, remainingTTLSeconds: 0, expiry: expiry,
                                 keys: [], revokeProposedAt: nil)
        }
    }

    /// The keys a revoke must delete, or nil when the lease does not exist.
    func keysToRevoke(_ id: Int64) -> [[UInt8]]? {
        lock.withLock { leases[id].map { Array($0.keys) } }
    }

    /// Forgets a revoked lease (its keys' delete events detach them too).
    func applyRevoke(_ id: Int64) {
        lock.withLock {
            guard let l = leases.removeValue(forKey: id) else { return }
            for key in l.keys where keyLease[key] == id { keyLease.removeValue(forKey: key) }
        }
    }

    /// A checkpoint comes from the leader's log: its value is clamped to
    /// what a lease can hold, so the clocks computed from it stay finite.
    func applyCheckpoint(_ s: StoredLease) {
        lock.withLock { leases[s.id]?.remainingTTLSeconds = min(max(s.remainingTTLSeconds, 0), Self.maxTTLSeconds) }
    }

    /// Whole seconds of a clock difference, clamped instead of trapping on
    /// a value past Int64 (a lease's inputs come from peers and the store).
    static func wholeSeconds(_ d: Double) -> Int64 {
        guard !d.isNaN else { return 0 }
        return Int64(min(max(d, -9.0e18), 9.0e18))
    }

    /// Follows attachments from a batch's events: a put attaches the key to
    /// its lease (detaching it from any other), a delete detaches it.
    func applyEvents(_ events: [Event]) {
        lock.withLock {
            for ev in events {
                let key = ev.kv.key
                let newLease = ev.type == .put ? ev.kv.lease : 0
                let old = keyLease[key] ?? 0
                if old == newLease { continue }
                if old != 0 {
                    leases[old]?.keys.remove(key)
                    keyLease.removeValue(forKey: key)
                }
                if newLease != 0, leases[newLease] != nil {
                    leases[newLease]!.keys.insert(key)
                    keyLease[key] = newLease
                }
            }
        }
    }

    // MARK: leader side

    var isPrimary: Bool { lock.withLock { primary } }

    /// `promote` unless already primary.
    func promoteIfNeeded(extendSeconds: Double) {
        lock.withLock { if !primary { promoteLocked(extendSeconds: extendSeconds) } }
    }

    /// Becomes primary: every lease expires at now + (remaining or TTL) + extend.
    func promote(extendSeconds: Double) {
        lock.withLock { promoteLocked(extendSeconds: extendSeconds) }
    }

    private func promoteLocked(extendSeconds: Double) {
        primary = true
        let now = clock.nowSeconds()
        for (id, l) in leases {
            let ttl = l.remainingTTLSeconds > 0 ? l.remainingTTLSeconds : l.ttlSeconds
            leases[id]!.expiry = now + Double(ttl) + extendSeconds
            leases[id]!.revokeProposedAt = nil
        }
    }


    /// Stops running lease clocks (no longer leader).
    func demote() {
        lock.withLock {
            primary = false
            for id in leases.keys { leases[id]!.expiry = .infinity }
        }
    }

    struct Renewal: Equatable {
        var ttlSeconds: Int64
        /// The lease had a checkpointed remaining TTL: the leader should
        /// checkpoint 0 so a later leader does not reuse the stale value.
        var needsCheckpointReset: Bool
    }

    /// Keep-alive: restarts the lease's clock; returns its TTL. Fails with
    /// notFound for an unknown or already expired lease (a revoke is coming).
    func renew(_ id: Int64) -> Result<Renewal, ServerError> {
        lock.withLock {
            guard let l = leases[id], l.expiry > clock.nowSeconds() else { return .failure(LeaseErrors.notFound) }
            leases[id]!.expiry = primary ? clock.nowSeconds() + Double(l.ttlSeconds) : .infinity
            return .success(Renewal(ttlSeconds: l.ttlSeconds, needsCheckpointReset: l.remainingTTLSeconds > 0))
        }
    }

    /// Remaining TTLs to checkpoint (leader only), in batches of at most
    /// `batchSize`, by ID: every running lease whose remaining time, rounded
    /// up to whole seconds, is below its TTL, above `aboveSeconds` and not
    /// checkpointed at that value already (etcd's lease checkpointing, so a
    /// new leader does not restart long TTLs from the top). As etcd's, only
    /// leases outliving the checkpoint interval (`aboveSeconds`): a shorter
    /// one is renewed or gone before the next round, and checkpointing it
    /// would only cost a reset checkpoint at its next keep-alive. Every due
    /// lease is in a batch: it once stopped at the first 1000, so the
    /// same 1000 lowest IDs were checkpointed every round and the others
    /// never, restarting their full TTL at each leader change.
    func checkpointBatches(aboveSeconds: Int64, batchSize: Int) -> [[StoredLease]] {
        let due: [StoredLease] = lock.withLock {
            guard primary else { return [] }
            let now = clock.nowSeconds()
            var out: [StoredLease] = []
            for l in leases.values where l.expiry != .infinity && l.expiry > now {
                let remaining = Self.wholeSeconds((l.expiry - now).rounded(.up))
                if remaining < l.ttlSeconds && remaining > aboveSeconds && remaining != l.remainingTTLSeconds {
                    out.append(StoredLease(id: l.id, ttlSeconds: l.ttlSeconds, remainingTTLSeconds: remaining))
                }
            }
            return out
        }
        let sorted = due.sorted { $0.id < $1.id }
        return stride(from: 0, to: sorted.count, by: max(batchSize, 1)).map {
            Array(sorted[$0..<min($0 + max(batchSize, 1), sorted.count)])
        }
    }

    struct TimeToLive: Equatable {
        var grantedTTLSeconds: Int64
        /// Whole seconds left (truncated, as etcd); ttl when clocks are not running.
        var remainingSeconds: Int64
        var keys: [[UInt8]]
    }

    func timeToLive(_ id: Int64) -> TimeToLive? {
        lock.withLock {
            guard let l = leases[id] else { return nil }
            let remaining = l.expiry == .infinity ? l.ttlSeconds : max(Self.wholeSeconds(l.expiry - clock.nowSeconds()), 0)
            return TimeToLive(grantedTTLSeconds: l.ttlSeconds, remainingSeconds: remaining,
                              keys: l.keys.sorted { $0.lexicographicallyPrecedes($1) })
        }
    }

    func ids() -> [Int64] { lock.withLock { leases.keys.sorted() } }

    /// Expired leases the leader should revoke now, at most `limit`, the
    /// longest expired first (etcd's expiry heap): when more expire than a
    /// round revokes (a lease storm), the backlog drains in expiry order. It
    /// was the dictionary's order, so a lease could wait out the whole storm
    /// (100 s for 100k leases) while later ones went first. A lease is listed
    /// again `retrySeconds` after its last listing if still alive (the
    /// proposal was lost).
    func expired(limit: Int, retrySeconds: Double = 3) -> [Int64] {
        lock.withLock {
            guard primary else { return [] }
            let now = clock.nowSeconds()
            var due: [(expiry: Double, id: Int64)] = []
            for (id, l) in leases where l.expiry <= now {
                if let at = l.revokeProposedAt, now - at < retrySeconds { continue }
                due.append((l.expiry, id))
            }
            let out = due.sorted { ($0.expiry, $0.id) < ($1.expiry, $1.id) }.prefix(max(limit, 0)).map(\.id)
            for id in out { leases[id]!.revokeProposedAt = now }
            return out
        }
    }
}
