import Foundation

/// A batch `MVCCStore.prepare` ran in a write txn that is still open (or
/// the failure that stopped it): `MVCCStore.commit` makes it visible,
/// `MVCCStore.abort` drops it. While open it holds the store's writer lock,
/// so it must be finished, on the thread that prepared it, before the next
/// write. Finishing twice does nothing the second time.
public final class PreparedBatch {
    struct Open {
        let txn: OpaquePointer
        let writer: KVWriter
        let start: MVCCStore.Published
        let compactRevision: Int64
        let lastIndex: UInt64
        let scheduled: [Int64]
        let results: [Result<WriteResponse, MVCCError>]
    }

    private var open: Open?
    /// What every request got when preparing failed (nothing is open then).
    let failure: BatchResult?

    init(open: Open) {
        self.open = open
        failure = nil
    }

    init(failed: BatchResult) {
        open = nil
        failure = failed
    }

    /// The open txn, once: a second finish finds nothing.
    func take() -> Open? {
        defer { open = nil }
        return open
    }

    /// Requests in the batch.
    public var count: Int { open?.results.count ?? failure?.results.count ?? 0 }
}
