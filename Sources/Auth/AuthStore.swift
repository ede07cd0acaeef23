import Foundation
import NIOPosix
import Proto

/// The member's auth store: the state the apply step changes, the snapshot
/// request handlers check against, and the token provider.
///
/// Threads: `apply`, `load` and `reset` run on the apply thread only (they
/// own `state`); everything else may run anywhere. The snapshot is
/// swapped under `lock` and read without holding it afterwards.
public final class AuthStore: @unchecked Sendable {
    public enum Tokens: Sendable {
        case simple(SimpleTokens)
        case jwt(JWTTokens)
    }

    public let tokens: Tokens
    public let bcryptCost: Int
    private var state = AuthState()  // apply thread only
    private let lock = NSLock()
    private var published = AuthSnapshot(AuthState())  // guarded by `lock`

    public init(tokens: Tokens, bcryptCost: Int) {
        self.tokens = tokens
        self.bcryptCost = PasswordHasher.validCost(bcryptCost)
    }

    /// Runs bcrypt (tens of milliseconds at etcd's default cost) on a pool
    /// of its own, so it holds neither an event loop nor a Swift concurrency
    /// thread, nor NIO's shared blocking pool: anyone may call Authenticate
    /// before being anyone, and 2,000 calls queued ~1 min of bcrypt there,
    /// ahead of every snapshot, HashKV, defrag, certificate reload and peer
    /// hash answer of the member. Work whose caller left before it started
    /// (a client that sent thousands of calls and hung up) is skipped.
    /// Returns nil when skipped.
    private static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T? {
        let left = CallerLeft()
        return await withTaskCancellationHandler {
            await PasswordPool.run { left.value ? nil : work() }
        } onCancel: {
            left.set()
        }
    }

    /// The auth state as of the last applied entry.
    public var snapshot: AuthSnapshot { lock.withLock { published } }

    /// Replaces the state with the store's (start-up, installed snapshot,
    /// restored backup); every simple token is dropped, as etcd's Recover.
    /// Returns the record to persist if the store had no auth revision yet.
    @discardableResult
    public func load(_ records: [AuthRecord]) throws -> AuthRecord? {
        var loaded = try AuthState(records: records)
        let initial = loaded.initialize()
        state = loaded
        if case .simple(let simple) = tokens {
            simple.disable()
            if loaded.enabled { simple.enable() }
        }
        publish()
        return initial
    }

    /// Applies one auth entry (its proposer's rights were checked before,
    /// by `AuthSnapshot.authorize`). On success the caller persists
    /// `records` in the entry's store commit.
    public func apply(_ request: AuthRequest, index: UInt64) -> Result<AuthApplied, AuthFailure> {
        let applied: AuthApplied
        do { applied = try state.apply(request, index: index) } catch { return .failure(error) }
        if case .simple(let simple) = tokens {
            if applied.enabledChanged { state.enabled ? simple.enable() : simple.disable() }
            if let user = applied.invalidatedUser { simple.invalidate(user: user) }
            if case .authenticated(let user, _, let token) = applied.answer, !token.isEmpty { simple.assign(token, to: user) }
        }
        if !applied.records.isEmpty || applied.enabledChanged { publish() }
        return .success(applied)
    }

    private func publish() {
        let next = AuthSnapshot(state)
        lock.withLock { published = next }
    }

    // MARK: request side

    /// etcd's CheckPassword, bcrypt off the calling thread: the auth
    /// revision the password was checked at.
    public func checkPassword(name: String, password: String) async throws(AuthFailure) -> UInt64 {
        let snap = snapshot
        guard snap.enabled else { throw .authNotEnabled }
        guard let user = snap.state.user(name) else { throw .authFailed }
        if user.options?.noPassword == true { throw .noPasswordUser }
        let hash = user.password
        let ok = await Self.offload { PasswordHasher.verify(password, hash: hash) }
        guard ok == true else { throw .authFailed }
        return snap.revision
    }

    /// base64 of a bcrypt hash of `password` at the configured cost, made off
    /// the calling thread (what UserAdd/UserChangePassword put in the log).
    public func hashForLog(_ password: String) async throws -> String {
        let cost = bcryptCost
        guard let hash = await Self.offload({ Data(PasswordHasher.hash(password, cost: cost)).base64EncodedString() }) else {
            throw CancellationError()  // the caller left: nothing to propose
        }
        return hash
    }

    /// The identity a token names (etcd's AuthInfoFromCtx for a token);
    /// throws `invalidAuthToken` for a token this member does not know —
    /// also while auth is disabled, as etcd 3.5 (no simple token survives a
    /// disable). `waitApplied` is called with a simple token's index when
    /// this member has not applied it yet.
    public func identity(token: String, appliedIndex: UInt64,
                         waitApplied: (UInt64) async throws -> Void) async throws -> AuthInfo? {
        switch tokens {
        case .simple(let simple):
            guard let index = SimpleTokens.index(of: token) else { throw AuthFailure.invalidAuthToken }
            if index > appliedIndex { try await waitApplied(index) }
            guard let user = simple.user(for: token) else { throw AuthFailure.invalidAuthToken }
            return AuthInfo(username: user, revision: snapshot.revision)
        case .jwt(let jwt):
            guard let info = await jwt.verify(token) else { throw AuthFailure.invalidAuthToken }
            return info
        }
    }

    /// The token an applied Authenticate answers with.
    public func token(for answer: AuthAnswer) async throws(AuthFailure) -> String {
        guard case .authenticated(let user, let revision, let simple) = answer else { return "" }
        switch tokens {
        case .simple: return simple
        case .jwt(let jwt): return try await jwt.sign(user: user, revision: revision)
        }
    }
}
