import Logging
import NIOConcurrencyHelpers
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the listeners from taking every file descriptor of the process.
///
/// Issue 18: with descriptors exhausted (20k idle connections) accept(2)
/// failed with EMFILE on every wake-up and one event loop spun at ~95% CPU;
/// worse, libdispatch's worker monitor aborts the whole process (SIGILL)
/// when it cannot open /proc/self/task/…/stat, and the member could no
/// longer open a WAL segment. So:
/// - each listener backs off after an accept error (NIO's
///   `AcceptBackoffHandler`: no accept for a second instead of a busy loop);
/// - every listener of the process (client, peer) draws on one budget of
///   connections, the descriptor limit less a reserve; a connection
///   accepted beyond it is closed at once, which leaves descriptors for the
///   clients already connected and for the member's own files.
public final class ConnectionLimiter: Sendable {
    /// RLIMIT_NOFILE is per process, so is the budget all listeners share.
    public static let processWide = ConnectionLimiter(maxConnections: defaultMaxConnections())

    public let maxConnections: Int
    /// Open connections, and whether the cap was hit since it was last logged.
    private let state = NIOLockedValueBox((open: 0, refusing: false))

    public init(maxConnections: Int) {
        self.maxConnections = max(1, maxConnections)
    }

    /// For `childChannelInitializer`: counts `channel` until it closes, or
    /// returns false (the caller closes it) when the budget is spent.
    public func admit(_ channel: any Channel, listener: String, logger: Logger) -> Bool {
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
                "listener": "\(listener)", "max-connections": "\(maxConnections)"])
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
    /// and snapshot files, the store, outgoing peer connections, event loop
    /// and libdispatch fds.
    public static let reservedDescriptors = 128

    /// The default budget: the soft RLIMIT_NOFILE less the reserve (at least
    /// half the limit when the limit is small).
    public static func defaultMaxConnections() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1 << 20 }
        return cap(forDescriptorLimit: Int(clamping: limit.rlim_cur))  // RLIM_INFINITY clamps to Int.max
    }

    static func cap(forDescriptorLimit limit: Int) -> Int {
        max(limit - reservedDescriptors, limit / 2, 1)
    }
}
