import NIOCore

/// Enforces `--grpc-keepalive-min-time` the way grpc-go does: a PING that
/// arrives sooner than `minTime` after the previous one (or while no stream is
/// open, unless permitted) is a strike; the third strike means GOAWAY
/// ENHANCE_YOUR_CALM "too_many_pings". Sending HEADERS or DATA resets the count.
struct KeepaliveEnforcer {
    static let maxStrikes = 2

    let minTime: TimeAmount
    let permitWithoutStream: Bool
    private var lastPing: NIODeadline?
    private(set) var strikes = 0

    init(minTime: TimeAmount, permitWithoutStream: Bool) {
        self.minTime = minTime
        self.permitWithoutStream = permitWithoutStream
    }

    enum Action: Equatable { case accept, goAway }

    mutating func receivedPing(at now: NIODeadline, activeStreams: Int) -> Action {
        defer { lastPing = now }
        guard let last = lastPing else { return .accept }  // the first ping is always fine
        let tooSoon = activeStreams == 0 && !permitWithoutStream
            ? now - last < .hours(2)  // grpc-go: without streams only one ping per 2h
            : now - last < minTime
        guard tooSoon else { return .accept }
        strikes += 1
        return strikes > Self.maxStrikes ? .goAway : .accept
    }

    /// The server sent HEADERS or DATA: the client's pings are legitimate again.
    mutating func sentHeadersOrData() {
        strikes = 0
        lastPing = nil
    }
}
