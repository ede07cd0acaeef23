import Foundation
import GRPCWire
import Raft
import Support
import WAL

extension RaftLoop {
    /// Carries out one Ready in the contract's order (persist → send →
    /// apply → advance), with the overlaps the comments below justify.
    func handle(_ rd: Ready) {
        raftLog.log(node.takeEvents())  // the decisions this Ready carries out, first
        publishReadGrant()  // before this Ready sends or applies anything
        if let soft = rd.softState { role = soft.role }
        // A leader's messages promise nothing about its own disk (its copy
        // counts towards a quorum only after `advance`), so they go out
        // before its fsync and the followers' fsyncs overlap the leader's,
        // as etcd does (Raft thesis 10.2.1). Anyone else's may acknowledge
        // what this Ready persists: they wait for the fsync.
        // A follower's forwarded proposals, ReadIndex requests and heartbeat
        // acknowledgements promise nothing either (`sendsBeforePersisting`):
        // they leave now, not after the entries this Ready persists.
        var late: [Message] = []
        if role == .leader || !rd.mustSync {
            if !rd.messages.isEmpty { transport.send(rd.messages) }
        } else {
            let early: [Message]
            (early, late) = rd.messages.splitBySendsBeforePersisting()
            if !early.isEmpty { transport.send(early) }
        }
        // Committed entries are durable already (the Ready contract), so
        // applying them needs nothing this Ready persists: the WAL write and
        // fsync run on `persister` meanwhile. Not with a snapshot (it
        // replaces what is applied).
        // Without a snapshot, the WAL write and fsync run on `persister`
        // while the loop keeps replicating (`persistWhileReplicating`).
        // A sole voter's new entries are committed as soon as they are
        // durable: they are applied during their WAL write's device I/O into
        // an open store txn (nothing visible, nobody answered) that is
        // committed only once the fsync returned (`prepared`); the WAL's hard
        // state then already says they are committed, so the store is never
        // ahead of it.
        let speculate = appliesDuringSync(rd)
        let background = !speculate && rd.mustSync && (rd.snapshot?.isEmpty ?? true)
        let overlap = background && !rd.committedEntries.isEmpty
        var prepared: PreparedApply?
        if background {
            let wal = self.wal, hardState = rd.hardState, entries = rd.entries
            persister.start { try wal.save(hardState: hardState, entries: entries) }
        }
        if overlap { apply(rd.committedEntries) }
        do {
            if let snap = rd.snapshot, !snap.isEmpty {
                // Nothing may be applied while the store is replaced.
                applyStage?.drain()
                // The store first: a crash before the WAL marker leaves the old
                // Raft state with a store that is ahead, whose replay skips
                // what the store holds; the leader then sends again. The
                // install note tells that state apart from a WAL that lost
                // applied entries (`StoreLogCheck`).
                try StoreInstallMarker.begin(index: snap.metadata.index, snapDir: snapshots.dir)
                try installSnapshot(snap)
                try snapshots.save(snap)
                try wal.saveSnapshotMarker(WALSnapshotMarker(index: snap.metadata.index, term: snap.metadata.term))
                try StoreInstallMarker.end(snapDir: snapshots.dir)
                try storage.applySnapshot(snap)
                confState = snap.metadata.confState
                lastSnapshotIndex = snap.metadata.index
                appliedIndex = snap.metadata.index
                dispatchedIndex = max(dispatchedIndex, appliedIndex)
            }
            if speculate {
                // On this thread (a hand-over to `persister` costs two
                // wake-ups, more than the apply work it would hide).
                var hardState = rd.hardState ?? storage.hardState
                hardState.commit = max(hardState.commit, rd.entries[rd.entries.count - 1].index)
                let term = node.term
                try wal.save(hardState: hardState, entries: rd.entries) { prepared = applier?.prepare(rd.entries, term: term) }
            } else if background {
                try persistWhileReplicating()
            } else if rd.mustSync {
                try wal.save(hardState: rd.hardState, entries: rd.entries)
            } else if let hs = rd.hardState {
                // Only the commit index moved: no fsync needed (etcd's MustSync).
                try wal.saveUnsynced(hardState: hs)
            }
            if !rd.entries.isEmpty { try storage.append(rd.entries) }
            if let hs = rd.hardState { storage.setHardState(hs) }
        } catch {
            prepared?.abort()
            // A failed fsync leaves the WAL in an unknown state: never carry on.
            logger.critical("failed to persist raft state", metadata: ["error": "\(error)"])
            ProcessStop.fatal("failed to persist raft state: \(error)")
        }
        if !late.isEmpty { transport.send(late) }
        if let prepared {
            AnswerBatch.collect { prepared.finish() }
            appliedIndex = max(appliedIndex, rd.entries[rd.entries.count - 1].index)
            dispatchedIndex = max(dispatchedIndex, appliedIndex)
        }
        if !overlap { apply(rd.committedEntries) }
        for (index, batch) in Self.ownReads(rd.readStates, memberID: memberID) {
            reads.answered(batch)
            pendingReadStates.append((index, batch))
        }
        answerReads()
        if rd.softState != nil {
            // The leader is gone or a new one was elected: the ReadIndex in
            // flight went to the old one (or was dropped), so the next goes
            // out at once. The reads keep waiting, as etcd's do, until a
            // leader answers or their deadline passes ("request timed out").
            reads.forgetInFlight()
        }
        node.advance(rd)
        publishStatus()
        maybeSnapshot()
        discardReceivedSnapshots(appliedIndex)
    }
}
