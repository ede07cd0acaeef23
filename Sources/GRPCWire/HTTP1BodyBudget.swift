import NIOConcurrencyHelpers

/// Bounds the HTTP/1.1 request-body bytes buffered across all connections of a server.
///
/// Each connection may buffer one body of up to `maxHTTP1BodyBytes` (4 MiB by
/// default) until the request ends, so a few hundred clients that announce a big
/// body and send it slowly, or never finish a chunked one, held ~4 MiB each:
/// 300 such connections took the member to 1.27 GiB RSS (etcd 3.5.1: 2 GiB,
/// never given back). The first `freeBytesPerRequest` of a body are not
/// counted, so small requests (nearly all gateway calls) always go through;
/// beyond that a body draws on `totalBytes`. A body that cannot draw is
/// handled as over the size limit (dropped while read, answered with the size
/// error), so buffered bodies never exceed
/// `totalBytes + connections × freeBytesPerRequest`.
public final class HTTP1BodyBudget: Sendable {
    public let totalBytes: Int
    public let freeBytesPerRequest: Int
    private let used = NIOLockedValueBox(0)

    public init(totalBytes: Int, freeBytesPerRequest: Int) {
        self.totalBytes = max(0, totalBytes)
        self.freeBytesPerRequest = max(0, freeBytesPerRequest)
    }

    /// Counted bytes held now (tests, metrics).
    public var bytesInUse: Int { used.withLockedValue { $0 } }

    /// Takes `bytes` from the budget, or nothing and false when they do not fit.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        return used.withLockedValue { used in
            guard bytes <= totalBytes - used else { return false }
            used += bytes
            return true
        }
    }

    /// Gives back what `reserve` took.
    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        used.withLockedValue { $0 = max(0, $0 - bytes) }
    }
}
