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
            let request: Request
            do {
                request = try bytes.withUnsafeBytes { try Request(serializedBytes: $0) }
            } catch {
                throw GRPCStatus(.internal, "grpc: error unmarshalling request: \(error)")
            }
            do {
                return try await body(request, context).serializedBytes()
            } catch {
                throw grpcStatus(for: error)
            }
        }
    }
}

/// etcd's gRPC status for an error from any layer.
func grpcStatus(for error: Error) -> GRPCStatus {
    switch error {
    case let status as GRPCStatus: return status
    case let server as ServerError: return server.status
    case let kv as KVError: return GRPCStatus(GRPCStatus.Code(rawValue: kv.code.rawValue) ?? .unknown, kv.message)
    case let auth as AuthFailure: return grpcStatus(for: auth.status)
    case is CancellationError: return GRPCStatus(.cancelled, "context canceled")
    default: return GRPCStatus(.unknown, "\(error)")
    }
}
