import NIOCore

/// Ends calls whose `grpc-timeout` ran out: one timer per connection, armed
/// for the earliest entry of `deadlines`, instead of one per call (whose
/// cancel made the loop scan all its scheduled tasks; see `DeadlineQueue`).
/// A call that ends is not taken out: its entry, when due, finds it finished
/// or gone and does nothing.
extension H2ConnectionHandler {
    func trackDeadline(_ stream: ServerStream, firesAt: NIODeadline) {
        deadlines.insert(firesAt, streamID: stream.id)
        // Ended calls' entries wait for their time; past twice the open
        // streams, drop them (amortised O(1) per call).
        if deadlines.count > 2 * streams.count + 64 {
            deadlines.compact { [streams] id in
                guard let s = streams[id] else { return false }
                return !s.closed && !s.machine.isFinished
            }
        }
        armDeadlineTimer()
    }

    /// Arms the timer for the earliest entry unless one is armed at or before it
    /// (an earlier deadline arriving later costs a cancel; equal timeouts never do).
    private func armDeadlineTimer() {
        guard let next = deadlines.earliest else { return }
        if let armed = deadlineTimerFiresAt, armed <= next { return }
        deadlineTimer?.cancel()
        deadlineTimerFiresAt = next
        // Strong capture, see `scheduleKeepalive`; `tearDown` cancels it.
        deadlineTimer = loop.scheduleTask(deadline: next) { [self] in
            deadlineTimer = nil
            deadlineTimerFiresAt = nil
            guard session != nil else { return }
            for id in deadlines.popDue(.now()) {
                guard let stream = streams[id], !stream.closed, !stream.machine.isFinished else { continue }
                stream.task?.cancel()
                stream.reply?.cancel()
                finish(stream, GRPCStatus(.deadlineExceeded, "context deadline exceeded"))
            }
            armDeadlineTimer()
        }
    }
}
