/// Proposals made while this member knows no leader (an election is under
/// way, or the member is cut off from the others). etcd's Raft node takes
/// no proposal then: the request waits, up to its deadline, for a leader,
/// so a write made during an election succeeds once one is elected. Our
/// Raft drops such a proposal at once, and the client would see "no leader"
/// (clientv3 does not retry a Put on it); the Raft loop parks it here and
/// proposes it again once a leader is known. A parked proposal whose
/// request no longer waits (deadline passed, client gone) is dropped, so a
/// write the client was told failed is not proposed afterwards.
///
/// Pure and confined to the Raft loop thread.
struct ParkedProposals {
    /// Bounds memory while leaderless; beyond it proposals fail at once
    /// ("no leader"), as before parking existed.
    static let limit = 10_000

    private var items: [(id: UInt64, data: [UInt8])] = []

    var isEmpty: Bool { items.isEmpty }
    var count: Int { items.count }

    /// Parks `proposal`; false when full (the caller fails it).
    mutating func park(_ proposal: (id: UInt64, data: [UInt8])) -> Bool {
        guard items.count < Self.limit else { return false }
        items.append(proposal)
        return true
    }

    /// Every parked proposal, oldest first, to be proposed again (and
    /// parked again if the leader is gone once more).
    mutating func takeAll() -> [(id: UInt64, data: [UInt8])] {
        defer { items.removeAll() }
        return items
    }

    /// Whether proposal `id` is parked (its request still waits for a leader).
    func contains(_ id: UInt64) -> Bool { items.contains { $0.id == id } }

    /// Drops the proposals whose requests no longer wait; returns how many.
    @discardableResult
    mutating func prune(keeping isWaiting: (UInt64) -> Bool) -> Int {
        let before = items.count
        items.removeAll { !isWaiting($0.id) }
        return before - items.count
    }
}
