import Foundation

/// etcd's simple tokens: "<16 random letters>.<raft index>", assigned by
/// the Authenticate entry's apply on every member (so any member accepts
/// it), valid `ttlSeconds` after their last use, dropped when their user
/// is deleted or changes password, when auth is disabled, and on restart
/// (they live only in memory).
///
/// Thread-safe: assigned on the apply thread, looked up by request handlers.
public final class SimpleTokens: @unchecked Sendable {
    public static let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
    public static let prefixLength = 16

    private let ttlSeconds: Double
    private let now: @Sendable () -> Double
    private let lock = NSLock()
    private var tokens: [String: (user: String, expiry: Double)] = [:]  // guarded by `lock`
    private var enabled = false  // guarded by `lock`
    private var nextSweep = 0.0  // guarded by `lock`

    /// - Parameter now: seconds on a monotonic clock (tests inject one).
    public init(ttlSeconds: Double, now: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime }) {
        self.ttlSeconds = ttlSeconds > 0 ? ttlSeconds : 300
        self.now = now
    }

    /// A fresh random prefix (etcd's genTokenPrefix).
    public static func generatePrefix() -> String {
        var g = SystemRandomNumberGenerator()
        return String(decoding: (0..<prefixLength).map { _ in letters.randomElement(using: &g)! }, as: UTF8.self)
    }

    /// Whether `token` has the "<prefix>.<index>" shape, and its index.
    public static func index(of token: String) -> UInt64? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int64(parts[1]), index >= 0 else { return nil }
        return UInt64(index)
    }

    public func enable() { lock.withLock { enabled = true } }

    /// Auth disabled: every token becomes invalid.
    public func disable() {
        lock.withLock {
            enabled = false
            tokens.removeAll()
        }
    }

    /// Registers `token` for `user` (apply thread). Ignored while disabled.
    public func assign(_ token: String, to user: String) {
        lock.withLock {
            guard enabled else { return }
            let t = now()
            tokens[token] = (user, t + ttlSeconds)
            if t >= nextSweep { sweep(at: t) }
        }
    }

    /// The user `token` names, refreshing its TTL; nil if unknown or expired.
    public func user(for token: String) -> String? {
        lock.withLock {
            guard let entry = tokens[token] else { return nil }
            let t = now()
            if t > entry.expiry {
                tokens[token] = nil
                return nil
            }
            tokens[token] = (entry.user, t + ttlSeconds)
            return entry.user
        }
    }

    /// Drops every token of `user` (deleted, or its password changed).
    public func invalidate(user: String) {
        lock.withLock { tokens = tokens.filter { !AuthState.same($0.value.user, user) } }
    }

    public var count: Int { lock.withLock { tokens.count } }

    /// Removes expired tokens, at most once a second (etcd's TTL keeper
    /// ticks each second); call holding `lock`.
    private func sweep(at t: Double) {
        tokens = tokens.filter { $0.value.expiry >= t }
        nextSweep = t + 1
    }
}
