/// The Raft state machine of one node. Pure: inputs are `step` and `tick`,
/// outputs accumulate in `msgs`, `readStates` and the log, and are handed to
/// the application through `RawNode.ready()`.
///
/// Role behaviour is data: `stepRole` and `tickRole` are swapped by the
/// `become*` transitions instead of switching on `role` everywhere.
final class RaftCore {
    let id: UInt64
    var term: UInt64 = 0
    var vote: UInt64 = 0
    var log: RaftLog
    var prs: ProgressTracker
    private(set) var role: RaftRole = .follower
    var lead: UInt64 = 0
    /// Target of an ongoing leadership transfer, 0 for none.
    var leadTransferee: UInt64 = 0
    /// Index of the last conf change proposed; a new one is refused until it is applied.
    var pendingConfIndex: UInt64 = 0
    /// Bytes of entries appended by this leader and not yet committed+applied.
    var uncommittedSizeBytes = 0
    var readOnly = ReadOnly()
    /// ReadIndex requests received before this leader committed an entry of its term.
    var pendingReadIndexMessages: [Message] = []
    var readStates: [ReadState] = []
    var msgs: [Message] = []
    /// Proposals were appended since the last broadcast (see `flushBroadcast`).
    var needsBroadcast = false
    /// ReadIndex requests were queued since the last heartbeat broadcast
    /// (see `flushBroadcast`).
    var needsReadHeartbeat = false

    let maxMsgSizeBytes: Int
    let maxUncommittedSizeBytes: Int
    let checkQuorum: Bool
    let preVote: Bool
    let readOnlyLeaseBased: Bool
    let heartbeatTimeoutTicks: Int
    let electionTimeoutTicks: Int
    /// In [electionTimeoutTicks, 2*electionTimeoutTicks), redrawn on every reset.
    var randomizedElectionTimeoutTicks = 0
    /// Ticks since the last election timeout (leader: since the last CheckQuorum).
    var electionElapsedTicks = 0
    var heartbeatElapsedTicks = 0
    var rng: SplitMix64
    let faults: RaftTestingFaults
    /// Decisions to log, oldest first (`RaftEvent`); empty unless
    /// `recordEvents`. Bounded: past `maxEvents` undrained, new ones are dropped.
    var events: [RaftEvent] = []
    let recordEvents: Bool
    static let maxEvents = 4096

    var stepRole: (RaftCore) -> (Message) throws -> Void = RaftCore.stepFollower
    var tickRole: (RaftCore) -> () -> Void = RaftCore.tickElection

    /// Marks a vote request that comes from a leadership transfer: it
    /// overrides leader stickiness (the lease check).
    static let campaignTransferContext: [UInt8] = Array("CampaignTransfer".utf8)

    init(config c: RaftConfig, storage: RaftStorage) throws {
        try c.validate()
        id = c.id
        log = RaftLog(storage: storage, maxNextEntsSizeBytes: max(c.maxSizePerMsg, 1 << 16))
        prs = ProgressTracker(maxInflight: c.maxInflightMsgs)
        maxMsgSizeBytes = c.maxSizePerMsg
        maxUncommittedSizeBytes = c.maxUncommittedEntriesSizeBytes
        checkQuorum = c.checkQuorum
        preVote = c.preVote
        readOnlyLeaseBased = c.readOnlyLeaseBased
        heartbeatTimeoutTicks = c.heartbeatTicks
        electionTimeoutTicks = c.electionTicks
        rng = SplitMix64(seed: c.randomSeed ^ (c.id &* 0x9E37_79B9_7F4A_7C15))
        faults = c.testingFaults
        recordEvents = c.recordEvents

        let (hs, cs) = try storage.initialState()
        let next = log.lastIndex + 1
        for v in cs.voters { prs.addVoter(v, next: next) }
        for l in cs.learners { prs.addLearner(l, next: next) }
        if !hs.isEmpty {
            precondition(hs.commit >= log.committed && hs.commit <= log.lastIndex,
                         "hard state commit \(hs.commit) out of [\(log.committed), \(log.lastIndex)]")
            log.committed = hs.commit
            term = hs.term
            vote = hs.vote
        }
        if c.applied > 0 { log.appliedTo(c.applied) }
        becomeFollower(term: term, lead: 0)
        record(.started(peers: prs.voters, term: term, commit: log.committed, applied: log.applied,
                        lastIndex: log.lastIndex, lastTerm: log.lastTerm))
    }

    /// Keeps `event` for the application's log (see `events`).
    func record(_ event: @autoclosure () -> RaftEvent) {
        guard recordEvents, events.count < RaftCore.maxEvents else { return }
        events.append(event())
    }

