import NIOCore

/// Sends response messages of a server-streaming or bidi call.
///
/// `send` suspends while the stream already has more than
/// `streamSendHighWaterBytes` queued (the client reads slowly or its window
/// is closed): backpressure instead of unbounded buffering. It throws
/// CANCELLED once the client has gone or the call has ended (deadline,
/// request error); a handler should stop then.
///
/// A writer made with `init(send:)` hands messages to a closure instead
/// (to call a handler outside HTTP/2, e.g. from a JSON gateway).
public final class GRPCResponseWriter: Sendable {
    private let connection: H2ConnectionHandler?
    private let stream: ServerStream?
    private let custom: (@Sendable ([UInt8]) async throws -> Void)?

    init(connection: H2ConnectionHandler, stream: ServerStream) {
        self.connection = connection
        self.stream = stream
        self.custom = nil
    }

    /// A writer whose `send` calls `send`.
    public init(send: @escaping @Sendable ([UInt8]) async throws -> Void) {
        self.connection = nil
        self.stream = nil
        self.custom = send
    }

    /// Waits `nanoseconds` on the connection's event loop (a scheduled task
    /// there), not on Swift's global timer: a handler running on the loop
    /// then resumes without waking another thread first. Throws
    /// CancellationError if the task is cancelled meanwhile.
    public func pause(nanoseconds: UInt64) async throws {
        guard let connection = self.connection else {
            try await Task.sleep(nanoseconds: nanoseconds)
            return
        }
        let loop = connection.loop!
        let wait = loop.makePromise(of: Void.self)
        let timer = loop.scheduleTask(in: .nanoseconds(Int64(min(nanoseconds, UInt64(Int64.max))))) { wait.succeed(()) }
        try await withTaskCancellationHandler {
            try await wait.futureResult.get()
        } onCancel: {
            timer.cancel()
            wait.fail(CancellationError())
        }
    }

    public func send(_ message: [UInt8]) async throws {
        try await send(contentsOf: CollectionOfOne(message))
    }

    /// Sends `messages` in order as one write: one hop to the connection's
    /// loop, one flush and at most one wait for the stream to drain (the
    /// backpressure check comes after the last message, so a caller bounds
    /// how much one call may queue).
    public func send<Messages: Collection & Sendable>(contentsOf messages: Messages) async throws
    where Messages.Element == [UInt8] {
        guard let connection = self.connection, let stream = self.stream else {
            for message in messages { try await custom!(message) }
            return
        }
        guard !messages.isEmpty else { return }
        if connection.loop.inEventLoop {
            // Fast path: the handler runs on the connection's loop; no continuation unless we must wait.
            if try connection.enqueueResponses(stream, messages) {
                try await withCheckedThrowingContinuation { connection.waitWritable(stream, $0) }
            }
            return
        }
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            connection.loop.execute {
                do {
                    if try connection.enqueueResponses(stream, messages) {
                        connection.waitWritable(stream, waiter)
                    } else {
                        waiter.resume()
                    }
                } catch {
                    waiter.resume(throwing: error)
                }
            }
        }
    }
}
