import Foundation
import MVCC

/// A watch on the hub awaited in-process (Lock and Election wait for
/// deletions and leader changes this way) instead of streamed to a client.
final class InProcessWatch: @unchecked Sendable {
    private let hub: WatchHub
    private let stream: WatchStream
    private let signal: WakeSignal

    init(hub: WatchHub, spec: WatchSpec) {
        let signal = WakeSignal()
        self.hub = hub
        self.signal = signal
        stream = hub.openStream(wake: { signal.fire() })
        hub.create(spec, on: stream)
    }

    deinit { hub.close(stream) }

    /// The next outputs of the watch; throws CancellationError when the
    /// calling task is cancelled.
    func next() async throws -> [WatchOutput] {
        while true {
            try Task.checkCancellation()
            let out = hub.take(stream)
            if !out.isEmpty { return out }
            await signal.wait()
        }
    }

    /// Waits for a DELETE of the watched key; throws if the watch ends first
    /// (compaction, server shutdown).
    func waitForDelete() async throws {
        while true {
            for output in try await next() {
                switch output {
                case .events(_, let events, _):
                    if events.contains(where: { $0.type == .delete }) { return }
                case .compacted:
                    throw ServerError.compacted
                case .created(_, _, true, let reason):
                    throw ServerError(code: .unknown, message: reason)
                case .canceled:
                    throw ServerError.stopped
                case .created, .progress:
                    continue
                }
            }
        }
    }
}

/// A one-waiter wake-up flag: `fire` before `wait` is remembered.
final class WakeSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var pending = false
    private var waiter: CheckedContinuation<Void, Never>?

    func fire() {
        let c: CheckedContinuation<Void, Never>? = lock.withLock {
            if let w = waiter { waiter = nil; return w }
            pending = true
            return nil
        }
        c?.resume()
    }

    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = lock.withLock {
                    if pending { pending = false; return true }
                    waiter = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            fire()
        }
    }
}
