import Foundation

/// A readers-writer lock around the LMDB environment pointer: every txn
/// (reads, the apply batch, compaction chunks, copies) holds it shared for
/// its whole life; `defragment` holds it exclusively while it swaps the
/// environment for a compacted copy. glibc's default rwlock prefers readers,
/// so a reader nested inside another (same thread) never deadlocks.
final class EnvGate: @unchecked Sendable {
    private var lock = pthread_rwlock_t()

    init() { pthread_rwlock_init(&lock, nil) }
    deinit { pthread_rwlock_destroy(&lock) }

    func shared<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_rdlock(&lock)
        defer { pthread_rwlock_unlock(&lock) }
        return try body()
    }

    /// For functions with many exits: pair with `defer { unlockShared() }`.
    func lockShared() { pthread_rwlock_rdlock(&lock) }
    func unlockShared() { pthread_rwlock_unlock(&lock) }

    func exclusive<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_wrlock(&lock)
        defer { pthread_rwlock_unlock(&lock) }
        return try body()
    }
}
