import Raft

/// `--force-new-cluster` (etcd's `restartAsStandaloneNode`): a member that
/// restarts from its data dir after losing the rest of its cluster becomes
/// a one-member cluster and keeps its data.
///
/// Entries after the commit index are dropped (no quorum ever saw them
/// committed), and committed conf changes that remove every other member
/// (and add this one, if it was not a member) are appended after the
/// commit index and committed at once. Raft then replays them like any
/// committed entry: the member table and the peer connections shrink to
/// this member, which, now the sole voter, elects itself.
enum ForceNewCluster {
    struct Rewrite: Equatable {
        var hardState: HardState
        /// The log to restart with: committed entries, then `forced`.
        var entries: [Entry]
        /// The conf changes appended (to write to the WAL).
        var forced: [Entry]
        var discardedUncommitted: Int
    }

    /// - Parameters:
    ///   - confState: the configuration at the snapshot the log starts after.
    ///   - firstIndex: the first index `entries` may hold (snapshot index + 1).
    static func rewrite(hardState: HardState, entries: [Entry], confState: ConfState, firstIndex: UInt64,
                        localID: UInt64) -> Rewrite {
        let committed = entries.filter { $0.index <= hardState.commit }
        var members = Set(confState.voters + confState.learners)
        for e in committed where e.type == .confChange {
            guard let cc = try? ConfChange(decoding: e.data) else { continue }
            switch cc.type {
            case .addNode, .addLearnerNode: members.insert(cc.nodeID)
            case .removeNode: members.remove(cc.nodeID)
            }
        }
        var changes = members.subtracting([localID]).sorted().map { ConfChange(type: .removeNode, nodeID: $0) }
        if !members.contains(localID) { changes.append(ConfChange(type: .addNode, nodeID: localID)) }
        var next = max(hardState.commit + 1, firstIndex)
        let forced = changes.map { cc -> Entry in
            defer { next += 1 }
            return Entry(term: hardState.term, index: next, type: .confChange, data: cc.encoded())
        }
        var state = hardState
        if let last = forced.last { state.commit = last.index }
        return Rewrite(hardState: state, entries: committed + forced, forced: forced,
                       discardedUncommitted: entries.count - committed.count)
    }
}
