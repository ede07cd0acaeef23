import Raft

/// Where the Raft loop applies a Ready's committed entries. Pure.
enum ApplyRoute: Equatable {
    /// On the apply thread (`ApplyStage`), beside the loop.
    case beside
    /// On the loop thread, once the apply thread has applied everything
    /// handed to it before.
    case onLoop

    /// On the loop: a conf change (Raft's next decisions — who votes, who
    /// gets appends — depend on it being applied, so the loop applies it
    /// before it advances, as etcd's Raft loop waits for its apply when
    /// a Ready commits one), and every entry of a sole voter with no
    /// learners (nobody waits for its heartbeats, and its own small batches
    /// are applied during their fsync on the loop: `appliesDuringSync`).
    /// Everything else beside the loop.
    static func of(_ entries: [Entry], confState: ConfState, memberID: UInt64) -> ApplyRoute {
        if confState.voters == [memberID] && confState.learners.isEmpty { return .onLoop }
        return entries.contains { $0.type == .confChange } ? .onLoop : .beside
    }
}
