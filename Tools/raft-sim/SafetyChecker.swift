import Raft

/// The safety properties, checked as events happen:
/// - election safety: at most one leader per term;
/// - state machine safety: no two nodes apply different entries at an index
///   (compared through the rolling state hash, so snapshots are covered);
/// - durability: an applied (hence committed) entry is never lost, even across
///   crashes, which the two checks below catch;
/// - leader completeness: a leader elected after an entry was committed has it;
/// - log matching: same index and term imply the same prefix;
/// - read safety (linearizable reads): a ReadIndex answer, whichever path
///   gave it (the leader's own round, a follower's request answered by the
///   leader's core or by its `ReadIndexGrant` off the loop), is not behind
///   any index committed anywhere before the read started.
struct SafetyChecker {
    /// index -> state hash after applying it (first applier wins).
    private var hashAt: [UInt64: UInt64] = [:]
    /// index -> term of the committed entry.
    private var termAt: [UInt64: UInt64] = [:]
    /// index -> highest term any node had when the entry was first applied.
    private var maxTermAtCommit: [UInt64: UInt64] = [:]
    private var leaderOfTerm: [UInt64: UInt64] = [:]
    private var readLowerBound: [[UInt8]: UInt64] = [:]
    private(set) var answeredReads: Set<[UInt8]> = []
    private var maxTermSeen: UInt64 = 0
    private var recordedCommit: [UInt64: UInt64] = [:]

    var committedCount: Int { termAt.count }
    /// The highest index known committed (persisted as committed or applied
    /// anywhere, crashed nodes included).
    private(set) var highestCommitted: UInt64 = 0

    mutating func observeTerm(_ t: UInt64) { maxTermSeen = max(maxTermSeen, t) }

    /// A node persisted commit index `commit`: every entry up to it in its log
    /// is committed and must never change.
    mutating func checkCommitted(_ sn: SimNode, commit: UInt64) throws {
        let n = sn.node!
        var i = max(recordedCommit[sn.id] ?? 0, n.firstIndex - 1) + 1
        while i <= commit {
            guard let t = n.term(at: i) else { break }
            if let known = termAt[i] {
                guard known == t else {
                    throw SimFailure(message: "durability: n\(sn.id) commits \(i)/t\(t) but \(i)/t\(known) was committed before")
                }
            } else {
                termAt[i] = t
                maxTermAtCommit[i] = maxTermSeen
                highestCommitted = max(highestCommitted, i)
            }
            i += 1
        }
        recordedCommit[sn.id] = max(recordedCommit[sn.id] ?? 0, commit)
    }

    mutating func checkApplied(node: UInt64, entry e: Entry, stateHash: UInt64) throws {
        if let t = termAt[e.index], t != e.term {
            throw SimFailure(message: "state machine safety: n\(node) applied \(e.index)/t\(e.term) but \(e.index)/t\(t) was committed there")
        }
        if termAt[e.index] == nil {
            termAt[e.index] = e.term
            maxTermAtCommit[e.index] = maxTermSeen
            highestCommitted = max(highestCommitted, e.index)
        }
        if let h = hashAt[e.index] {
            guard h == stateHash else {
                throw SimFailure(message: "state machine safety: n\(node) applied \(e.index)/t\(e.term) but its state differs from the first node that applied it (histories differ)")
            }
        } else {
            hashAt[e.index] = stateHash
        }
    }

    func checkRestoredSnapshot(node: UInt64, _ s: Snapshot) throws {
        guard !s.isEmpty, let h = hashAt[s.metadata.index] else { return }
        let data = s.data
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(data[8 + i]) << UInt64(8 * i) }
        guard v == h else {
            throw SimFailure(message: "snapshot safety: n\(node) restored a snapshot at \(s.metadata.index) whose state differs from the committed history")
        }
    }

    mutating func checkNewLeader(_ sn: SimNode) throws {
        let n = sn.node!
        let term = n.status().term
        if let other = leaderOfTerm[term], other != sn.id {
            throw SimFailure(message: "election safety: n\(sn.id) and n\(other) are both leaders of term \(term)")
        }
        leaderOfTerm[term] = sn.id
        let first = n.firstIndex
        for (i, t) in termAt where maxTermAtCommit[i]! < term && i >= first {
            guard let lt = n.term(at: i), lt == t else {
                throw SimFailure(message: "leader completeness: n\(sn.id) leads term \(term) but lacks committed entry \(i)/t\(t) (has \(n.term(at: i).map { "t\($0)" } ?? "nothing"))")
            }
        }
    }

    mutating func readStarted(_ ctx: [UInt8], commitLowerBound: UInt64) {
        readLowerBound[ctx] = commitLowerBound
    }

    mutating func checkRead(node: UInt64, _ rs: ReadState) throws {
        // Kept after the answer: the network may duplicate a forwarded read.
        guard let lb = readLowerBound[rs.context] else {
            throw SimFailure(message: "read: n\(node) got a ReadState for an unknown request")
        }
        answeredReads.insert(rs.context)
        guard rs.index >= lb else {
            throw SimFailure(message: "read safety: n\(node) ReadIndex \(rs.context.first ?? 0) answered \(rs.index) but \(lb) was committed before the read started")
        }
    }

    /// For every pair of nodes: where their logs hold the same term at an
    /// index, they hold the same terms at every earlier index they both have.
    func checkLogMatching(_ nodes: [SimNode]) throws {
        for (ai, a) in nodes.enumerated() {
            for b in nodes[(ai + 1)...] {
                let na = a.node!, nb = b.node!
                let lo = max(na.firstIndex, nb.firstIndex)
                let hi = min(na.lastIndex, nb.lastIndex)
                guard lo <= hi else { continue }
                var matched = false
                var i = hi
                while i >= lo {
                    let ta = na.term(at: i), tb = nb.term(at: i)
                    if matched && ta != tb {
                        throw SimFailure(message: "log matching: n\(a.id) and n\(b.id) agree on a later entry but differ at \(i) (t\(ta ?? 0) vs t\(tb ?? 0))")
                    }
                    if ta == tb { matched = true }
                    if i == 0 { break }
                    i -= 1
                }
            }
        }
    }
}
