import Foundation
import Support

/// One thread that runs one job at a time for the Raft loop: the WAL write
/// and fsync of a Ready while the loop applies that Ready's committed
/// entries (already durable), so a batch's fsync and the previous batch's
/// apply overlap as in etcd, whose apply runs beside its Raft loop.
///
/// `start` hands over a job; `wait` blocks until it finished and rethrows
/// its error. Exactly one caller (the Raft loop thread) uses it, always
/// `start` then `wait`, never two jobs at once.
final class PersistWorker: @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var job: (() throws -> Void)?
    private var running = false
    private var failure: Error?
    private var stopping = false
    private let stopped = Latch()
    private var thread: Thread?
    /// Runs on the worker thread after each job, its outcome recorded (set
    /// before `startThread`): the Raft loop waits on its own mailbox and is
    /// woken by this as by any request.
    var onFinish: () -> Void = {}

    func startThread(name: String) {
        let t = Thread.named(name) { [self] in run() }
        thread = t
        t.start()
    }

    func start(_ body: @escaping () throws -> Void) {
        condition.withLock {
            precondition(!running, "PersistWorker: a job is already running")
            job = body
            running = true
            failure = nil
            condition.broadcast()
        }
    }

    func wait() throws {
        let error: Error? = condition.withLock {
            while running { condition.wait() }
            return failure
        }
        if let error { throw error }
    }

    /// Ends the thread once it is idle (call after the last `wait`).
    func stop() {
        condition.withLock {
            stopping = true
            condition.broadcast()
        }
        if thread != nil { stopped.wait() }
    }

    private func run() {
        while true {
            let next: (() throws -> Void)? = condition.withLock {
                while job == nil && !stopping { condition.wait() }
                defer { job = nil }
                return job
            }
            guard let next else { break }
            var error: Error?
            do { try next() } catch let e { error = e }
            condition.withLock {
                failure = error
                running = false
                condition.broadcast()
            }
            onFinish()
        }
        stopped.open()
    }
}
