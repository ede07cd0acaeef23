import Auth
import Config
import Foundation
import MVCC

extension EtcdServer {
    /// The auth store from `--auth-token`, `--auth-token-ttl` and
    /// `--bcrypt-cost`; bad token options refuse start-up with etcd's text.
    static func makeAuthStore(options: ServerOptions) throws -> AuthStore {
        let tokenOptions: TokenOptions
        do {
            tokenOptions = try TokenOptions.parse(options.authToken) { text in
                let d = try GoDuration.parse(text)
                let (s, atto) = d.components
                return Double(s) + Double(atto) / 1e18
            }
        } catch {
            throw StartupError("failed to create token provider: \(error)")
        }
        let tokens: AuthStore.Tokens
        switch tokenOptions {
        case .simple:
            tokens = .simple(SimpleTokens(ttlSeconds: Double(options.authTokenTTLSeconds)))
        case .jwt(let jwt):
            do { tokens = .jwt(try JWTTokens(options: jwt)) } catch {
                throw StartupError("failed to create token provider: \(error)")
            }
        }
        return AuthStore(tokens: tokens, bcryptCost: options.bcryptCost)
    }

    /// Loads users, roles and the enabled flag from the store (start-up, an
    /// installed snapshot); a store that never held auth data gets etcd's
    /// initial auth revision 1, written outside the log as etcd's NewAuthStore.
    func loadAuth() throws {
        let records = try AuthRecord.Bucket.allCases.flatMap { bucket in
            try store.bucketRecords(bucket.rawValue).map { AuthRecord(bucket: bucket, key: $0.key, value: $0.value) }
        }
        if let initial = try auth.load(records) {
            let result = store.apply(batch: [(0, .bucketRecords([BucketRecord(initial)]))], leaseExists: { _ in false })
            if case .failure(let e)? = result.results.first { throw e }
        }
    }

    // MARK: identity

    /// Who sends the current request (etcd's AuthInfoFromCtx, then the TLS
    /// client certificate): nil for no user. Throws `invalidAuthToken`.
    func requestIdentity() async throws(AuthFailure) -> AuthInfo? {
        guard let credentials = RequestCredentials.current else { return nil }
        if credentials.isInternal { return AuthInfo(username: AuthState.rootUser, revision: auth.snapshot.revision) }
        do {
            return try await credentials.identity { c in try await self.resolve(c) }
        } catch let f as AuthFailure {
            throw f
        } catch {
            throw .other("\(error)")
        }
    }

    private func resolve(_ c: RequestCredentials) async throws -> AuthInfo? {
        if let token = c.token {
            return try await auth.identity(token: token, appliedIndex: loop.status.appliedIndex) { _ in
                // A simple token from an entry this member has not applied
                // yet (issued by another member moments ago): catch up first.
                try? await self.linearizableBarrier()
            }
        }
        // The gateway is a proxy: its requests never carry a certificate CN.
        guard let cn = c.commonName, auth.snapshot.enabled else { return nil }
        return AuthInfo(username: cn, revision: auth.snapshot.revision)
    }

    // MARK: checks at the API

    /// etcd's doSerialize for a read served locally: `check` before the
    /// read, and an auth revision that moved meanwhile fails it. A token is
    /// resolved even while auth is off (a stale one fails, as in etcd).
    func authorizedRead<T>(_ check: (AuthSnapshot, AuthInfo?) -> AuthFailure?, _ read: () throws -> T) async throws -> T {
        guard auth.snapshot.enabled || RequestCredentials.current?.token != nil else { return try read() }
        let info: AuthInfo?
        do { info = try await requestIdentity() } catch { throw error.status }
        if let f = check(auth.snapshot, info) { throw f.status }
        let result = try read()
        if let info, info.revision != 0, info.revision != auth.snapshot.revision { throw AuthFailure.authOldRevision.status }
        return result
    }

    /// Only a user with the root role (etcd's IsAdminPermitted). `unmapped`:
    /// answer with the auth package's own error as etcd's Maintenance service
    /// does ("auth: permission denied", gRPC Unknown).
    func requireAdmin(unmapped: Bool = false) async throws {
        guard auth.snapshot.enabled || RequestCredentials.current?.token != nil else { return }
        let failure: AuthFailure?
        do { failure = auth.snapshot.checkAdmin(try await requestIdentity()) } catch { failure = error }
        if let failure { throw unmapped ? failure.unmapped : failure.status }
    }
}

extension BucketRecord {
    init(_ r: AuthRecord) { self.init(bucket: r.bucket.rawValue, key: r.key, value: r.value) }
}

extension EtcdServer {
    /// etcd's isWatchPermitted, at creation only: read on the watched keys;
    /// nil when allowed, else the cancel reason etcd 3.5.1 sends for every
    /// refusal (a bad token included). As etcd, a from-key watch ("\0" end)
    /// is checked as its first key alone (etcd empties the end first).
    func watchRefusal(_ spec: WatchSpec) async -> String? {
        guard auth.snapshot.enabled || RequestCredentials.current?.token != nil else { return nil }
        let rangeEnd = spec.rangeEnd == [0] ? [] : spec.rangeEnd
        let denied = Self.statusErrorText(AuthFailure.permissionDenied.status)
        let info: AuthInfo?
        do { info = try await requestIdentity() } catch { return denied }
        return auth.snapshot.check(info, .read, key: spec.key, rangeEnd: rangeEnd) == nil ? nil : denied
    }

    /// What Go's grpc status error prints: "rpc error: code = X desc = msg".
    static func statusErrorText(_ e: KVError) -> String {
        let names: [KVError.Code: String] = [.invalidArgument: "InvalidArgument", .permissionDenied: "PermissionDenied",
                                             .unauthenticated: "Unauthenticated", .failedPrecondition: "FailedPrecondition"]
        return "rpc error: code = \(names[e.code] ?? "Unknown") desc = \(e.message)"
    }
}
