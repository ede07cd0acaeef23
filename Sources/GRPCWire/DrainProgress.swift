import NIOCore

/// What a draining connection's client has done, sampled once per
/// `drainStallTimeout`: pure, so the rule is tested without sockets.
///
/// A connection drains (GOAWAY sent) until nghttp2 has handed out every
/// stream's last frame. A client that stopped reading never opens its flow
/// control window or drains its socket, so those frames never leave and the
/// connection would hold a graceful stop for its whole grace period. When
/// every call on it has either answered or is suspended until the client
/// takes what it was sent (nothing runs that could still finish on its own),
/// and the client has neither sent a byte (no WINDOW_UPDATE, no ACK) nor
/// taken one since the last sample, there is nothing to wait for.
struct DrainProgress: Equatable {
    /// When the client last sent anything.
    var lastRead: NIODeadline
    /// Bytes we have handed to the channel so far.
    var bytesWritten: Int
    /// Bytes the channel still holds for the socket: it shrinks while the
    /// client reads what was handed out before.
    var socketBacklog: Int

    func stalled(since previous: DrainProgress, onlyTheClientCanMoveOn: Bool) -> Bool {
        onlyTheClientCanMoveOn && self == previous
    }
}
