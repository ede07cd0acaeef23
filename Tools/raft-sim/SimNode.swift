import Raft

/// One simulated server: durable `storage` that survives crashes, and the
/// volatile parts (the RawNode and the applied state machine) that do not.
/// The state machine is a rolling hash of the applied entries, so two nodes
/// agree on their applied history iff their hashes at an index agree.
final class SimNode {
    let id: UInt64
    let storage = MemoryStorage()
    var node: RawNode?
    var appliedIndex: UInt64 = 0
    var stateHash: UInt64 = 0
    var confState = ConfState()
    /// Retired ids are never reused: a removed node keeps its stale state.
    var removed = false
    /// The `ReadIndexGrant` this server's "peer connection thread" answers
    /// followers' forwarded ReadIndex requests from, taken again where
    /// swift-etcd's Raft loop takes it (`Simulator.publishGrant`); volatile.
    var grant: ReadIndexGrant?

    init(id: UInt64) { self.id = id }

    var isUp: Bool { node != nil }

    /// Snapshot payload: applied index and state hash (16 bytes).
    func snapshotData() -> [UInt8] {
        var out: [UInt8] = []
        for v in [appliedIndex, stateHash] { for s in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(s))) } }
        return out
    }

    func restoreState(from snap: Snapshot) {
        func word(_ at: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<8 { v |= UInt64(snap.data[at + i]) << UInt64(8 * i) }
            return v
        }
        if snap.isEmpty {
            appliedIndex = 0
            stateHash = 0
            confState = ConfState()
        } else {
            precondition(snap.data.count == 16, "bad snapshot payload")
            appliedIndex = word(0)
            stateHash = word(8)
            precondition(appliedIndex == snap.metadata.index, "snapshot payload index mismatch")
            confState = snap.metadata.confState
        }
    }

    static func mix(_ h: UInt64, _ e: Entry) -> UInt64 {
        var x = h ^ (e.index &* 0x9E37_79B9_7F4A_7C15) ^ (e.term &* 0xC2B2_AE3D_27D4_EB4F)
        for b in e.data.prefix(16) { x = (x ^ UInt64(b)) &* 0x100_0000_01B3 }
        x ^= UInt64(e.type.rawValue) << 62
        return x ^ (x >> 29)
    }
}
