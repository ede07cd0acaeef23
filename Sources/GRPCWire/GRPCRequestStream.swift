/// The request messages of a bidi call, in order. Ends (nil) when the client
/// half-closes; throws the call's status if the request failed (message too
/// large, compressed, ...) or CANCELLED if the client went away.
///
/// Messages the handler has not taken hold back the client's flow-control
/// window, so a handler that reads slowly slows the client down.
///
/// A stream made with `init(_:)` yields the messages of an `AsyncThrowingStream`
/// instead (to call a handler outside HTTP/2, e.g. from a JSON gateway).
public struct GRPCRequestStream: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    let connection: H2ConnectionHandler?
    let stream: ServerStream?
    let custom: AsyncThrowingStream<[UInt8], any Error>?

    init(connection: H2ConnectionHandler, stream: ServerStream) {
        self.connection = connection
        self.stream = stream
        self.custom = nil
    }

    public init(_ messages: AsyncThrowingStream<[UInt8], any Error>) {
        self.connection = nil
        self.stream = nil
        self.custom = messages
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let connection: H2ConnectionHandler?
        let stream: ServerStream?
        var custom: AsyncThrowingStream<[UInt8], any Error>.AsyncIterator?

        public mutating func next() async throws -> [UInt8]? {
            guard let connection = self.connection, let stream = self.stream else {
                return try await custom!.next()
            }
            if connection.loop.inEventLoop {
                switch connection.pollRequest(stream) {
                case .message(let m): return m
                case .end: return nil
                case .failed(let e): throw e
                case .pending: break
                }
            }
            // A cancelled handler (e.g. a stream ended because the server
            // stops) must not wait for a client that may never send again.
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<[UInt8]?, any Error>) in
                    // Cancelled before we got here: the handler below already ran.
                    if Task.isCancelled { waiter.resume(throwing: CancellationError()); return }
                    if connection.loop.inEventLoop {
                        connection.waitRequest(stream, waiter)
                    } else {
                        connection.loop.execute { connection.waitRequest(stream, waiter) }
                    }
                }
            } onCancel: {
                connection.loop.execute { connection.cancelRequestWait(stream) }
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(connection: connection, stream: stream, custom: custom?.makeAsyncIterator())
    }
}
