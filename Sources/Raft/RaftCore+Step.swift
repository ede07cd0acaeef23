/// Message handling: the term rules common to every role (§5.1, thesis 9.6
/// PreVote, CheckQuorum lease), then the role's own `stepRole`.
extension RaftCore {
    func step(_ m: Message) throws {
        if m.term == 0 {
            // Local input (hup, beat, proposals, reads, transfer requests).
        } else if m.term > term {
            if m.type == .vote || m.type == .preVote {
                let force = m.context == RaftCore.campaignTransferContext
                // Leader stickiness: while we hear from a leader, ignore
                // disruptive candidates (thesis 4.2.3) unless it is a transfer.
                let inLease = checkQuorum && lead != 0 && electionElapsedTicks < electionTimeoutTicks
                if !force && inLease {
                    record(.ignoredVoteInLease(preVote: m.type == .preVote, from: m.from,
                                               remainingTicks: electionTimeoutTicks - electionElapsedTicks, term: term))
                    return
                }
            }
            switch m.type {
            case .preVote:
                break // never changes our term
            case .preVoteResp where !m.reject:
                break // the term is bumped once a quorum granted
            case .app, .heartbeat, .snap:
                record(.higherTermMessage(type: m.type, from: m.from, messageTerm: m.term, term: term))
                becomeFollower(term: m.term, lead: m.from)
            default:
                record(.higherTermMessage(type: m.type, from: m.from, messageTerm: m.term, term: term))
                becomeFollower(term: m.term, lead: 0)
            }
        } else if m.term < term {
            if (checkQuorum || preVote) && (m.type == .heartbeat || m.type == .app) {
                // A stale leader (e.g. back from a partition) learns our term
                // and steps down; without this it could stay deaf forever
                // because we ignore its lower-term messages.
                send(Message(type: .appResp, to: m.from))
            } else if m.type == .preVote {
                send(Message(type: .preVoteResp, to: m.from, term: term, reject: true))
            }
            return
        }

        switch m.type {
        case .hup:
            hup(transfer: m.context == RaftCore.campaignTransferContext)
        case .vote, .preVote:
            handleVoteRequest(m)
        default:
            try stepRole(self)(m)
        }
    }

    private func hup(transfer: Bool) {
        guard role != .leader, isPromotable else { return }
        // A committed but unapplied conf change could change who may vote;
        // wait until it is applied.
        if log.committed > log.applied,
           let ents = log.slice(log.applied + 1, log.committed + 1, maxSizeBytes: Int.max),
           ents.contains(where: { $0.type == .confChange }) {
            record(.cannotCampaign(term: term))
            return
        }
        record(.startingElection(term: term))
        if transfer {
            campaign(.transfer)
        } else {
            campaign(preVote ? .preElection : .election)
        }
    }

    private func handleVoteRequest(_ m: Message) {
        let canVote = vote == m.from
            || (vote == 0 && lead == 0)
            || (m.type == .preVote && m.term > term)
        let upToDate = faults.voteIgnoringLog || log.isUpToDate(lastIndex: m.index, term: m.logTerm)
        record(.castVote(preVote: m.type == .preVote, granted: canVote && upToDate, candidate: m.from,
                         candidateLastIndex: m.index, candidateLastTerm: m.logTerm, lastIndex: log.lastIndex,
                         lastTerm: log.lastTerm, vote: vote, term: term))
        if canVote && upToDate {
            // Granting answers with the request's term so the candidate accepts it.
            send(Message(type: m.type.voteResponse, to: m.from, term: m.term))
            if m.type == .vote {
                electionElapsedTicks = 0
                vote = m.from
            }
        } else {
            send(Message(type: m.type.voteResponse, to: m.from, term: term, reject: true))
        }
    }

    // MARK: roles

    func stepFollower(_ m: Message) throws {
        switch m.type {
        case .prop:
            guard lead != 0 else { throw RaftError.proposalDropped }
            var f = m
            f.to = lead
            send(f)
        case .app, .heartbeat, .snap:
            // Only the leader of our term sends these.
            electionElapsedTicks = 0
            lead = m.from
            switch m.type {
            case .app: handleAppendEntries(m)
            case .heartbeat: handleHeartbeat(m)
            default: handleSnapshot(m)
            }
        case .transferLeader:
            guard lead != 0 else { return }
            var f = m
            f.to = lead
            msgs.append(f) // keep `from` = the transferee
        case .timeoutNow:
            // Leadership transfer: campaign at once, skipping PreVote.
            record(.timeoutNowReceived(from: m.from, term: term))
            hup(transfer: true)
        case .readIndex:
            guard lead != 0 else { return }
            var f = m
            f.to = lead
            // The term in which this member asks, sent after every read it
            // covers arrived: the leader counts the request as this voter's
            // acknowledgement of its leadership (`handleReadIndex`).
            f.logTerm = term
            send(f)
        case .readIndexResp:
            readStates.append(ReadState(index: m.index, context: m.context))
        default:
            break
        }
    }

