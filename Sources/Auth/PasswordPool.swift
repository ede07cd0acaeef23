import Foundation
import NIOPosix

/// The threads bcrypt runs on: one per core, apart from NIO's shared
/// blocking pool (`NIOThreadPool.singleton`), which the member's snapshots,
/// HashKV, defrag, certificate reloads and peer hash answers use. A flood of
/// Authenticate calls (which need no credentials to send) then delays other
/// password checks only, as in etcd, where each is a goroutine of its own.
enum PasswordPool {
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(1, ProcessInfo.processInfo.activeProcessorCount))
        pool.start()
        return pool
    }()

    /// Runs `work` on the pool (here, should the pool not run).
    static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        do { return try await pool.runIfActive(work) } catch { return work() }
    }
}

/// Set once the caller of queued work has gone (its task was cancelled).
final class CallerLeft: @unchecked Sendable {
    private let lock = NSLock()
    private var left = false

    var value: Bool { lock.withLock { left } }

    func set() { lock.withLock { left = true } }
}
