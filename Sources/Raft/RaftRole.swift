public enum RaftRole: String, Sendable, Hashable {
    case follower
    case preCandidate
    case candidate
    case leader
}

/// State that is useful to know but need not be persisted.
public struct SoftState: Sendable, Hashable {
    /// The leader this node knows of, 0 for none.
    public var lead: UInt64
    public var role: RaftRole

    public init(lead: UInt64, role: RaftRole) {
        self.lead = lead
        self.role = role
    }
}

/// A snapshot of a node's state for monitoring and tests.
public struct RaftStatus: Sendable {
    public var id: UInt64
    public var lead: UInt64
    public var term: UInt64
    public var vote: UInt64
    public var commit: UInt64
    public var applied: UInt64
    public var role: RaftRole
    public var leadTransferee: UInt64
    public var confState: ConfState
    /// Per peer (including self); only filled on the leader.
    public var progress: [UInt64: ProgressStatus]
}
