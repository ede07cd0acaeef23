import CLMDB
import Glibc
import Support

extension MVCCStore {
    /// Applies committed Raft entries in order in ONE LMDB write txn (one
    /// commit) and records the last index as the consistent index in it.
    ///
    /// - Each request is its own etcd write txn: a Put/DeleteRange/Txn that
    ///   changes something gets the next main revision.
    /// - A request failing with an etcd error (e.g. lease not found) changes
    ///   nothing and the batch goes on; its result is `.failure`.
    /// - Entries at or below the stored consistent index were applied before
    ///   (WAL replay after restart): they are skipped and answered with
    ///   `.noop(revision:)`.
    /// - A storage failure (LMDB I/O, map full) aborts the whole batch: every
    ///   result is that store failure and nothing is committed. The server
    ///   should stop: the entries are committed in Raft but not applied.
    /// - Requests are assumed validated (the server's `Validation.check`); apply still
    ///   refuses empty or over-long keys without writing anything.
    ///
    /// Must only be called from one thread at a time (the apply loop).
    public func apply(batch: [(index: UInt64, request: WriteRequest)],
                      leaseExists: (Int64) -> Bool) -> BatchResult {
        commit(prepare(batch: batch, leaseExists: leaseExists))
    }

    /// The first half of `apply`: runs the whole batch in a new LMDB write
    /// txn and leaves it open: nothing is written to the file or visible to
    /// readers until `commit`, and `abort` drops it all. Holds the writer
    /// lock until then, so exactly one of `commit` / `abort` must follow, on
    /// the same thread, before anything else writes to this store.
    ///
    /// Lets the Raft loop do a batch's apply work while the WAL fsync of its
    /// entries runs, and commit (make it visible) only once that returned.
    public func prepare(batch: [(index: UInt64, request: WriteRequest)],
                        leaseExists: (Int64) -> Bool) -> PreparedBatch {
        writerGate.lock()
        envGate.lockShared()
        if isClosed { return released(failAll(batch.count, Self.closedError)) }
        let start = snapshotPublishedForWriter()
        var txnPtr: OpaquePointer?
        let rc = mdb_txn_begin(env, nil, 0, &txnPtr)
        if rc != 0 { return released(failAll(batch.count, MVCCError.storage("txn_begin", rc))) }
        let txn = txnPtr!
        var w: KVWriter
        do {
            w = try KVWriter(txn: txn, dbs: dbs, revision: start.revision)
        } catch {
            mdb_txn_abort(txn)
            return released(failAll(batch.count, (error as? MVCCError) ?? MVCCError(.internal, "\(error)")))
        }
        var compactRev = start.compactRevision
        var lastIndex = start.consistentIndex
        var scheduled: [Int64] = []
        var results: [Result<WriteResponse, MVCCError>] = []
        results.reserveCapacity(batch.count)

        do {
            for (index, request) in batch {
                if index != 0 && index <= lastIndex {
                    results.append(.success(.noop(revision: w.beginRev)))
                    continue
                }
                if index > lastIndex { lastIndex = index }
                w.beginRequest()
                do {
                    let resp = try applyOne(request, &w, compactRev: &compactRev, scheduled: &scheduled,
                                            leaseExists: leaseExists)
                    w.endRequest()
                    results.append(.success(resp))
                } catch let e as MVCCError where !e.isStoreFailure && w.changes == 0 {
                    // Checks precede writes, so a failed request changed nothing.
                    results.append(.failure(e))
                }
            }
            try w.setMeta(.revision, w.beginRev)
            try w.setMeta(.consistentIndex, Int64(bitPattern: lastIndex))
            if w.liveKeyDelta != 0 { try w.setMeta(.liveKeys, start.liveKeys + w.liveKeyDelta) }
            if compactRev != start.compactRevision { try w.setMeta(.scheduledCompact, compactRev) }
        } catch {
            mdb_txn_abort(txn)
            let e = (error as? MVCCError) ?? MVCCError(.internal, "\(error)")
            return released(failAll(batch.count, e))
        }
        return PreparedBatch(open: .init(txn: txn, writer: w, start: start, compactRevision: compactRev,
                                         lastIndex: lastIndex, scheduled: scheduled, results: results))
    }

