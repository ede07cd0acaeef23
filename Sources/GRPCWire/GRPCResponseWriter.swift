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

    public func send(_ message: [UInt8]) async throws {
        guard let connection = self.connection, let stream = self.stream else {
            try await custom!(message)
            return
        }
        if connection.loop.inEventLoop {
            // Fast path: the handler runs on the connection's loop; no continuation unless we must wait.
            if try connection.enqueueResponse(stream, message) {
                try await withCheckedThrowingContinuation { connection.waitWritable(stream, $0) }
            }
            return
        }
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            connection.loop.execute {
                do {
                    if try connection.enqueueResponse(stream, message) {
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
