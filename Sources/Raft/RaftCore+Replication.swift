/// Log replication (§5.3): the leader's appends, heartbeats and commit rule,
/// and the follower's handling of them.
extension RaftCore {
    // MARK: leader side

    /// Appends entries proposed to this leader, stamping term and index.
    /// False if the uncommitted-size limit refuses them.
    func appendEntries(_ ents: [Entry]) -> Bool {
        var ents = ents
        let last = log.lastIndex
        var size = 0
        for i in ents.indices {
            ents[i].term = term
            ents[i].index = last + 1 + UInt64(i)
            size += ents[i].data.count
        }
        if maxUncommittedSizeBytes > 0, uncommittedSizeBytes > 0, size > 0,
           uncommittedSizeBytes + size > maxUncommittedSizeBytes {
            return false
        }
        uncommittedSizeBytes += size
        log.append(ents[...])
        // Our own progress advances only when the application reports the
        // entries durable (`stableAdvanced`), so a quorum never counts an
        // entry the leader could still lose in a crash.
        return true
    }

    /// The application made entries durable up to `lastStableIndex`.
    func stableAdvanced() {
        guard role == .leader, let pr = prs.progress[id] else { return }
        if pr.maybeUpdate(log.lastStableIndex) && maybeCommit() { broadcastAppend() }
    }

    /// §5.4.2: commit the quorum index only if its entry is from our term.
    func maybeCommit() -> Bool {
        let wasCurrentTerm = log.term(log.committed) == term
        let ci = prs.committedIndex()
        guard ci != UInt64.max else { return false }
        guard log.maybeCommit(ci, term: term, anyTerm: faults.commitPreviousTermByCounting) else { return false }
        if !wasCurrentTerm && log.term(log.committed) == term { releasePendingReads() }
        return true
    }

    func broadcastAppend() {
        for pid in prs.progress.keys.sorted() where pid != id { sendAppend(to: pid) }
    }

    /// Sends the next append (or the snapshot) to `to` if its progress allows.
    /// Returns whether a message was sent.
    @discardableResult
    func sendAppend(to: UInt64, sendIfEmpty: Bool = true) -> Bool {
        guard let pr = prs.progress[to], !pr.isPaused else { return false }
        let prevIndex = pr.next - 1
        let prevTerm = log.term(prevIndex)
        let ents = log.entries(from: pr.next, maxSizeBytes: maxMsgSizeBytes)
        if ents?.isEmpty == true && !sendIfEmpty { return false }

        guard let prevTerm, let ents else {
            // The follower needs entries we compacted away: send the snapshot.
            guard pr.recentActive else { return false }
            let snap: Snapshot
            do {
                snap = try log.snapshot()
            } catch RaftError.snapshotTemporarilyUnavailable {
                return false
            } catch {
                preconditionFailure("raft storage failed: \(error)")
            }
            precondition(!snap.isEmpty, "need a non-empty snapshot to send to \(to)")
            pr.becomeSnapshot(snap.metadata.index)
            record(.snapshotSent(to: to, firstIndex: log.firstIndex, commit: log.committed,
                                 index: snap.metadata.index, term: snap.metadata.term))
            send(Message(type: .snap, to: to, snapshot: snap))
            return true
        }
        if let last = ents.last?.index {
            switch pr.state {
            case .replicate:
                pr.optimisticUpdate(last)
                pr.inflights.add(last)
            case .probe:
                pr.probeSent = true
            case .snapshot:
                preconditionFailure("sending append to \(to) in snapshot state")
            }
        }
        send(Message(type: .app, to: to, logTerm: prevTerm, index: prevIndex,
                     entries: Array(ents), commit: log.committed))
        return true
    }

    func broadcastHeartbeat(context: [UInt8]) {
        for pid in prs.progress.keys.sorted() where pid != id {
            let pr = prs.progress[pid]!
            // Never tell a follower to commit past what it is known to hold.
            send(Message(type: .heartbeat, to: pid, commit: min(pr.match, log.committed), context: context))
        }
    }

