/// Linearizable reads (ReadIndex, thesis 6.4): the leader records its commit
/// index, confirms it is still leader with a heartbeat round (or, opt-in,
/// trusts its CheckQuorum lease, thesis 6.4.1), then answers.
/// A leader that has not committed an entry of its own term does not know the
/// latest commit index, so it holds reads until it has.
extension RaftCore {
    static let maxPendingReadIndexMessages = 4096

    var hasCommittedEntryInCurrentTerm: Bool { log.term(log.committed) == term }

    func handleReadIndex(_ m: Message) {
        if prs.isSingleton {
            answerRead(m, index: log.committed)
            return
        }
        guard hasCommittedEntryInCurrentTerm else {
            if pendingReadIndexMessages.count < RaftCore.maxPendingReadIndexMessages {
                pendingReadIndexMessages.append(m)
            }
            return
        }
        if requesterCompletesQuorum(m) {
            answerRead(m, index: log.committed)
            return
        }
        if readOnlyLeaseBased {
            // CheckQuorum keeps us leader only while a quorum answers within an
            // election timeout, and followers ignore rivals meanwhile.
            answerRead(m, index: log.committed)
            return
        }
        readOnly.add(index: log.committed, request: m, selfID: id)
        // The heartbeat round goes out when the Ready is built, one for
        // every request queued until then (`flushBroadcast`).
        needsReadHeartbeat = true
    }

    /// Whether a follower's forwarded request confirms this leadership
    /// with no heartbeat round: the requester asked as a voter in this
    /// term (`logTerm`), after every read it covers arrived, and this
    /// leader still leads that term now, so two members of this term
    /// acknowledge it after the reads arrived. When they are a quorum (3
    /// voters, or 2), every quorum that could have committed a write in a
    /// later term before the reads arrived holds one of them, which had
    /// then moved past this term already; so no such write exists, and this
    /// commit index (covering every earlier term's, once one of this term
    /// is committed) is as new as the reads need. Only the request's own
    /// reads: an earlier request's may have arrived after it was sent.
    /// The same rule answers off the loop from a `ReadIndexGrant`.
    private func requesterCompletesQuorum(_ m: Message) -> Bool {
        readIndexGrant?.answers(m) ?? false
    }

    /// What `requesterCompletesQuorum` needs, for answering off the loop
    /// (see `ReadIndexGrant` for when the application must take it again).
    var readIndexGrant: ReadIndexGrant? {
        guard role == .leader, hasCommittedEntryInCurrentTerm, prs.isVoter(id),
              ReadIndexGrant.requesterAndLeaderAreQuorum(voters: prs.voters.count) else { return nil }
        return ReadIndexGrant(leader: id, term: term, commit: log.committed, voters: prs.voters)
    }

    func releasePendingReads() {
        let held = pendingReadIndexMessages
        pendingReadIndexMessages.removeAll()
        for m in held { handleReadIndex(m) }
    }

    func handleReadAck(from: UInt64, context: [UInt8]) {
        guard let acks = readOnly.recvAck(from: from, context: context) else { return }
        let voterAcks = acks.filter { prs.isVoter($0) }.count
        guard voterAcks >= prs.quorum else { return }
        for p in readOnly.advance(through: context) { answerRead(p.request, index: p.index) }
    }

    private func answerRead(_ req: Message, index: UInt64) {
        if req.from == 0 || req.from == id {
            readStates.append(ReadState(index: index, context: req.context))
        } else {
            send(Message(type: .readIndexResp, to: req.from, index: index, context: req.context))
        }
    }
}

/// Membership: one server at a time (see README). A change takes effect on
/// every node when it is applied.
extension RaftCore {
    func applyConfChange(_ cc: ConfChange) -> ConfState {
        let next = log.lastIndex + 1
        switch cc.type {
        case .addNode:
            prs.addVoter(cc.nodeID, next: next)
        case .addLearnerNode:
            prs.addLearner(cc.nodeID, next: next)
        case .removeNode:
            prs.remove(cc.nodeID)
        }
        record(.switchedConfiguration(voters: prs.confState.voters, learners: prs.confState.learners))
        guard role == .leader else { return prs.confState }
        if !prs.isVoter(id) {
            // Removed (or demoted) leader: step down, the others elect a new one.
            becomeFollower(term: term, lead: 0)
            return prs.confState
        }
        if leadTransferee != 0 && !prs.isVoter(leadTransferee) { leadTransferee = 0 }
        // The quorum may have shrunk.
        if maybeCommit() {
            broadcastAppend()
        } else {
            for pid in prs.progress.keys.sorted() where pid != id { sendAppend(to: pid, sendIfEmpty: false) }
        }
        return prs.confState
    }
}
