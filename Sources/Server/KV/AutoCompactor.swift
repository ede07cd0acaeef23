import Config
import Foundation
import Logging
import MVCC
import Proto

/// Runs `AutoCompactionPlan` on every member; only the leader compacts (as
/// etcd pauses its compactor on followers, which still records revisions):
/// each compaction is an ordinary Compact request through Raft, so every
/// member compacts at the same revision.
final class AutoCompactor: @unchecked Sendable {
    private var task: Task<Void, Never>?
    private let lock = NSLock()

    func start(server: EtcdServer, retention: AutoCompactionRetention) {
        guard var plan = AutoCompactionPlan(retention, nowSeconds: Self.now(),
                                            currentRevision: server.store.currentRevision) else { return }
        server.logger.info("auto compaction enabled", metadata: ["mode": "\(plan.mode)"])
        let interval = plan.checkIntervalSeconds
        let t = Task.detached { [weak server] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
                guard let server, !Task.isCancelled else { return }
                guard let rev = plan.check(nowSeconds: Self.now(), currentRevision: server.store.currentRevision,
                                           leading: server.loop.status.isLeader) else { continue }
                var proposal = Swiftetcd.InternalRaftRequest()
                var request = Etcdserverpb.CompactionRequest()
                request.revision = rev
                proposal.compaction = request
                do {
                    _ = try await server.proposeWrite(proposal, as: nil)
                    plan.compacted(rev, nowSeconds: Self.now())
                    server.logger.info("completed auto compaction", metadata: ["revision": "\(rev)"])
                } catch let e as MVCCError where e.kind == .compacted {
                    plan.compacted(rev, nowSeconds: Self.now())
                } catch {
                    server.logger.warning("failed auto compaction", metadata: ["revision": "\(rev)", "error": "\(error)"])
                }
            }
        }
        lock.withLock { task = t }
    }

    func stop() {
        lock.withLock { task }?.cancel()
    }

    private static func now() -> Double { ProcessInfo.processInfo.systemUptime }
}