    /// Commits a prepared batch (the second half of `apply`): its changes
    /// become visible and its results and events are returned. A batch that
    /// failed while prepared returns that failure (nothing was written).
    public func commit(_ prepared: PreparedBatch) -> BatchResult {
        guard let open = prepared.take() else { return prepared.failure ?? BatchResult(results: [], events: []) }
        defer {
            envGate.unlockShared()
            writerGate.unlock()
        }
        do {
            let commitStart = MonotonicClock.nanoseconds()
            try LMDB.check(mdb_txn_commit(open.txn), "txn_commit")
            committed(on: env)
            commitObserver?(MonotonicClock.nanoseconds() &- commitStart)
        } catch {
            // mdb_txn_commit frees the txn even when it fails.
            var e = (error as? MVCCError) ?? MVCCError(.internal, "\(error)")
            // LMDB reports a short write on a full disk as EIO: say how much room is left.
            if e.lmdbCode == EIO || e.lmdbCode == ENOSPC { e.message += FileSystemSpace.note(for: path) }
            return failAll(open.results.count, e)
        }
        let w = open.writer
        let finalRev = w.beginRev
        // Before anything else commits; a read that already sees this commit is not counted twice.
        rangeCounts.fold(w.events, from: open.start.revision, to: finalRev)
        let compactRev = open.compactRevision, lastIndex = open.lastIndex, liveKeys = open.start.liveKeys + w.liveKeyDelta
        publish {
            $0.revision = finalRev
            $0.compactRevision = compactRev
            $0.consistentIndex = lastIndex
            $0.liveKeys = liveKeys
        }
        for rev in open.scheduled { compactor.schedule(rev) }
        residency.afterCommit(env)
        return BatchResult(results: open.results, events: w.events)
    }

    /// A batch that failed while being prepared: nothing stays open or locked.
    private func released(_ failure: BatchResult) -> PreparedBatch {
        envGate.unlockShared()
        writerGate.unlock()
        return PreparedBatch(failed: failure)
    }

    /// Drops a prepared batch: nothing of it is written or published.
    public func abort(_ prepared: PreparedBatch) {
        guard let open = prepared.take() else { return }
        mdb_txn_abort(open.txn)
        envGate.unlockShared()
        writerGate.unlock()
    }

    private func snapshotPublishedForWriter() -> Published {
        var p: Published!
        publish { p = $0 }
        return p
    }

    private func failAll(_ n: Int, _ e: MVCCError) -> BatchResult {
        BatchResult(results: Array(repeating: .failure(e), count: n), events: [])
    }

    private func applyOne(_ request: WriteRequest, _ w: inout KVWriter, compactRev: inout Int64,
                          scheduled: inout [Int64], leaseExists: (Int64) -> Bool) throws -> WriteResponse {
        switch request {
        case .put(let p):
            return .put(try w.applyPut(p, inTxn: false, leaseExists: leaseExists))
        case .deleteRange(let d):
            return .deleteRange(try w.applyDelete(d))
        case .txn(let t):
            if t.isReadOnly || t.writesLastAndOnce {
                // Nothing can fail after this request's first change (its
                // only write is the last op), so a failure leaves no change
                // behind, as a Put's does: no nested txn needed.
                return .txn(try w.applyTxn(t, compactRev: compactRev, leaseExists: leaseExists))
            }
            // A nested LMDB txn, so an unexpected failure half-way through the
            // ops rolls back only this request. (It costs a dirty-page list,
            // cursors, copies of the pages the batch already dirtied, and a
            // merge into the batch's txn at its commit.)
            var child: OpaquePointer?
            try LMDB.check(mdb_txn_begin(env, w.txn, 0, &child), "txn_begin(nested)")
            let cw: KVWriter, resp: TxnResponse
            do {
                var writer = try KVWriter(txn: child!, dbs: dbs, revision: w.beginRev)
                resp = try writer.applyTxn(t, compactRev: compactRev, leaseExists: leaseExists)
                cw = writer
            } catch {
                mdb_txn_abort(child)
                throw error
            }
            // A failed commit frees the child txn too; the error aborts the batch.
            try LMDB.check(mdb_txn_commit(child), "txn_commit(nested)")
            w.adopt(cw)
            return .txn(resp)
        case .compact(let c):
            if c.revision <= compactRev { throw MVCCError.compacted }
            if c.revision > w.beginRev { throw MVCCError.futureRevision }
            compactRev = c.revision
            scheduled.append(c.revision)
            return .compact(CompactionResponse(revision: w.beginRev))
        case .noop:
            return .noop(revision: w.beginRev)
        case .leaseGrant(let l):
            try w.putLease(l)
            return .noop(revision: w.beginRev)
        case .leaseRevoke(let id, let keys):
            return .deleteRange(try w.applyLeaseRevoke(id: id, keys: keys))
        case .leaseCheckpoint(let ls):
            for l in ls { try w.checkpointLease(id: l.id, remainingTTLSeconds: l.remainingTTLSeconds) }
            return .noop(revision: w.beginRev)
        case .bucketRecords(let records):
            for r in records { try w.putBucketRecord(r) }
            return .noop(revision: w.beginRev)
        }
    }
}
