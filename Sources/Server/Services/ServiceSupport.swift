import GRPCWire
import MVCC
import Proto

extension GRPCRouter {
    /// Registers a typed unary handler: decodes the request, runs `body`,
    /// encodes the answer, and maps errors to etcd's gRPC statuses.
    func unary<Request, Response>(_ method: ProtoMethod<Request, Response>,
                                  _ body: @escaping @Sendable (Request, GRPCRequestContext) async throws -> Response) {
        unary(method.path) { bytes, context in
            let request: Request
            do {
                request = try bytes.withUnsafeBytes { try Request(serializedBytes: $0) }
            } catch {
                throw unmarshalStatus(error)
            }
            do {
                return try await body(request, context).serializedBytes()
            } catch {
                throw grpcStatus(for: error)
            }
        }
    }
}

/// grpc-go's answer to a request it cannot decode, except for nesting
/// deeper than our decoder takes: only a txn nests, and etcd (which decodes
/// any depth) refuses one nested deeper than its op budget.
func unmarshalStatus(_ error: Error) -> GRPCStatus {
    if (error as? ProtoDecodeError) == .nestingTooDeep { return grpcStatus(for: KVError.tooManyOps) }
    return GRPCStatus(.internal, "grpc: error unmarshalling request: \(error)")
}

/// etcd's gRPC status for an error from any layer.
func grpcStatus(for error: Error) -> GRPCStatus {
    switch error {
    case let status as GRPCStatus: return status
    case let server as ServerError: return server.status
    case let kv as KVError: return GRPCStatus(GRPCStatus.Code(rawValue: kv.code.rawValue) ?? .unknown, kv.message)
    case is CancellationError: return GRPCStatus(.cancelled, "context canceled")
    default: return GRPCStatus(.unknown, "\(error)")
    }
}