    var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }
    var softState: SoftState { SoftState(lead: lead, role: role) }

    /// May this node campaign? (a voter of the current config, no snapshot pending)
    var isPromotable: Bool { prs.isVoter(id) && !log.hasPendingSnapshot }

    // MARK: transitions

    func becomeFollower(term t: UInt64, lead l: UInt64) {
        stepRole = RaftCore.stepFollower
        tickRole = RaftCore.tickElection
        reset(term: t)
        lead = l
        role = .follower
        record(.becameFollower(term: term))
    }

    func becomePreCandidate() {
        precondition(role != .leader, "invalid transition leader -> preCandidate")
        // A pre-candidate changes neither term nor vote (thesis 9.6).
        stepRole = RaftCore.stepCandidate
        tickRole = RaftCore.tickElection
        prs.resetVotes()
        lead = 0
        role = .preCandidate
        record(.becamePreCandidate(term: term))
    }

    func becomeCandidate() {
        precondition(role != .leader, "invalid transition leader -> candidate")
        stepRole = RaftCore.stepCandidate
        tickRole = RaftCore.tickElection
        reset(term: term + 1)
        vote = id
        role = .candidate
        record(.becameCandidate(term: term))
    }

    func becomeLeader() {
        precondition(role != .follower, "invalid transition follower -> leader")
        stepRole = RaftCore.stepLeader
        tickRole = RaftCore.tickHeartbeat
        reset(term: term)
        lead = id
        role = .leader
        record(.becameLeader(term: term))
        prs.progress[id]?.becomeReplicate()
        // Conf changes in the log we may not know about yet: refuse new ones
        // until everything up to here is applied.
        pendingConfIndex = log.lastIndex
        // The empty entry of the new term lets the leader commit (and so learn
        // the commit index) as soon as a quorum has it (§5.4.2, §8).
        if !faults.skipEmptyEntryOnElection {
            let ok = appendEntries([Entry(term: 0, index: 0)])
            precondition(ok, "the empty leader entry is never dropped")
        }
    }

    func reset(term t: UInt64) {
        if term != t {
            term = t
            vote = 0
        }
        lead = 0
        electionElapsedTicks = 0
        heartbeatElapsedTicks = 0
        randomizedElectionTimeoutTicks = electionTimeoutTicks + rng.next(below: electionTimeoutTicks)
        leadTransferee = 0
        prs.resetVotes()
        let last = log.lastIndex
        for (pid, pr) in prs.progress {
            let learner = pr.isLearner
            let fresh = Progress(next: last + 1, maxInflight: prs.maxInflight, isLearner: learner)
            if pid == id { fresh.match = log.lastStableIndex }
            prs.progress[pid] = fresh
        }
        pendingConfIndex = 0
        uncommittedSizeBytes = 0
        readOnly.reset()
        pendingReadIndexMessages.removeAll()
    }

    /// Sends the appends that proposals deferred, then one heartbeat round
    /// for the ReadIndex requests queued meanwhile; called before a Ready is
    /// built.
    ///
    /// One round serves every queued request (the leader's own and those
    /// followers forwarded, however many arrived in one batch of steps): it
    /// carries the newest request's context and goes out after all of them
    /// arrived, so a quorum acknowledging it confirms leadership after each
    /// was received, and `ReadOnly.advance` releases the older ones with it.
    func flushBroadcast() {
        if needsBroadcast {
            needsBroadcast = false
            if role == .leader { broadcastAppend() }
        }
        if needsReadHeartbeat {
            needsReadHeartbeat = false
            if role == .leader, let context = readOnly.lastPendingContext { broadcastHeartbeat(context: context) }
        }
    }

    // MARK: ticks

    func tick() { tickRole(self)() }

    /// Followers and candidates: start an election after a randomized timeout.
    func tickElection() {
        electionElapsedTicks += 1
        if isPromotable && electionElapsedTicks >= randomizedElectionTimeoutTicks {
            electionElapsedTicks = 0
            try? step(Message(type: .hup, from: id))
        }
    }

    /// Leaders: heartbeats, CheckQuorum, and abandoning a stuck transfer.
    func tickHeartbeat() {
        heartbeatElapsedTicks += 1
        electionElapsedTicks += 1
        if electionElapsedTicks >= electionTimeoutTicks {
            electionElapsedTicks = 0
            if checkQuorum { try? step(Message(type: .checkQuorum, from: id)) }
            if role == .leader && leadTransferee != 0 {
                record(.transferAborted(to: leadTransferee, term: term))
                leadTransferee = 0
            }
        }
        guard role == .leader else { return }
        if heartbeatElapsedTicks >= heartbeatTimeoutTicks {
            heartbeatElapsedTicks = 0
            try? step(Message(type: .beat, from: id))
        }
    }

    // MARK: elections

    enum CampaignKind { case preElection, election, transfer }

    func campaign(_ kind: CampaignKind) {
        let voteType: MessageType
        let voteTerm: UInt64
        if kind == .preElection {
            becomePreCandidate()
            voteType = .preVote
            voteTerm = term + 1
        } else {
            becomeCandidate()
            voteType = .vote
            voteTerm = term
        }
        if poll(id, voteType.voteResponse, granted: true) == .won {
            if kind == .preElection { campaign(.election) } else { becomeLeader() }
            return
        }
        let lastIndex = log.lastIndex, lastTerm = log.lastTerm
        for v in prs.voters where v != id {
            record(.sentVoteRequest(preVote: voteType == .preVote, to: v, term: voteTerm,
                                    lastIndex: lastIndex, lastTerm: lastTerm))
            send(Message(type: voteType, to: v, term: voteTerm, logTerm: lastTerm, index: lastIndex,
                         context: kind == .transfer ? RaftCore.campaignTransferContext : []))
        }
    }

    func poll(_ from: UInt64, _ type: MessageType, granted: Bool) -> ProgressTracker.VoteResult {
        record(.receivedVote(preVote: type == .preVoteResp, from: from, granted: granted, term: term))
        prs.recordVote(from, granted: granted)
        return prs.tallyVotes().result
    }

    /// Queues an outgoing message, stamping our term unless the message
    /// carries its own (votes) or must not carry one (forwarded proposals and reads).
    func send(_ m: Message) {
        var m = m
        m.from = id
        switch m.type {
        case .vote, .voteResp, .preVote, .preVoteResp:
            precondition(m.term != 0, "term should be set for \(m.type)")
        case .prop, .readIndex:
            m.term = 0
        default:
            m.term = term
        }
        msgs.append(m)
    }
}
