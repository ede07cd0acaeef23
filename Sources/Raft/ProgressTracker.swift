/// The configuration (voters, learners) and the leader's progress per peer,
/// plus the votes of the current election. Quorum is a strict majority of voters.
struct ProgressTracker {
    private(set) var voters: [UInt64] = []
    private(set) var learners: [UInt64] = []
    var progress: [UInt64: Progress] = [:]
    var votes: [UInt64: Bool] = [:]
    let maxInflight: Int

    init(maxInflight: Int) { self.maxInflight = maxInflight }

    var confState: ConfState { ConfState(voters: voters, learners: learners) }

    var quorum: Int { voters.count / 2 + 1 }

    func isVoter(_ id: UInt64) -> Bool { voters.contains(id) }
    func isLearner(_ id: UInt64) -> Bool { learners.contains(id) }

    /// Adds a voter (promoting a learner). `next` is where replication starts.
    mutating func addVoter(_ id: UInt64, next: UInt64) {
        if let i = learners.firstIndex(of: id) {
            learners.remove(at: i)
            progress[id]?.isLearner = false
        }
        guard !voters.contains(id) else { return }
        voters.append(id)
        voters.sort()
        if progress[id] == nil { progress[id] = newProgress(next: next, learner: false) }
    }

    /// Adds a learner; demoting a voter is not supported (ignored).
    mutating func addLearner(_ id: UInt64, next: UInt64) {
        guard !voters.contains(id), !learners.contains(id) else { return }
        learners.append(id)
        learners.sort()
        progress[id] = newProgress(next: next, learner: true)
    }

    mutating func remove(_ id: UInt64) {
        voters.removeAll { $0 == id }
        learners.removeAll { $0 == id }
        progress[id] = nil
        votes[id] = nil
    }

    private func newProgress(next: UInt64, learner: Bool) -> Progress {
        let p = Progress(next: next, maxInflight: maxInflight, isLearner: learner)
        // A new peer counts as active so CheckQuorum does not depose the leader
        // before it had a chance to hear from it.
        p.recentActive = true
        return p
    }

    /// The largest index replicated on a quorum of voters (by match).
    func committedIndex() -> UInt64 {
        guard !voters.isEmpty else { return UInt64.max }
        var matches: [UInt64] = []
        matches.reserveCapacity(voters.count)
        for id in voters { matches.append(progress[id]?.match ?? 0) }
        matches.sort(by: >)
        return matches[quorum - 1]
    }

    mutating func resetVotes() { votes.removeAll(keepingCapacity: true) }

    enum VoteResult { case pending, won, lost }

    mutating func recordVote(_ id: UInt64, granted: Bool) {
        if votes[id] == nil { votes[id] = granted }
    }

    func tallyVotes() -> (granted: Int, rejected: Int, result: VoteResult) {
        var granted = 0, rejected = 0
        for id in voters {
            guard let v = votes[id] else { continue }
            if v { granted += 1 } else { rejected += 1 }
        }
        let missing = voters.count - granted - rejected
        if granted >= quorum { return (granted, rejected, .won) }
        if granted + missing >= quorum { return (granted, rejected, .pending) }
        return (granted, rejected, .lost)
    }

    /// CheckQuorum: a quorum of voters was heard from recently (self counts).
    func quorumActive(selfID: UInt64) -> Bool {
        var active = 0
        for id in voters where id == selfID || progress[id]?.recentActive == true { active += 1 }
        return active >= quorum
    }

    var isSingleton: Bool { voters.count == 1 }
}
