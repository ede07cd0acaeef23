import Foundation
import Testing

/// A peer that accepts TCP and then refuses (a TLS failure, a rejected
/// hello) is redialed with backoff and logged now and then, not redialed
/// ~20 times a second with a log line each. The bounds are far from both
/// sides: a storm is ~100 dials and lines in the window, backoff ≤ ~10.
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
        try member.start()

        let window = 6.0
        let start = closing.count
        Thread.sleep(forTimeInterval: window)
        let dials = closing.count - start
        #expect(dials >= 2 && dials < 40, "\(dials) dials to a peer that closes at once in \(window) s")
        let refused = member.log.components(separatedBy: "peer refused our connection").count - 1
        #expect(refused >= 1 && refused < 10, "\(refused) 'peer refused' lines\n\(member.logTail())")
        let refusing = other.log.components(separatedBy: "refusing peer connection").count - 1
        #expect(refusing >= 1 && refusing < 10, "\(refusing) 'refusing peer connection' lines\n\(other.logTail())")
    }
}
