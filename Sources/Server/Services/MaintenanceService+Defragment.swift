import GRPCWire
import MVCC
import Proto

/// `Maintenance.Defragment`: rewrites this member's store into a compacted
/// copy (`MVCCStore.defragment`), so Status' dbSize drops to about
/// dbSizeInUse. Local to the member, as in etcd; online: writes and reads
/// go on during the copy and pause only for the final catch-up and swap.
extension MaintenanceService {
    func registerDefragment(on router: GRPCRouter) {
        let backend = self.backend, access = self.access
        router.unary(Etcdserverpb.MaintenanceService.defragment) { _, context in
            _ = try await access.check(.admin, context)
            let store = backend.store
            backend.defragHealth.defragStarted()
            defer { backend.defragHealth.defragFinished() }
            backend.logger.info("starting defragment")
            let sizes = try await offLoop { try store.defragment() }
            let t = store.lastDefrag
            backend.logger.info("finished defragment", metadata: [
                "db-size-before": "\(sizes.beforeBytes)", "db-size-after": "\(sizes.afterBytes)",
                "copy-ms": "\(Int(t?.copyMs ?? 0))", "catch-up-ms": "\(Int(t?.catchUpMs ?? 0))",
                "catch-up-records": "\(t?.catchUpRecords ?? 0)", "write-pause-ms": "\(Int(t?.pauseMs ?? 0))",
                "swap-ms": "\(Int(t?.swapMs ?? 0))",
            ])
            var response = Etcdserverpb.DefragmentResponse()
            response.header = backend.header(revision: store.currentRevision)
            return response
        }
    }
}
