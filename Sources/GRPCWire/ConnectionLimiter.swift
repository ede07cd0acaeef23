import Logging
import NIOConcurrencyHelpers
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Keeps one listener from taking every file descriptor of the process.
///
/// Issue 18: with descriptors exhausted (20k idle connections) accept(2)
/// failed with EMFILE on every wake-up and one event loop spun at ~95% CPU,
/// while the member itself could no longer open a WAL segment. So:
/// - the listener backs off after an accept error (NIO's
///   `AcceptBackoffHandler`: no accept for a second instead of a busy loop);
/// - a connection accepted beyond `maxConnections` is closed at once, which
///   leaves descriptors for the clients already connected and for the
///   member's own files.
public final class ConnectionLimiter: Sendable {
    public let maxConnections: Int
    private let name: String
    private let logger: Logger
    /// Open connections, and whether the cap was hit since it was last logged.
    private let state = NIOLockedValueBox((open: 0, refusing: false))

    public init(maxConnections: Int, name: String, logger: Logger) {
        self.maxConnections = max(1, maxConnections)
        self.name = name
        self.logger = logger
    }

    /// For `childChannelInitializer`: counts `channel` until it closes, or
    /// returns false (the caller closes it) when the listener is full.
    public func admit(_ channel: any Channel) -> Bool {
        let (admitted, firstRefusal) = state.withLockedValue { s -> (Bool, Bool) in
            guard s.open < maxConnections else {
                defer { s.refusing = true }
                return (false, !s.refusing)
            }
            s.open += 1
            s.refusing = false
            return (true, false)
        }
        if firstRefusal {
            logger.warning("connection limit reached: closing new connections", metadata: [
                "listener": "\(name)", "max-connections": "\(maxConnections)"])
        }
        guard admitted else { return false }
        channel.closeFuture.whenComplete { [state] _ in state.withLockedValue { $0.open -= 1 } }
        return true
    }

    /// Open connections now (tests, metrics).
    public var openConnections: Int { state.withLockedValue { $0.open } }

    /// For `serverChannelInitializer`: stop accepting for a while after an
    /// accept error (EMFILE, ENFILE, ENOBUFS) rather than retrying at once.
    public static func installAcceptBackoff(_ serverChannel: any Channel) -> EventLoopFuture<Void> {
        serverChannel.eventLoop.makeCompletedFuture {
            try serverChannel.pipeline.syncOperations.addHandler(AcceptBackoffHandler())
        }
    }

    /// Descriptors the member keeps for itself whatever its clients do: WAL
    /// and snapshot files, the store, peer connections, event loop fds.
    public static let reservedDescriptors = 128

    /// A listener's default cap: the soft RLIMIT_NOFILE less the reserve
    /// (at least half the limit when the limit is small).
    public static func defaultMaxConnections() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1 << 20 }
        return cap(forDescriptorLimit: Int(clamping: limit.rlim_cur))  // RLIM_INFINITY clamps to Int.max
    }

    static func cap(forDescriptorLimit limit: Int) -> Int {
        max(limit - reservedDescriptors, limit / 2, 1)
    }
}
