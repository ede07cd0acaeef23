import Auth
import GRPCWire
import MVCC
import Proto

extension GRPCRouter {
    /// Registers a typed unary handler: decodes the request, runs `body`,
    /// encodes the answer, and maps errors to etcd's gRPC statuses.
    func unary<Request, Response>(_ method: ProtoMethod<Request, Response>,
                                  _ body: @escaping @Sendable (Request, GRPCRequestContext) async throws -> Response) {
        unary(method.path) { bytes, context in
            let request = try decodeRequest(Request.self, bytes)
            do {
                return try await body(request, context).serializedBytes()
            } catch {
                throw grpcStatus(for: error)
            }
        }
    }
}

extension GRPCRouter {
    /// Registers a typed unary method's synchronous form (see `GRPCRouter.Inline`):
    /// `body` answers with the response encoded after `GRPCUnaryReply.headroom`
    /// free bytes, or returns nil to leave the call to the async handler.
    func unaryInline<Request, Response>(_ method: ProtoMethod<Request, Response>,
                                        _ body: @escaping @Sendable (Request, GRPCRequestContext) throws -> [UInt8]?) {
        unaryInline(method.path) { bytes, context in
            let request = try decodeRequest(Request.self, bytes)
            do {
                return try body(request, context)
            } catch {
                throw grpcStatus(for: error)
            }
        }
    }
}

extension GRPCRouter {
    /// Registers a typed unary method's callback form (see `GRPCRouter.Callback`):
    /// `body` takes the call (true) and answers it through the reply, or
    /// returns false to leave it to the async handler; its errors become
    /// etcd's gRPC statuses. Register after the async handler.
    func unaryCallback<Request, Response>(_ method: ProtoMethod<Request, Response>,
                                          _ body: @escaping @Sendable (Request, GRPCRequestContext, GRPCUnaryReply) throws -> Bool) {
        unaryCallback(method.path) { bytes, context, reply in
            let request = try decodeRequest(Request.self, bytes)
            do {
                return try body(request, context, reply)
            } catch {
                throw grpcStatus(for: error)
            }
        }
    }
}

extension GRPCRouter {
    /// `unaryCallback` whose `body` also gets the request's bytes as received.
    func unaryCallbackWithBytes<Request, Response>(
        _ method: ProtoMethod<Request, Response>,
        _ body: @escaping @Sendable (Request, [UInt8], GRPCRequestContext, GRPCUnaryReply) throws -> Bool
    ) {
        unaryCallback(method.path) { bytes, context, reply in
            let request = try decodeRequest(Request.self, bytes)
            do {
                return try body(request, bytes, context, reply)
            } catch {
                throw grpcStatus(for: error)
            }
        }
    }
}

extension GRPCUnaryReply {
    /// Answers with what a proposer's `done` got: `encode`'s message (run on
    /// the connection's loop), or the error as etcd's gRPC status.
    /// `framed`: `encode` leaves `GRPCUnaryReply.headroom` bytes free in front (`answerFramed`).
    func answer<Value>(_ result: Result<Value, Error>, framed: Bool = false,
                       _ encode: @escaping @Sendable (Value) throws -> [UInt8]) {
        let produce: @Sendable () throws -> [UInt8] = {
            do {
                return try encode(result.get())
            } catch {
                throw grpcStatus(for: error)
            }
        }
        if framed { answerFramed(produce) } else { answer(produce) }
    }
}

/// Decodes one request message as grpc-go does: bytes that are not one end the
/// call with INTERNAL "grpc: error unmarshalling request", before any handler
/// runs; except nesting deeper than our decoder takes: only a txn nests, and
/// etcd (which decodes any depth) refuses one nested deeper than its op budget.
func decodeRequest<Request: ProtoMessage>(_ type: Request.Type, _ bytes: [UInt8]) throws -> Request {
    do {
        return try bytes.withUnsafeBytes { try Request(serializedBytes: $0) }
    } catch {
        if (error as? ProtoDecodeError) == .nestingTooDeep { throw grpcStatus(for: ServerError.tooManyOps) }
        throw GRPCStatus(.internal, "grpc: error unmarshalling request: \(error)")
    }
}

/// etcd's gRPC status for an error from any layer.
func grpcStatus(for error: Error) -> GRPCStatus {
    switch error {
    case let status as GRPCStatus: return status
    case let server as ServerError: return server.status
    case let store as MVCCError: return ServerError(store).status
    case let auth as AuthError: return GRPCStatus(GRPCStatus.Code(rawValue: auth.code.rawValue) ?? .unknown, auth.message)
    case let auth as AuthFailure: return grpcStatus(for: auth.status)
    case is CancellationError: return GRPCStatus(.cancelled, "context canceled")
    default: return GRPCStatus(.unknown, "\(error)")
    }
}
