import Foundation
import MVCC

/// A consistent copy of the MVCC store, open for reading and already
/// unlinked: written (LMDB compacting copy, `MVCCStore.snapshot(to:)`) to
/// a temporary file in the member's snap dir, opened, then removed, so the
/// descriptor holds the data until `close` and a crash leaves nothing
/// behind (`StaleCopies` removes what an older crash left). Read it in
/// fixed-size pieces (`FileIO.read`): memory stays bounded
/// whatever the store's size. Used by `Maintenance.Snapshot` and by the
/// leader's snapshot transfer to followers.
struct StoreCopy {
    let fd: Int32
    let sizeBytes: Int64
    let info: SnapshotInfo

    /// Blocks for as long as the copy takes (seconds for a large store): call
    /// off the event loops and the Raft loop.
    static func make(store: MVCCStore, snapDir: String) throws -> StoreCopy {
        StaleCopies.removeOnce(in: snapDir)
        let path = snapDir + "/\(StaleCopies.prefix)\(UUID().uuidString)"
        defer { unlink(path) }
        let info = try store.snapshot(to: path)
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw ServerError.internalError("cannot open snapshot copy: errno \(errno)") }
        var st = stat()
        fstat(fd, &st)
        return StoreCopy(fd: fd, sizeBytes: Int64(st.st_size), info: info)
    }

    func close() { _ = Foundation.close(fd) }
}
