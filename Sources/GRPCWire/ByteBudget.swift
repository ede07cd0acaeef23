import Atomics
import NIOConcurrencyHelpers

/// A byte budget all HTTP/2 connections of the process share: unsent
/// response bytes (`responses`) and request bytes of running unary calls
/// (`requests`).
///
/// Each connection stops starting unary calls at `maxQueuedResponseBytes`
/// (16 MiB) of unsent answers or `maxRunningUnaryCalls` (256) running, but
/// those bounds scale with the number of connections: 100 connections that
/// read with 1-byte WINDOW_UPDATEs, 50 calls of 1 MB each, held 1.7 GB, and
/// 256 running 1.5 MB puts per connection are 384 MB each. Every connection
/// therefore also counts its bytes here; while a budget is full, a connection
/// that already has something queued or running starts no further unary call
/// and a stream that already has bytes queued sends nothing more (responses).
/// A connection with nothing queued and nothing running may always start one
/// call, and a stream with nothing queued may always send, so a slow or
/// greedy client can never starve the others: each budget is exceeded by at
/// most one call per connection (one message batch per stream).
///
/// Connections that wait for room register a wake-up; the byte that takes the
/// total below `totalBytes` runs them (each hops to its own event loop).
public final class ByteBudget: Sendable {
    /// Unsent answers, every client listener of the process (128 MiB).
    public static let responses = ByteBudget(totalBytes: 128 << 20)
    /// Request bytes of running unary calls, every client listener of the process (256 MiB).
    public static let requests = ByteBudget(totalBytes: 256 << 20)

    public let totalBytes: Int
    private let used = ManagedAtomic<Int>(0)
    private let hasWaiters = ManagedAtomic<Bool>(false)
    private let waiters = NIOLockedValueBox<[@Sendable () -> Void]>([])

    public init(totalBytes: Int) {
        self.totalBytes = max(1, totalBytes)
    }

    /// Bytes counted now, all connections (tests, metrics).
    public var bytesInUse: Int { used.load(ordering: .relaxed) }

    /// True while the total is at or above the bound.
    public var isFull: Bool { used.load(ordering: .relaxed) >= totalBytes }

    public func add(_ bytes: Int) {
        used.wrappingIncrement(by: bytes, ordering: .relaxed)
    }

    public func remove(_ bytes: Int) {
        // Sequentially consistent with `whenRoom`'s store and load, so that
        // a drop below the bound and a registration never both miss each other.
        let now = used.wrappingDecrementThenLoad(by: bytes, ordering: .sequentiallyConsistent)
        if now < totalBytes && hasWaiters.load(ordering: .sequentiallyConsistent) { wakeAll() }
    }

    /// Runs `wake` once the total is below the bound (at once if it already is).
    /// The caller registers at most once per wait; `wake` must be cheap (hop to a loop).
    func whenRoom(_ wake: @escaping @Sendable () -> Void) {
        waiters.withLockedValue { list in
            list.append(wake)
            hasWaiters.store(true, ordering: .sequentiallyConsistent)
        }
        // The total may have dropped between the caller's check and the registration.
        if used.load(ordering: .sequentiallyConsistent) < totalBytes { wakeAll() }
    }

    private func wakeAll() {
        let list = waiters.withLockedValue { list -> [@Sendable () -> Void] in
            hasWaiters.store(false, ordering: .sequentiallyConsistent)
            defer { list = [] }
            return list
        }
        for wake in list { wake() }
    }
}
