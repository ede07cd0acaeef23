import Logging
import MVCC
import Proto
import Raft

/// The result a proposer waits for: the store's answer and the Raft term it
/// was applied in (for the response header).
struct AppliedResult: Sendable {
    var response: Result<WriteResponse, KVError>
    var term: UInt64
}

/// Applies committed entries to the MVCC store: decodes each entry's
/// `InternalRaftRequest`, applies the whole run in one LMDB commit, and wakes
/// the proposers waiting on this member. An entry that cannot be decoded or
/// fails is answered with an error and recorded as applied; it never stops
/// the server, now or at restart.
final class KVApplier: CommittedEntryApplier {
    private let store: MVCCStore
    private let waits: WaitRegistry<AppliedResult>
    private let logger: Logger

    init(store: MVCCStore, waits: WaitRegistry<AppliedResult>, logger: Logger) {
        self.store = store
        self.waits = waits
        self.logger = logger
    }

    func apply(_ entries: [Entry], term: UInt64) {
        var batch: [(index: UInt64, request: WriteRequest)] = []
        var ids: [UInt64] = []
        batch.reserveCapacity(entries.count)
        ids.reserveCapacity(entries.count)
        for entry in entries {
            let (id, request) = decode(entry)
            batch.append((entry.index, request))
            ids.append(id)
        }
        let result = store.apply(batch: batch, leaseExists: { _ in false })
        for (i, response) in result.results.enumerated() where ids[i] != 0 {
            if case .failure(let e) = response, e.code == .internal {
                // The store could not write: the entries are committed but not
                // applied. Continuing would diverge from the log.
                logger.critical("failed to apply committed entries", metadata: ["error": "\(e.message)"])
                fatalError("swift-etcd: failed to apply committed entries: \(e.message)")
            }
            waits.trigger(id: ids[i], .success(AppliedResult(response: response, term: term)))
        }
    }

    /// The request ID (0 for entries nobody waits on) and the store request.
    private func decode(_ entry: Entry) -> (UInt64, WriteRequest) {
        guard entry.type == .normal, !entry.data.isEmpty else { return (0, .noop) }
        let request: Swiftetcd.InternalRaftRequest
        do {
            request = try entry.data.withUnsafeBytes { try Swiftetcd.InternalRaftRequest(serializedBytes: $0) }
        } catch {
            logger.error("skipping undecodable raft entry", metadata: ["index": "\(entry.index)", "error": "\(error)"])
            return (0, .noop)
        }
        if let put = request.put { return (request.id, .put(KVMapping.put(put))) }
        if let del = request.deleteRange { return (request.id, .deleteRange(KVMapping.deleteRange(del))) }
        if let txn = request.txn { return (request.id, .txn(KVMapping.txn(txn))) }
        if let compaction = request.compaction { return (request.id, .compact(KVMapping.compaction(compaction))) }
        logger.warning("raft entry with a request this member does not apply yet", metadata: ["index": "\(entry.index)"])
        return (request.id, .noop)
    }
}
