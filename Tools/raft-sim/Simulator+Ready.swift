import Raft

/// Message delivery, Ready handling (the application side of the contract)
/// and the calm phase's liveness check.
extension Simulator {
    func deliverDue() throws {
        for m in net.due(now: now, rng: &rng) {
            guard let dst = nodes[m.to], dst.isUp else {
                if m.type == .snap { reportSnapshot(m, failed: true) }
                continue
            }
            if answeredFromGrant(dst, m) { continue }
            log("deliver \(describe(m))")
            do {
                try dst.node!.step(m)
            } catch RaftError.stepPeerNotFound, RaftError.proposalDropped {
                // Normal: a stale response, or a forwarded proposal with no leader.
            }
            if m.type == .snap { reportSnapshot(m, failed: false) }
        }
    }

    /// A follower's ReadIndex that the leader's published grant answers is
    /// answered as swift-etcd's peer connection does, off the loop (mostly:
    /// sometimes it reaches the node, whose core applies the same rule).
    private func answeredFromGrant(_ dst: SimNode, _ m: Message) -> Bool {
        guard m.type == .readIndex, let grant = dst.grant, rng.chance(0.8), let answer = grant.answer(m) else { return false }
        log("deliver \(describe(m)), answered from the grant (t\(grant.term) commit \(grant.commit))")
        count("readGrantAnswered")
        sendOrReport(dst, answer)
        return true
    }

    private func reportSnapshot(_ m: Message, failed: Bool) {
        nodes[m.from]?.node?.reportSnapshot(m.to, failed: failed)
    }

    /// The application side of one Ready as swift-etcd's Raft loop does it:
    /// send what may leave before the fsync (all of a leader's messages, a
    /// follower's forwarded requests and heartbeat acks), keep replicating
    /// while persisting (sometimes crashing before the fsync completes), then
    /// persist, send the rest, apply, advance.
    func processReady(_ sn: SimNode) throws {
        // (A node may have been stopped while this round was under way.)
        guard sn.isUp, sn.node!.hasReady() else { return }
        let rd = sn.node!.ready()
        publishGrant(sn)  // before this Ready sends or applies anything
        // 0. Send early; replicate while "persisting".
        var late: [Message] = []
        let leading = sn.node!.isLeader
        for m in rd.messages {
            if leading || !rd.mustSync || m.type.sendsBeforePersisting { sendOrReport(sn, m) } else { late.append(m) }
        }
        if rd.mustSync && (rd.snapshot?.isEmpty ?? true) && rng.chance(0.5) {
            if try !replicateWhilePersisting(sn) { return }
        }
        // 1. Persist.
        if let snap = rd.snapshot {
            try sn.storage.applySnapshot(snap)
            sn.restoreState(from: snap)
            try checker.checkRestoredSnapshot(node: sn.id, snap)
            log("n\(sn.id) installs snapshot \(snap.metadata.index)")
            count("snapshotInstalled")
        }
        try sn.storage.append(rd.entries)
        if let hs = rd.hardState {
            sn.storage.setHardState(hs)
            checker.observeTerm(hs.term)
            try checker.checkCommitted(sn, commit: hs.commit)
        }
        // 2. Send the rest.
        for m in late { sendOrReport(sn, m) }
        // 3. Apply.
        var stopAfter = false
        for e in rd.committedEntries {
            precondition(e.index == sn.appliedIndex + 1, "n\(sn.id) applies \(e.index) after \(sn.appliedIndex)")
            if e.type == .confChange {
                let cc = try ConfChange(decoding: e.data)
                sn.grant = nil  // who answers with whom changes: withdrawn until taken again
                sn.confState = sn.node!.applyConfChange(cc)
                log("n\(sn.id) applies conf change \(cc.type) n\(cc.nodeID) -> voters \(sn.confState.voters) learners \(sn.confState.learners)")
                if cc.type == .removeNode {
                    // As etcd's peers refuse a removed member, which then shuts
                    // down: otherwise it would campaign forever, never hearing
                    // of its removal (thesis 4.2.3).
                    if cc.nodeID == sn.id {
                        stopAfter = true
                    } else if let gone = nodes[cc.nodeID], !gone.removed {
                        gone.removed = true
                        gone.node = nil
                        gone.grant = nil
                        log("n\(gone.id) removed from the cluster: stopped")
                    }
                }
            }
            sn.stateHash = SimNode.mix(sn.stateHash, e)
            sn.appliedIndex = e.index
            try checker.checkApplied(node: sn.id, entry: e, stateHash: sn.stateHash)
            if e.data == markerData && markerIndex == nil { markerIndex = e.index }
        }
        for rs in rd.readStates {
            try checker.checkRead(node: sn.id, rs)
            count("readAnswered")
        }
        if let ss = rd.softState {
            log("n\(sn.id) is \(ss.role) (lead n\(ss.lead)) term \(sn.node!.status().term)")
            if ss.role == .leader {
                try checker.checkNewLeader(sn)
                count("leaderElected")
                if inFaultPhase && rng.chance(fleetingLeaderRate) { fleetingLeader = sn.id }
            }
        }
        // 4. Acknowledge.
        sn.node!.advance(rd)
        if fleetingLeader == sn.id {
            // A leader that writes one entry only locally and is cut off at
            // once: the raw material of the paper's Figure 8.
            fleetingLeader = nil
            try? sn.node!.propose(Array("fleeting".utf8))
            isolate(sn.id)
            count("fleetingLeader")
        }
        if stopAfter {
            sn.removed = true
            sn.node = nil
            sn.grant = nil
            log("n\(sn.id) removed from the cluster: stopped")
        }
    }

