/// A decision the core took that an operator wants in the log: role changes,
/// elections, votes, leadership transfer, snapshots, configuration changes.
///
/// The core does no I/O, so it records these as values (when
/// `RaftConfig.recordEvents` is on) and the application drains them with
/// `RawNode.takeEvents()` and logs `text(localID:)`, which words each one as
/// etcd's raft logger does (`c52ea9bc5e2a138f became leader at term 2`).
public enum RaftEvent: Sendable, Hashable {
    /// etcd's `newRaft …` line, when a node is created over its storage.
    case started(peers: [UInt64], term: UInt64, commit: UInt64, applied: UInt64, lastIndex: UInt64, lastTerm: UInt64)
    case becameFollower(term: UInt64)
    case becamePreCandidate(term: UInt64)
    case becameCandidate(term: UInt64)
    case becameLeader(term: UInt64)
    case startingElection(term: UInt64)
    /// A committed but unapplied conf change holds the election back.
    case cannotCampaign(term: UInt64)
    case sentVoteRequest(preVote: Bool, to: UInt64, term: UInt64, lastIndex: UInt64, lastTerm: UInt64)
    case receivedVote(preVote: Bool, from: UInt64, granted: Bool, term: UInt64)
    case voteTally(preVote: Bool, granted: Int, rejected: Int)
    case castVote(preVote: Bool, granted: Bool, candidate: UInt64, candidateLastIndex: UInt64,
                  candidateLastTerm: UInt64, lastIndex: UInt64, lastTerm: UInt64, vote: UInt64, term: UInt64)
    case higherTermMessage(type: MessageType, from: UInt64, messageTerm: UInt64, term: UInt64)
    case ignoredVoteInLease(preVote: Bool, from: UInt64, remainingTicks: Int, term: UInt64)
    case steppedDownQuorumInactive
    case transferStarted(to: UInt64, term: UInt64)
    case transferAborted(to: UInt64, term: UInt64)
    case timeoutNowSent(to: UInt64)
    case timeoutNowReceived(from: UInt64, term: UInt64)
    case snapshotSent(to: UInt64, firstIndex: UInt64, commit: UInt64, index: UInt64, term: UInt64)
    case snapshotRestored(commit: UInt64, lastIndex: UInt64, lastTerm: UInt64, index: UInt64, term: UInt64)
    case snapshotIgnored(commit: UInt64, index: UInt64, term: UInt64)
    case snapshotStatus(peer: UInt64, failed: Bool)
    /// A follower's log ends at `lastIndex`, before entries up to `match` it
    /// acknowledged: it lost them, and is sent them again.
    case followerLostAcknowledged(peer: UInt64, match: UInt64, lastIndex: UInt64)
    case switchedConfiguration(voters: [UInt64], learners: [UInt64])
    /// `raft.node:` lines: the known leader changed (0: none).
    case leaderChanged(from: UInt64, to: UInt64, term: UInt64)
}
