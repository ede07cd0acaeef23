import Foundation
import GRPCWire

/// Hands the messages of a streaming gRPC handler (the producer, through a
/// `GRPCResponseWriter`) to the HTTP body writer (the consumer), one at a time:
/// `send` returns once the consumer has taken the message, so a slow HTTP
/// client slows the handler instead of filling memory.
///
/// States: open → finished (handler returned or threw; `next` reports it
/// after the last message) or closed (consumer gone; pending and later sends
/// throw CancellationError, a waiting `next` returns `.end`).
final class GatewayPipe: @unchecked Sendable {
    enum Event: Sendable {
        case message([UInt8])
        case end
        case failed(GRPCStatus)
    }

    private let lock = NSLock()
    // All below guarded by `lock`.
    private var pending: [([UInt8], CheckedContinuation<Void, any Error>)] = []
    private var receiver: CheckedContinuation<Event, Never>?
    private var finished: Event?
    private var closed = false

    /// Producer: waits until the consumer takes `bytes`.
    func send(_ bytes: [UInt8]) async throws {
        try await withCheckedThrowingContinuation { (sender: CheckedContinuation<Void, any Error>) in
            lock.lock()
            if closed || finished != nil {
                lock.unlock()
                sender.resume(throwing: CancellationError())
            } else if let receiver {
                self.receiver = nil
                lock.unlock()
                sender.resume()
                receiver.resume(returning: .message(bytes))
            } else {
                pending.append((bytes, sender))
                lock.unlock()
            }
        }
    }

    /// Producer: the handler is done (`.end`) or failed (`.failed`).
    func finish(_ event: Event) {
        lock.lock()
        if finished == nil { finished = event }
        let receiver = self.receiver
        self.receiver = nil
        lock.unlock()
        receiver?.resume(returning: event)
    }

    /// Consumer: the next message, or how the handler ended. Cancelling the
    /// waiting task closes the pipe.
    func next() async -> Event {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (receiver: CheckedContinuation<Event, Never>) in
                lock.lock()
                if !pending.isEmpty {
                    let (bytes, sender) = pending.removeFirst()
                    lock.unlock()
                    sender.resume()
                    receiver.resume(returning: .message(bytes))
                } else if closed {
                    lock.unlock()
                    receiver.resume(returning: .end)
                } else if let finished {
                    lock.unlock()
                    receiver.resume(returning: finished)
                } else {
                    self.receiver = receiver
                    lock.unlock()
                }
            }
        } onCancel: {
            close()
        }
    }

    /// Consumer: gone; wakes everyone waiting.
    func close() {
        lock.lock()
        closed = true
        let senders = pending
        pending = []
        let receiver = self.receiver
        self.receiver = nil
        lock.unlock()
        for (_, sender) in senders { sender.resume(throwing: CancellationError()) }
        receiver?.resume(returning: .end)
    }
}
