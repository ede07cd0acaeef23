import Raft

/// When a linearizable read may skip the ReadIndex round: on a member that
/// is the cluster's only member (the sole voter, no learners) and its
/// leader, once it has applied everything committed and has committed an
/// entry of its own term.
///
/// Why that is linearizable: a write is acknowledged only after a member
/// applied it, and the only member is this one. Every write acknowledged
/// before a read began is therefore already in the local store, and the
/// store only moves forward. Entries committed but not yet applied have not
/// been acknowledged, so they are concurrent with the read, which may miss
/// them. The current-term condition covers a restart: writes acknowledged
/// before it sit in the WAL below the new term's first entry, so they are
/// applied before the gate opens (what etcd's ReadIndex achieves by waiting
/// for the applied index to reach the commit index).
///
/// The gate closes on the Raft loop thread before anything is sent to a new
/// member (a conf change closes it when applied, ahead of the next Ready's
/// messages), and whenever leadership is lost. etcd answers a sole member's
/// ReadIndex at once as well (`IsSingleton`), then waits for its apply;
/// this skips the round trip through the Raft loop, which at 100 clients
/// was a thread wake-up and a registry entry per read.
///
/// Once open, the gate stays open for the rest of the term while nothing
/// else changes (`openedThisTerm`), even with entries committed and not yet
/// applied: the Raft loop applies one batch while the next one's fsync runs,
/// so commit is often ahead of apply, and those entries are unacknowledged.
/// A conf change resets it (a write acknowledged by a member since removed
/// may not be applied here yet).
///
/// Pure: the Raft loop evaluates it after each Ready and publishes the answer.
struct LocalReadGate {
    var memberID: UInt64
    var confState: ConfState
    var leader: UInt64
    var term: UInt64
    var commitIndex: UInt64
    /// The term of the entry at `commitIndex` (nil if unknown, e.g. compacted).
    var commitTerm: UInt64?
    var appliedIndex: UInt64
    /// The gate was open earlier in this term, with no conf change since.
    var openedThisTerm = false

    var isOpen: Bool {
        memberID != 0 && confState.voters == [memberID] && confState.learners.isEmpty && leader == memberID
            && (openedThisTerm || (commitTerm == term && appliedIndex >= commitIndex))
    }
}
