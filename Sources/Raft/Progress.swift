/// How the leader currently replicates to one follower.
public enum ProgressState: String, Sendable {
    /// One append at a time until the follower's log position is found.
    case probe
    /// Streaming appends optimistically, up to the inflight window.
    case replicate
    /// A snapshot is in flight; appends paused until it is reported.
    case snapshot
}

/// The leader's view of one peer (including itself). Reference type: the
/// tracker hands it out and the leader mutates it in place.
/// Invariant: match < next.
final class Progress {
    var match: UInt64 = 0
    var next: UInt64
    var state: ProgressState = .probe
    /// Index of the snapshot in flight (snapshot state).
    var pendingSnapshot: UInt64 = 0
    /// Heard from since the last CheckQuorum round.
    var recentActive = false
    /// Probe state: an append was sent, wait for its answer (or a heartbeat reply).
    var probeSent = false
    var inflights: Inflights
    var isLearner: Bool

    init(next: UInt64, maxInflight: Int, isLearner: Bool) {
        self.next = next
        self.inflights = Inflights(capacity: maxInflight)
        self.isLearner = isLearner
    }

    private func resetState(_ s: ProgressState) {
        probeSent = false
        pendingSnapshot = 0
        state = s
        inflights.reset()
    }

    func becomeProbe() {
        if state == .snapshot {
            let pending = pendingSnapshot
            resetState(.probe)
            next = max(match + 1, pending + 1)
        } else {
            resetState(.probe)
            next = match + 1
        }
    }

    func becomeReplicate() {
        resetState(.replicate)
        next = match + 1
    }

    func becomeSnapshot(_ index: UInt64) {
        resetState(.snapshot)
        pendingSnapshot = index
    }

    /// An append up to `n` was acknowledged.
    @discardableResult
    func maybeUpdate(_ n: UInt64) -> Bool {
        var updated = false
        if match < n {
            match = n
            updated = true
            probeSent = false
        }
        next = max(next, n + 1)
        return updated
    }

    /// Replicate state: entries up to n were sent, assume they arrive.
    func optimisticUpdate(_ n: UInt64) { next = n + 1 }

    /// The follower rejected an append at `rejected`; `matchHint` is where the
    /// follower suggests to probe next. False if the rejection is stale.
    func maybeDecrTo(rejected: UInt64, matchHint: UInt64) -> Bool {
        if rejected <= match {
            // An answer to an older append, normally. But a follower whose
            // log now ends below what it acknowledged (`lostAcknowledged`)
            // lost entries (its disk dropped writes): it is probed again from
            // its end, where waiting for a later acknowledgement left it
            // rejecting every append until the next leader. A stale answer
            // that looks the same costs one resend.
            guard lostAcknowledged(rejected: rejected, matchHint: matchHint) else { return false }
            match = matchHint
            next = matchHint + 1
            probeSent = false
            return true
        }
        if state == .replicate {
            next = match + 1
            return true
        }
        if next - 1 != rejected { return false }
        next = max(min(rejected, matchHint + 1), match + 1, 1)
        probeSent = false
        return true
    }

    /// A rejection at or below `match` whose hint is below it: the
    /// follower's log ends before entries it acknowledged.
    func lostAcknowledged(rejected: UInt64, matchHint: UInt64) -> Bool {
        state != .snapshot && rejected <= match && matchHint < match
    }

    var isPaused: Bool {
        switch state {
        case .probe: return probeSent
        case .replicate: return inflights.isFull
        case .snapshot: return true
        }
    }
}

/// A read-only copy of one peer's progress, for `RaftStatus`.
public struct ProgressStatus: Sendable, Hashable {
    public var match: UInt64
    public var next: UInt64
    public var state: ProgressState
    public var isLearner: Bool
    public var recentActive: Bool
}
