import Auth
import Foundation
import GRPCWire

/// What a client request presents to prove who it is, carried as a task
/// local through its handler (the interceptors set it for every RPC, the
/// gateway's included), so deep callers — `propose`, the Lock and Election
/// recipes' KV calls — act as the same user.
///
/// Resolving the token into an identity happens at most once per request
/// and only when a handler needs it (etcd's AuthInfoFromCtx), so an RPC
/// that ignores auth (Status, health) never fails over a stale token.
final class RequestCredentials: @unchecked Sendable {
    /// The credentials of the request running on this task; nil outside
    /// any client request, where `propose` acts for no user (fail closed).
    @TaskLocal static var current: RequestCredentials?

    /// etcd's token metadata: `token` (gRPC clients), else `authorization`
    /// (the JSON gateway forwards the HTTP header as it).
    let token: String?
    /// The verified client certificate's Common Name, when the connection
    /// has one and `--client-cert-auth` is on (etcd's AuthInfoFromTLS).
    let commonName: String?
    /// Internal proposals (the leader revoking an expired lease) act as
    /// root, as etcd's WithRoot.
    let isInternal: Bool

    private let lock = NSLock()
    private var resolved: Result<AuthInfo?, Error>?  // guarded by `lock`

    init(token: String?, commonName: String?, isInternal: Bool = false) {
        self.token = token
        self.commonName = commonName
        self.isInternal = isInternal
    }

    static let internalRoot = RequestCredentials(token: nil, commonName: nil, isInternal: true)

    /// The request's credentials from its metadata. `commonName` is the
    /// TLS layer's verified client CN (nil until client TLS exists).
    static func from(_ context: GRPCRequestContext, commonName: String? = nil) -> RequestCredentials {
        RequestCredentials(token: context.header("token") ?? context.header("authorization"), commonName: commonName)
    }

    /// Resolves once; later calls get the same answer.
    func identity(_ resolve: (RequestCredentials) async throws -> AuthInfo?) async throws -> AuthInfo? {
        if let done = lock.withLock({ resolved }) { return try done.get() }
        let result: Result<AuthInfo?, Error>
        do { result = .success(try await resolve(self)) } catch { result = .failure(error) }
        lock.withLock { resolved = result }
        return try result.get()
    }
}