    func stepCandidate(_ m: Message) throws {
        let myResponse: MessageType = role == .preCandidate ? .preVoteResp : .voteResp
        switch m.type {
        case .prop:
            throw RaftError.proposalDropped
        case .app, .heartbeat, .snap:
            // A leader of our term exists: we lost this election.
            becomeFollower(term: m.term, lead: m.from)
            try stepFollower(m)
        case myResponse:
            let result = poll(m.from, m.type, granted: !m.reject)
            let tally = prs.tallyVotes()
            record(.voteTally(preVote: role == .preCandidate, granted: tally.granted, rejected: tally.rejected))
            switch result {
            case .won:
                if role == .preCandidate {
                    campaign(.election)
                } else {
                    becomeLeader()
                    broadcastAppend()
                }
            case .lost:
                becomeFollower(term: term, lead: 0)
            case .pending:
                break
            }
        default:
            break
        }
    }

    func stepLeader(_ m: Message) throws {
        switch m.type {
        case .beat:
            needsReadHeartbeat = false  // this round carries the newest request's context
            broadcastHeartbeat(context: readOnly.lastPendingContext ?? [])
            return
        case .checkQuorum:
            if !prs.quorumActive(selfID: id) {
                record(.steppedDownQuorumInactive)
                becomeFollower(term: term, lead: 0)
            }
            for (pid, pr) in prs.progress where pid != id { pr.recentActive = false }
            return
        case .prop:
            try handleProposal(m)
            return
        case .readIndex:
            handleReadIndex(m)
            return
        default:
            break
        }

        guard let pr = prs.progress[m.from] else { return }
        switch m.type {
        case .appResp:
            handleAppendResponse(m, pr)
        case .heartbeatResp:
            pr.recentActive = true
            pr.probeSent = false
            if pr.state == .replicate && pr.inflights.isFull { pr.inflights.freeFirstOne() }
            if pr.match < log.lastIndex { sendAppend(to: m.from) }
            if !m.context.isEmpty { handleReadAck(from: m.from, context: m.context) }
        case .snapStatus:
            guard pr.state == .snapshot else { return }
            record(.snapshotStatus(peer: m.from, failed: m.reject))
            if m.reject { pr.pendingSnapshot = 0 }
            pr.becomeProbe()
            // Wait for a heartbeat reply (or an append reply) before probing.
            pr.probeSent = true
        case .unreachable:
            if pr.state == .replicate { pr.becomeProbe() }
        case .transferLeader:
            handleTransferLeader(m, pr)
        default:
            break
        }
    }

    private func handleProposal(_ m: Message) throws {
        guard !m.entries.isEmpty else { return }
        guard prs.progress[id] != nil, leadTransferee == 0 else { throw RaftError.proposalDropped }
        var ents = m.entries
        for i in ents.indices where ents[i].type == .confChange {
            if pendingConfIndex > log.applied {
                // One change at a time: replace the extra change by a no-op
                // so the caller's proposal still gets an index.
                ents[i] = Entry(term: 0, index: 0)
            } else {
                pendingConfIndex = log.lastIndex + UInt64(i) + 1
            }
        }
        guard appendEntries(ents) else { throw RaftError.proposalDropped }
        // Appends go out when the application next collects a Ready, so a
        // burst of proposals shares messages instead of one message each.
        needsBroadcast = true
    }

    private func handleTransferLeader(_ m: Message, _ pr: Progress) {
        let transferee = m.from
        guard !pr.isLearner else { return }
        if leadTransferee != 0 {
            if leadTransferee == transferee { return }
            record(.transferAborted(to: leadTransferee, term: term))
            leadTransferee = 0
        }
        guard transferee != id else { return }
        record(.transferStarted(to: transferee, term: term))
        // The transfer must finish within an election timeout (see tickHeartbeat).
        electionElapsedTicks = 0
        leadTransferee = transferee
        if pr.match == log.lastIndex {
            record(.timeoutNowSent(to: transferee))
            send(Message(type: .timeoutNow, to: transferee))
        } else {
            sendAppend(to: transferee)
        }
    }
}
