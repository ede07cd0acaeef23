import Foundation
import GRPCWire
import MVCC
import Proto
import Support

/// `Maintenance.Snapshot`: the store as an etcd backend (bbolt) file, so
/// real `etcdctl snapshot save`, `etcdutl snapshot status|restore` take
/// it: streamed as etcd's v3rpc/maintenance.go streams it, blobs with the
/// bytes still to come in `remaining_bytes`, then one last message whose
/// blob is the SHA-256 of everything before it.
///
/// Nothing is copied: the file is written as it is sent, from one
/// consistent read view of the store (`EtcdSnapshotExporter`), while writes
/// go on. Memory per stream is about `producePieceBytes`; at most
/// `maxConcurrentStreams` streams read at once (others wait); a client that
/// leaves cancels its stream, which closes the view.
extension MaintenanceService {
    /// etcd's snapshotSendBufferSize: the blob of each message.
    static let snapshotChunkBytes = 32 * 1024
    /// Bytes of file produced (and hashed) per hop off the event loop.
    static let producePieceBytes = 1 << 20
    static let maxConcurrentStreams = 4

    func registerSnapshot(on router: GRPCRouter) {
        let backend = self.backend, access = self.access
        router.serverStreaming(Etcdserverpb.MaintenanceService.snapshot.path) { bytes, context, writer in
            _ = try decodeRequest(Etcdserverpb.SnapshotRequest.self, bytes)
            do {
                _ = try await access.check(.admin, context)
                try await SnapshotStreamer(backend: backend).stream { try await writer.send($0.serializedBytes()) }
            } catch is CancellationError {
                throw GRPCStatus(.cancelled, "context canceled")
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
        let limiter = backend.snapshotStreams
        try await limiter.acquire()
        defer { limiter.release() }
        let store = backend.store
        // Older versions and the leader's transfers copy the store into the
        // snap dir; a crash can leave such a copy behind.
        StaleCopies.removeOnce(in: backend.snapDir)
        let extras = backend.etcdBackendExtras()
        // A defrag's swap would end the view: wait for it without holding
        // a pool thread (`openReadView` blocks in the rare race).
        while store.isDefragmenting { try await Task.sleep(for: .milliseconds(20)) }
        try Task.checkCancellation()
        let producer = try await offLoop { try Producer(store: store, extras: extras) }
        defer { producer.view.close() }
        let total = producer.exporter.sizeBytes
        backend.logger.info("sending database snapshot to client", metadata: [
            "total-bytes": "\(total)", "revision": "\(producer.view.revision)",
        ])
        var sent: Int64 = 0
        while let piece = try await nextPiece(producer) {
            var at = 0
            while at < piece.count {
                let n = min(MaintenanceService.snapshotChunkBytes, piece.count - at)
                sent += Int64(n)
                var response = Etcdserverpb.SnapshotResponse()
                response.remainingBytes = UInt64(max(0, total - sent))
                response.blob = Array(piece[at..<(at + n)])
                try await send(response)
                at += n
            }
        }
        guard sent == total else {
            throw ServerError.internalError("snapshot: wrote \(sent) bytes, planned \(total)")
        }
        var last = Etcdserverpb.SnapshotResponse()
        last.blob = producer.digest()
        try await send(last)
        backend.logger.info("sent database snapshot to client", metadata: ["total-bytes": "\(total)"])
    }

    /// The exporter and the running digest; used by one stream at a time.
    final class Producer: @unchecked Sendable {
        let view: StoreReadView
        let exporter: EtcdSnapshotExporter
        private var hasher = SHA256()

        init(store: MVCCStore, extras: EtcdBackendExtras) throws {
            view = try store.openReadView()
            do {
                exporter = try EtcdSnapshotExporter(view: view, extras: extras)
            } catch {
                view.close()
                throw error
            }
        }

        /// The next piece of the file, hashed; nil at the end.
        func next() throws -> [UInt8]? {
            guard let piece = try exporter.next(minBytes: MaintenanceService.producePieceBytes) else { return nil }
            hasher.update(piece)
            return piece
        }

        func digest() -> [UInt8] { hasher.finalize() }
    }

    /// The next piece, made off the event loops (producing takes CPU and
    /// disk time); a client that left stops it here.
    private func nextPiece(_ producer: Producer) async throws -> [UInt8]? {
        try Task.checkCancellation()
        return try await offLoop { try producer.next() }
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