    func handleAppendResponse(_ m: Message, _ pr: Progress) {
        pr.recentActive = true
        if m.reject {
            var nextProbe = m.rejectHint
            if m.logTerm > 0 {
                // Fast back-off: skip the whole conflicting term in one round trip.
                nextProbe = log.findConflictByTerm(m.rejectHint, m.logTerm)
            }
            if pr.lostAcknowledged(rejected: m.index, matchHint: nextProbe) {
                record(.followerLostAcknowledged(peer: m.from, match: pr.match, lastIndex: nextProbe))
            }
            if pr.maybeDecrTo(rejected: m.index, matchHint: nextProbe) {
                if pr.state == .replicate { pr.becomeProbe() }
                sendAppend(to: m.from)
            }
            return
        }
        // A follower cannot hold entries we never had: taking a peer's larger
        // index as its match would point its next append past our log, where
        // the only way on is a snapshot (a trap while there is none yet).
        guard m.index <= log.lastIndex else { return }
        let wasPaused = pr.isPaused
        guard pr.maybeUpdate(m.index) else { return }
        switch pr.state {
        case .probe:
            pr.becomeReplicate()
        case .snapshot where pr.match >= pr.pendingSnapshot:
            pr.becomeProbe()
            pr.becomeReplicate()
        case .snapshot:
            break
        case .replicate:
            pr.inflights.freeLE(m.index)
        }
        if maybeCommit() {
            broadcastAppend()
        } else if wasPaused {
            sendAppend(to: m.from)
        }
        // Fill the inflight window while there is something to send.
        while sendAppend(to: m.from, sendIfEmpty: false) {}
        if m.from == leadTransferee && pr.match == log.lastIndex {
            send(Message(type: .timeoutNow, to: m.from))
        }
    }

    // MARK: follower side

    func handleAppendEntries(_ m: Message) {
        if m.index < log.committed {
            send(Message(type: .appResp, to: m.from, index: log.committed))
            return
        }
        if let lastNew = log.maybeAppend(index: m.index, logTerm: m.logTerm, committed: m.commit, entries: m.entries) {
            send(Message(type: .appResp, to: m.from, index: lastNew))
            return
        }
        // Reject with a hint: our last index ≤ m.index whose term ≤ m.logTerm,
        // and its term, so the leader can skip conflicting terms at once.
        let hintIndex = log.findConflictByTerm(min(m.index, log.lastIndex), m.logTerm)
        let hintTerm = log.term(hintIndex) ?? 0
        send(Message(type: .appResp, to: m.from, logTerm: hintTerm, index: m.index,
                     reject: true, rejectHint: hintIndex))
    }

    func handleHeartbeat(_ m: Message) {
        log.commitTo(min(m.commit, log.lastIndex))
        send(Message(type: .heartbeatResp, to: m.from, context: m.context))
    }

    func handleSnapshot(_ m: Message) {
        guard let snap = m.snapshot else { return }
        if restore(snap) {
            send(Message(type: .appResp, to: m.from, index: log.lastIndex))
        } else {
            send(Message(type: .appResp, to: m.from, index: log.committed))
        }
    }

    /// Installs a snapshot from the leader unless our log already has it.
    func restore(_ s: Snapshot) -> Bool {
        let meta = s.metadata
        guard meta.index > log.committed, role != .leader else { return false }
        if log.matchTerm(meta.index, meta.term) {
            // Our log already contains it: just fast-forward the commit.
            record(.snapshotIgnored(commit: log.committed, index: meta.index, term: meta.term))
            log.commitTo(meta.index)
            return false
        }
        log.restore(s)
        prs = ProgressTracker(maxInflight: prs.maxInflight)
        let next = log.lastIndex + 1
        for v in meta.confState.voters { prs.addVoter(v, next: next) }
        for l in meta.confState.learners { prs.addLearner(l, next: next) }
        record(.snapshotRestored(commit: log.committed, lastIndex: log.lastIndex, lastTerm: log.lastTerm,
                                 index: meta.index, term: meta.term))
        record(.switchedConfiguration(voters: meta.confState.voters, learners: meta.confState.learners))
        return true
    }
}
