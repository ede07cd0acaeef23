import Foundation
import Logging

/// `--experimental-stop-grpc-service-on-defrag` (etcd 3.5's health
/// notifier): while this member defragments, the gRPC health service
/// answers NOT_SERVING so that load balancers and clients that check it
/// send traffic elsewhere; requests are still served. Off by default.
final class DefragHealthGate: @unchecked Sendable {
    private let enabled: Bool
    private let logger: Logger
    private let lock = NSLock()
    private var running = 0  // guarded by `lock`: defragmentations under way

    init(enabled: Bool, logger: Logger) {
        self.enabled = enabled
        self.logger = logger
    }

    /// False while a defragmentation runs (with the flag on).
    var isServing: Bool { lock.withLock { running == 0 } }

    func defragStarted() {
        guard enabled else { return }
        let first = lock.withLock { () -> Bool in
            running += 1
            return running == 1
        }
        if first { logger.warning("stop serving gRPC requests", metadata: ["reason": "defrag is active"]) }
    }

    func defragFinished() {
        guard enabled else { return }
        let last = lock.withLock { () -> Bool in
            running = max(0, running - 1)
            return running == 0
        }
        if last { logger.info("start serving gRPC requests from client") }
    }
}
