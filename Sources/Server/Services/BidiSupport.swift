import GRPCWire
import Proto

/// Typed messages of a bidi call: decodes each request message; decoding
/// errors end the call as grpc-go's do.
struct TypedRequestStream<Request: ProtoMessage>: AsyncSequence {
    typealias Element = Request
    let raw: GRPCRequestStream

    struct AsyncIterator: AsyncIteratorProtocol {
        var raw: GRPCRequestStream.AsyncIterator
        mutating func next() async throws -> Request? {
            guard let bytes = try await raw.next() else { return nil }
            return try decodeRequest(Request.self, bytes)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(raw: raw.makeAsyncIterator()) }
}

extension GRPCRouter {
    /// Registers a typed bidi handler; errors map to etcd's gRPC statuses.
    func bidi<Request, Response>(_ method: ProtoMethod<Request, Response>,
                                 _ body: @escaping @Sendable (TypedRequestStream<Request>, GRPCResponseWriter, GRPCRequestContext) async throws -> Void) {
        bidi(method.path) { requests, writer, context in
            do {
                try await body(TypedRequestStream(raw: requests), writer, context)
            } catch {
                throw grpcStatus(for: error)
            }
        }
    }
}
