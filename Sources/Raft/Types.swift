/// Value types shared by the Raft core, the WAL and the server.
///
/// They mirror etcd's `raftpb` (Entry, HardState, ConfState, SnapshotMetadata)
/// so the WAL and peer protocol can persist and ship them unchanged. Indexes and
/// terms start at 1; 0 means "none".

/// What an entry's `data` carries.
public enum EntryType: UInt8, Sendable, Hashable {
    /// An application command (for swift-etcd: an encoded internal request).
    case normal = 0
    /// A membership change (encoded `ConfChange`).
    case confChange = 1
}

/// One record of the replicated log.
public struct Entry: Sendable, Hashable {
    public var term: UInt64
    public var index: UInt64
    public var type: EntryType
    public var data: [UInt8]

    public init(term: UInt64, index: UInt64, type: EntryType = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.type = type
        self.data = data
    }
}

/// The state a node must persist before it sends any message that depends on it.
public struct HardState: Sendable, Hashable {
    public var term: UInt64
    /// Node id voted for in `term`, 0 for none.
    public var vote: UInt64
    public var commit: UInt64

    public init(term: UInt64 = 0, vote: UInt64 = 0, commit: UInt64 = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    public static let empty = HardState()
    public var isEmpty: Bool { self == .empty }
}

/// The voting configuration.
public struct ConfState: Sendable, Hashable {
    public var voters: [UInt64]
    public var learners: [UInt64]

    public init(voters: [UInt64] = [], learners: [UInt64] = []) {
        self.voters = voters
        self.learners = learners
    }
}

/// Where a snapshot sits in the log, and the configuration at that point.
public struct SnapshotMetadata: Sendable, Hashable {
    public var index: UInt64
    public var term: UInt64
    public var confState: ConfState

    public init(index: UInt64 = 0, term: UInt64 = 0, confState: ConfState = ConfState()) {
        self.index = index
        self.term = term
        self.confState = confState
    }
}

/// A state-machine snapshot: opaque application bytes plus where they sit in the log.
public struct Snapshot: Sendable, Hashable {
    public var metadata: SnapshotMetadata
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata = SnapshotMetadata(), data: [UInt8] = []) {
        self.metadata = metadata
        self.data = data
    }

    public var isEmpty: Bool { metadata.index == 0 }
}