    /// Takes the node's `ReadIndexGrant` again, where swift-etcd's Raft loop
    /// does (`RaftLoop.publishReadGrant`): at the start of each Ready, after
    /// stepping messages while persisting, and withdrawn while a conf change
    /// applies.
    func publishGrant(_ sn: SimNode) {
        sn.grant = sn.node!.readIndexGrant ?? (cfg.plantKeepStaleGrant ? sn.grant : nil)
    }

    private func sendOrReport(_ sn: SimNode, _ m: Message) {
        if !net.send(m, now: now, rng: &rng) {
            log("drop \(describe(m))")
            if m.type == .snap { sn.node!.reportSnapshot(m.to, failed: true) }
        }
    }

    /// Between `ready()` and the Ready's fsync: steps the messages due by the
    /// next microstep (they arrive during the fsync; those due now were
    /// delivered already) that the node may take meanwhile
    /// (`RawNode.mayStepWhilePersisting`), maybe a
    /// client proposal, sends `takeEarlyMessages()`, and sometimes crashes
    /// the node before its Ready is durable. False if it crashed.
    private func replicateWhilePersisting(_ sn: SimNode) throws -> Bool {
        let node = sn.node!
        for m in net.takeDue(to: sn.id, now: now + 1, accept: { node.mayStepWhilePersisting($0) }) {
            if answeredFromGrant(sn, m) { continue }
            log("deliver while persisting \(describe(m))")
            do {
                try sn.node!.step(m)
            } catch RaftError.stepPeerNotFound, RaftError.proposalDropped {}
        }
        publishGrant(sn)  // the messages may have moved the commit index
        if rng.chance(proposalRate) {
            let data = newRequestID()
            if (try? sn.node!.propose(data)) != nil {
                count("proposeWhilePersisting")
                log("propose while persisting n\(sn.id) \(data.first!)")
            }
        }
        for m in sn.node!.takeEarlyMessages() { sendOrReport(sn, m) }
        // Not before the bootstrap entries are durable: swift-etcd writes
        // them before its Raft loop starts.
        if inFaultPhase, try sn.storage.lastIndex() > 0, rng.chance(0.02 * violence) {
            count("crashBeforeSync")
            log("crash n\(sn.id) before its fsync")
            crash(sn)
            return false
        }
        return true
    }

    func describe(_ m: Message) -> String {
        var s = "\(m.type) n\(m.from)->n\(m.to) t\(m.term)"
        switch m.type {
        case .app: s += " prev=\(m.index)/\(m.logTerm) n=\(m.entries.count) commit=\(m.commit)"
        case .appResp: s += " idx=\(m.index)" + (m.reject ? " reject hint=\(m.rejectHint)/\(m.logTerm)" : "")
        case .vote, .preVote: s += " last=\(m.index)/\(m.logTerm)"
        case .voteResp, .preVoteResp: s += m.reject ? " reject" : " grant"
        case .heartbeat: s += " commit=\(m.commit)"
        case .snap: s += " snap=\(m.snapshot?.metadata.index ?? 0)"
        case .readIndex: s += " read \(m.context.first ?? 0) asked in t\(m.logTerm)"
        case .readIndexResp: s += " read \(m.context.first ?? 0) index=\(m.index)"
        default: break
        }
        return s
    }

    // MARK: phase 2

    var markerData: [UInt8] { Array("marker".utf8) }

    /// Faults stop: heal the network, restart every member, then within
    /// `livenessTicks` a leader must be elected, a fresh proposal applied by
    /// every member, and then a ReadIndex on a follower answered.
    func calm() throws {
        inFaultPhase = false
        net.heal()
        net.dropRate = 0
        net.dupRate = 0
        log("calm: faults stop")
        for sn in nodes.values.sorted(by: { $0.id < $1.id }) where !sn.isUp && !sn.removed { try start(sn) }
        var proposedAtTick = -1_000
        var livenessRead: [UInt8]?
        var readAtTick = 0
        for tick in 0..<cfg.livenessTicks {
            for _ in 0..<cfg.microstepsPerTick {
                try deliverDue()
                for sn in upNodes { try processReady(sn) }
                now += 1
            }
            for sn in upNodes { sn.node!.tick() }
            guard let l = currentLeader else { continue }
            let cs = l.node!.status().confState
            let members = cs.voters + cs.learners
            if let mi = markerIndex, members.allSatisfy({ nodes[$0]?.node != nil && nodes[$0]!.appliedIndex >= mi }) {
                if let ctx = livenessRead, checker.answeredReads.contains(ctx) {
                    try checker.checkLogMatching(upNodes)
                    log("liveness ok after \(tick) ticks")
                    return
                }
                if livenessRead == nil || tick - readAtTick >= 30 {
                    let reader = nodes[members.first { $0 != l.id } ?? l.id]!
                    let ctx = Array("liveness-read-\(tick)".utf8)
                    checker.readStarted(ctx, commitLowerBound: commitLowerBound)
                    reader.node!.readIndex(context: ctx)
                    livenessRead = ctx
                    readAtTick = tick
                    log("liveness read at n\(reader.id)")
                }
                continue
            }
            if tick - proposedAtTick >= 50 {
                proposedAtTick = tick
                try? l.node!.propose(markerData)
                log("propose marker at n\(l.id)")
            }
        }
        let status = upNodes.map { sn -> String in
            let s = sn.node!.status()
            return "n\(sn.id): \(s.role) term \(s.term) lead \(s.lead) commit \(s.commit) applied \(s.applied)"
        }
        throw SimFailure(message: "liveness: no leader committed a proposal on all members within \(cfg.livenessTicks) ticks after faults stopped; \(status.joined(separator: "; "))")
    }
}
