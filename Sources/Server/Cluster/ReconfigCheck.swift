import Foundation

/// etcd's `--strict-reconfig-check` (on by default): membership changes that
/// would leave the cluster without a working quorum are refused before they
/// are proposed (etcd 3.4 `mayAddMember`, `mayRemoveMember`,
/// `mayPromoteMember`). Pure: the caller supplies the member table and the
/// transport's connection ages.
///
/// "Started" is etcd's `IsStarted`: the member has published its name (here:
/// its name arrived in a peer hello, or it is this member). "Connected" is
/// etcd's `isConnectedSince`: the peer connection has been up for at least
/// `healthIntervalSeconds`.
struct ReconfigCheck {
    struct Voter {
        var id: UInt64
        var started: Bool
        /// When the connection to this voter came up (`MonotonicClock`
        /// nanoseconds); nil while down.
        var activeSince: UInt64?
    }

    var localID: UInt64
    var voters: [Voter]
    /// `MonotonicClock` nanoseconds: a wall clock stepped back an hour made
    /// every peer look connected for less than the interval, refusing
    /// membership changes as "unhealthy cluster" for the hour.
    var now: UInt64
    /// etcd's `HealthInterval`.
    static let healthIntervalSeconds: TimeInterval = 5

    /// MemberAdd. A learner does not change the quorum, so it skips the
    /// started-members check; like a voter it still needs every voter
    /// connected for the health interval (etcd refuses a learner with
    /// "unhealthy cluster" while an added voter has not started).
    func mayAdd(learner: Bool) -> ServerError? {
        if !learner {
            let members = voters.count + 1
            let started = voters.filter(\.started).count
            // Adding a second member to a one-member cluster (restoring from backup).
            let growingSingle = started == 1 && members == 2
            if !growingSingle && started < members / 2 + 1 { return .notEnoughStarted }
        }
        if connectedCount() != voters.count { return .unhealthy }
        return nil
    }

    /// MemberRemove of `id` (a voter, or a learner, which is always allowed).
    func mayRemove(_ id: UInt64, isLearner: Bool) -> ServerError? {
        if isLearner { return nil }
        let others = voters.filter { $0.id != id }
        if others.filter(\.started).count < others.count / 2 + 1 { return .notEnoughStarted }
        // A member that is down is not part of the active quorum: safe to remove.
        if id != localID, voters.first(where: { $0.id == id })?.activeSince == nil { return nil }
        if connectedCount() - 1 < 1 + (voters.count - 1) / 2 { return .unhealthy }
        return nil
    }

    /// MemberPromote: the learner counts as a started future voter.
    func mayPromote() -> ServerError? {
        let members = voters.count + 1
        let started = voters.filter(\.started).count + 1
        return started < members / 2 + 1 ? .notEnoughStarted : nil
    }

    private func connectedCount() -> Int {
        let interval = UInt64(Self.healthIntervalSeconds * 1e9)
        return voters.filter { v in v.id == localID || (v.activeSince.map { now >= $0 && now - $0 > interval } ?? false) }.count
    }
}
