import Foundation
import TestSupport
import Testing

/// A peer that accepts TCP and then refuses (a TLS failure, a rejected
/// hello) is redialed with backoff and logged now and then, not redialed
/// ~20 times a second with a log line each. The test waits (a generous
/// bound) for redials and log lines to happen at all, then bounds their
/// numbers by the time that really passed: backoff (50 ms doubling to 1 s)
/// makes ~5 + 1 per second dials, the log limit one line per 10 s; a storm
/// is ~20 a second of each.
@Suite struct PeerRedialTests {
    /// Accepts connections on 127.0.0.1:`port` and closes each at once, counting them.
    final class ClosingListener: @unchecked Sendable {
        let fd: Int32
        private let lock = NSLock()
        private var accepted = 0

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            guard bindLoopback(fd, port: port) == 0, listen(fd, 64) == 0 else { close(fd); throw TestSetupError("cannot listen on \(port)") }
            Thread.detachNewThread { [self] in
                while true {
                    let c = accept(fd, nil, nil)
                    if c < 0 { return }  // closed by `stop`
                    close(c)
                    lock.withLock { accepted += 1 }
                }
            }
        }

        var count: Int { lock.withLock { accepted } }
        func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
    }

    @Test func refusedPeersAreRedialedWithBackoffAndLoggedRarely() throws {
        // `other` runs a one-member cluster of its own: it refuses our hello.
        let other = try ServerProcess(name: "other")
        defer { other.stop(); other.removeData() }
        try other.start()
        let closingPort = freePort()
        let closing = try ClosingListener(port: closingPort)
        defer { closing.stop() }
        let ownPeer = freePort()
        let member = try ServerProcess(name: "m", peerPort: ownPeer, initialCluster:
            "m=http://127.0.0.1:\(ownPeer),other=\(other.peerURL),closing=http://127.0.0.1:\(closingPort)")
        defer { member.stop(); member.removeData() }
        let started = Date()
        try member.start()

        func lines(_ server: ServerProcess, _ text: String) -> Int { server.log.components(separatedBy: text).count - 1 }
        // Redials and both sides' lines happen (60 s only bounds a hang), over at least 6 s.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, Date().timeIntervalSince(started) < 6 || closing.count < 2
                || lines(member, "peer refused our connection") < 1 || lines(other, "refusing peer connection") < 1 {
            usleep(100_000)
        }
        let dials = closing.count
        let refused = lines(member, "peer refused our connection")
        let refusing = lines(other, "refusing peer connection")
        let elapsed = Date().timeIntervalSince(started)
        #expect(dials >= 2 && Double(dials) < 10 + 3 * elapsed, "\(dials) dials to a peer that closes at once in \(elapsed) s")
        #expect(refused >= 1 && Double(refused) < 10 + elapsed / 2, "\(refused) 'peer refused' lines in \(elapsed) s\n\(member.logTail())")
        #expect(refusing >= 1 && Double(refusing) < 10 + elapsed / 2,
                "\(refusing) 'refusing peer connection' lines in \(elapsed) s\n\(other.logTail())")
    }
}
