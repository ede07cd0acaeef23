/// A leader's standing answer to its followers' ReadIndex requests, for
/// answering them off the thread that steps the node (the peer connection
/// that receives them), with no wake-up of that thread per request.
///
/// It holds what `RaftCore.handleReadIndex` needs to answer a follower's
/// request at once (`answers`): the leader's term and commit index, with an
/// entry of that term committed, and its voters, which must be at most
/// three so that requester and leader form a quorum. `RawNode.readIndexGrant`
/// is nil while any of that does not hold.
///
/// Safety, for the application that publishes it: a grant answers as the
/// node would have at the moment it was taken, so it must be taken again
/// (or withdrawn) before anything leaves the node that the grant does not
/// reflect: before the node's messages are sent (a newer term's vote or
/// acknowledgement, or an append carrying a newer commit index) and before
/// committed entries are applied (their writers answered) or a conf change
/// is applied. Then no write was acknowledged, and no vote or append of a
/// later term left this member, between the grant and its use: a request
/// answered from it is answered as the node would have answered it at
/// that instant, which `requesterCompletesQuorum` shows is never stale.
public struct ReadIndexGrant: Sendable, Equatable {
    public let leader: UInt64
    public let term: UInt64
    public let commit: UInt64
    public let voters: [UInt64]

    /// The answer to `m` if it is a ReadIndex request a voter forwarded in
    /// this term (its `logTerm`, set by the forwarding follower) and the two
    /// of them are a quorum; nil for anything else (the node handles it).
    public func answer(_ m: Message) -> Message? {
        guard answers(m) else { return nil }
        return Message(type: .readIndexResp, to: m.from, from: leader, term: term, index: commit, context: m.context)
    }

    func answers(_ m: Message) -> Bool {
        m.type == .readIndex && m.to == leader && m.from != 0 && m.from != leader && m.logTerm == term
            && voters.contains(m.from) && voters.contains(leader) && Self.requesterAndLeaderAreQuorum(voters: voters.count)
    }

    static func requesterAndLeaderAreQuorum(voters: Int) -> Bool { voters / 2 + 1 <= 2 }
}
