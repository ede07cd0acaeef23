import Foundation
import GRPCWire
import MVCC
import Proto
import Support

/// `Maintenance.Snapshot`: a consistent copy of the store, streamed as etcd's
/// v3rpc/maintenance.go streams it, so `etcdctl snapshot save` accepts it:
/// 32 KiB blobs with the bytes still to come in `remaining_bytes`, then one
/// last message whose blob is the SHA-256 of everything before it.
///
/// The copy is an LMDB compacting copy (`MVCCStore.snapshot(to:)`) written
/// to a temporary file in the member's snap dir and unlinked as soon as it
/// is open, so a crash leaves nothing behind. Memory stays bounded whatever
/// the store's size: one chunk at a time, and `send` waits while the client
/// is slower than the disk.
extension MaintenanceService {
    /// etcd's snapshotSendBufferSize.
    static let snapshotChunkBytes = 32 * 1024

    func registerSnapshot(on router: GRPCRouter) {
        let backend = self.backend, access = self.access
        router.serverStreaming(Etcdserverpb.MaintenanceService.snapshot.path) { bytes, context, writer in
            _ = try decodeRequest(Etcdserverpb.SnapshotRequest.self, bytes)
            do {
                _ = try await access.check(.admin, context)
                try await SnapshotStreamer(backend: backend).stream { try await writer.send($0.serializedBytes()) }
            } catch {
                throw grpcStatus(for: error)
            }
        }
    }
}

/// Produces the snapshot messages; `send` is the gRPC writer (or a test's).
struct SnapshotStreamer {
    let backend: MaintenanceBackend

    func stream(_ send: (Etcdserverpb.SnapshotResponse) async throws -> Void) async throws {
        let file = try await copyStore()
        defer { file.close() }
        backend.logger.info("sending database snapshot to client", metadata: [
            "total-bytes": "\(file.sizeBytes)", "revision": "\(file.info.revision)",
        ])
        var hasher = SHA256()
        var sent: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: MaintenanceService.snapshotChunkBytes)
        while sent < file.sizeBytes {
            let want = Int(min(Int64(buffer.count), file.sizeBytes - sent))
            let n = try buffer.withUnsafeMutableBytes { try FileIO.read(file.fd, into: $0.baseAddress!, count: want) }
            guard n == want else {
                throw ServerError.internalError("snapshot copy shrank while streaming (\(sent + Int64(n)) of \(file.sizeBytes) bytes)")
            }
            sent += Int64(n)
            let chunk = Array(buffer[0..<n])
            hasher.update(chunk)
            var response = Etcdserverpb.SnapshotResponse()
            response.remainingBytes = UInt64(file.sizeBytes - sent)
            response.blob = chunk
            try await send(response)
        }
        var last = Etcdserverpb.SnapshotResponse()
        last.blob = hasher.finalize()
        try await send(last)
        backend.logger.info("sent database snapshot to client", metadata: ["total-bytes": "\(file.sizeBytes)"])
    }

    /// Makes the copy off the event loop (it may take seconds).
    private func copyStore() async throws -> StoreCopy {
        let store = backend.store
        let snapDir = backend.snapDir
        return try await offLoop { try StoreCopy.make(store: store, snapDir: snapDir) }
    }
}

/// Copies a crash left behind (`db.snapshot-*`), removed before this
/// process makes its first copy: none of them can be in use then.
enum StaleCopies {
    static let prefix = "db.snapshot-"
    private static let lock = NSLock()
    nonisolated(unsafe) private static var done = false  // guarded by `lock`

    static func removeOnce(in dir: String) {
        lock.lock()
        defer { lock.unlock() }
        if done { return }
        done = true
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(atPath: dir + "/" + name)
        }
    }
}
