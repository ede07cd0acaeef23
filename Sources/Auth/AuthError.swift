/// An auth answer as etcd's gRPC layer gives it: a gRPC status code (numeric
/// values as gRPC's) and etcd's exact message. The server turns it into its
/// status unchanged (`grpcStatus(for:)`, `ServerError(_:)`).
public struct AuthError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: Int, Sendable {
        /// etcd's answer for an error rpctypes does not map (auth errors in Maintenance).
        case unknown = 2
        case invalidArgument = 3
        case failedPrecondition = 9
        case permissionDenied = 7
        case unauthenticated = 16
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
