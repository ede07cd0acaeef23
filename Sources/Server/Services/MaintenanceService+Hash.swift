import Foundation
import GRPCWire
import MVCC
import NIOPosix
import Proto

/// `Maintenance.Hash` and `HashKV`, as etcd answers them: HashKV is the
/// CRC-32C of the key-value history up to a revision (equal on members with
/// the same history; `etcdctl endpoint hashkv`), Hash covers the whole
/// backend. Both read one consistent LMDB snapshot off the event loop.
extension MaintenanceService {
    func registerHash(on router: GRPCRouter) {
        let backend = self.backend, access = self.access
        router.unary(Etcdserverpb.MaintenanceService.hashKV) { request, context in
            _ = try await access.check(.admin, context)
            let store = backend.store
            let result = try await offLoop { try store.hashKV(revision: request.revision) }
            var response = Etcdserverpb.HashKVResponse()
            response.header = backend.header(revision: result.currentRevision)
            response.hash = result.hash
            response.compactRevision = result.compactRevision
            response.hashRevision = result.hashRevision
            return response
        }
        router.unary(Etcdserverpb.MaintenanceService.hash) { _, context in
            _ = try await access.check(.admin, context)
            let store = backend.store
            let result = try await offLoop { try store.hashAll() }
            var response = Etcdserverpb.HashResponse()
            response.header = backend.header(revision: result.revision)
            response.hash = result.hash
            return response
        }
    }
}

/// Runs blocking work (a full scan, a copy, an fsync) on NIO's blocking
/// thread pool, so no event loop and no Swift concurrency thread waits on
/// the disk.
func offLoop<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(work)
}
