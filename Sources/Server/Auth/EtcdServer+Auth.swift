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
}

extension BucketRecord {
    init(_ r: AuthRecord) { self.init(bucket: r.bucket.rawValue, key: r.key, value: r.value) }
}
extension EtcdServer: AuthBackend {}
