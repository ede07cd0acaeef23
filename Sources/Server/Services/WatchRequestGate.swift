import Foundation

/// Bounds how far a Watch stream's request side may run ahead of its send
/// side. Each create, cancel or progress request queues an answer; a
/// client that sends them without reading its stream would otherwise make
/// the member queue answers without end (3,000,000 create/cancel pairs on
/// one unread stream grew a member by gigabytes). etcd's recvLoop hands
/// each answer to a 16-deep channel and blocks on it, so it stops reading
/// the stream and HTTP/2 flow control stops the client; this gate does the
/// same: the request side waits once `limit` handled requests have answers
/// the send side has not written yet.
///
/// Requests are numbered as they are handled. The send side reads that
/// number (`handledSoFar`) before it takes the hub's queue, so every answer
/// of those requests is in what it takes, and reports it (`written`) once
/// those answers went to the writer. A request with no answer (cancelling
/// an unknown watcher) counts as written with the next batch; the request
/// side wakes the send side before waiting, so such requests never hold it.
final class WatchRequestGate: @unchecked Sendable {
    let limit: UInt64
    private let lock = NSLock()
    private var handled: UInt64 = 0  // guarded by lock
    private var writtenThrough: UInt64 = 0  // guarded by lock
    private var waiter: CheckedContinuation<Void, Never>?  // guarded by lock
    private var closed = false  // guarded by lock

    init(limit: UInt64 = 64) {
        self.limit = max(1, limit)
    }

    /// Request side, before handling the next request: returns once fewer
    /// than `limit` handled requests wait to be written (or the stream
    /// ended). `wakeSender` runs when it must wait.
    func waitForRoom(wakeSender: () -> Void) async {
        if lock.withLock({ closed || handled - writtenThrough < limit }) { return }
        wakeSender()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = lock.withLock {
                    if closed || handled - writtenThrough < limit { return true }
                    waiter = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            close()
        }
    }

    /// Request side: one more request handled (its answers, if any, queued).
    func handledOne() {
        lock.withLock { handled += 1 }
    }

    /// Send side, before taking the queue: the requests whose answers it will take.
    var handledSoFar: UInt64 { lock.withLock { handled } }

    /// Send side: the answers of the first `count` requests were written.
    func written(through count: UInt64) {
        let c: CheckedContinuation<Void, Never>? = lock.withLock {
            writtenThrough = max(writtenThrough, count)
            guard handled - writtenThrough < limit else { return nil }
            defer { waiter = nil }
            return waiter
        }
        c?.resume()
    }

    /// The stream ended: nothing waits any more.
    func close() {
        let c: CheckedContinuation<Void, Never>? = lock.withLock {
            closed = true
            defer { waiter = nil }
            return waiter
        }
        c?.resume()
    }
}
