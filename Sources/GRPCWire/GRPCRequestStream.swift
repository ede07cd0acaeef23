/// The request messages of a bidi call, in order. Ends (nil) when the client
/// half-closes; throws the call's status if the request failed (message too
/// large, compressed, ...) or CANCELLED if the client went away.
///
/// Messages the handler has not taken hold back the client's flow-control
/// window, so a handler that reads slowly slows the client down.
public struct GRPCRequestStream: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    let connection: H2ConnectionHandler
    let stream: ServerStream

    public struct AsyncIterator: AsyncIteratorProtocol {
        let connection: H2ConnectionHandler
        let stream: ServerStream

        public mutating func next() async throws -> [UInt8]? {
            let connection = self.connection, stream = self.stream
            if connection.loop.inEventLoop {
                switch connection.pollRequest(stream) {
                case .message(let m): return m
                case .end: return nil
                case .failed(let e): throw e
                case .pending:
                    return try await withCheckedThrowingContinuation { connection.waitRequest(stream, $0) }
                }
            }
            return try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<[UInt8]?, any Error>) in
                connection.loop.execute { connection.waitRequest(stream, waiter) }
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(connection: connection, stream: stream)
    }
}
