/// A consistent view of the node for Status and headers.
struct NodeStatus: Sendable {
    var memberID: UInt64
    var leader: UInt64
    var term: UInt64
    var commitIndex: UInt64
    var appliedIndex: UInt64
    /// Learner member IDs of the applied configuration.
    var learners: [UInt64] = []
    /// On the leader: each member's replicated index (Raft progress match).
    var matchIndex: [UInt64: UInt64] = [:]
    var isLeader: Bool { leader == memberID && leader != 0 }
}
