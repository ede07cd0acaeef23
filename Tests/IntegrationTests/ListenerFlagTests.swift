import Foundation
import Testing

/// Flags that shape the member's sockets: `--socket-reuse-port`,
/// `--socket-reuse-address`, `--raft-read-timeout`.
@Suite("Listener flags", .serialized)
struct ListenerFlagTests {
    /// Binds (and listens on) 127.0.0.1:`port`, optionally with
    /// SO_REUSEPORT; returns errno (0: bound).
    static func bindListener(port: Int, reusePort: Bool) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var one: Int32 = 1
        if reusePort { setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) }
        if withLoopback(port: port, { bind(fd, $0, $1) }) != 0 { return errno }
        return listen(fd, 1) == 0 ? 0 : errno
    }

    /// `--socket-reuse-port`: another SO_REUSEPORT socket may bind the
    /// member's client and peer ports (etcd: "allowing rebinding of a port
    /// already in use"); without the flag the ports are exclusive.
    @Test func socketReusePortSharesTheListeningPorts() throws {
        for reuse in [true, false] {
            let server = try ServerProcess(extraArgs: reuse ? ["--socket-reuse-port"] : [])
            try server.start()
            defer { server.stop(); server.removeData() }
            for port in [server.clientPort, server.peerPort] {
                let result = Self.bindListener(port: port, reusePort: true)
                #expect(reuse ? result == 0 : result == EADDRINUSE, "reuse-port \(reuse), port \(port): errno \(result)")
            }
        }
    }

    /// `--socket-reuse-address`: a member stopped while clients were
    /// connected leaves its side of those connections in TIME_WAIT, and
    /// restarts on the same ports at once.
    @Test func socketReuseAddressRebindsOverTimeWait() throws {
        let server = try ServerProcess(extraArgs: ["--socket-reuse-address"])
        try server.start()
        defer { server.stop(); server.removeData() }
        for i in 0..<5 { _ = try etcdctl(server.endpoint, ["put", "k\(i)", "v"]) }
        // Idle connections the server closes first (on stop) end in TIME_WAIT
        // on its side once the client closes too.
        let holders = try (0..<3).map { _ in try HeldConnection(port: server.clientPort) }
        server.stopTimed(signal: SIGTERM)
        // The client side closes only now. Without withExtendedLifetime an
        // optimised build may free (and so close) them before the stop.
        withExtendedLifetime(holders) {}
        var ss = CommandResult(exitCode: 0, stdout: "", stderr: "")
        let timeWait = try eventually(seconds: 30) {
            ss = try ProcessRunner.run("ss", ["-tan", "state", "time-wait", "sport", "=", ":\(server.clientPort)"])
            return ss.stdout.split(separator: "\n").dropFirst().count > 0
        }
        #expect(timeWait, "no TIME_WAIT connection on the client port: \(ss.stdout)")
        try server.start()
        let get = try etcdctl(server.endpoint, ["get", "k0", "--print-value-only"])
        #expect(get.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "v", "\(get.stderr)")
    }

    /// `--raft-read-timeout` (at least 5 s, as etcd raises it): a peer
    /// connection that sends nothing is closed after it; with a long
    /// timeout it stays open.
    @Test func raftReadTimeoutClosesSilentPeerConnections() throws {
        for (timeout, closes) in [("5s", true), ("60s", false)] {
            let server = try ServerProcess(extraArgs: ["--raft-read-timeout", timeout])
            try server.start()
            defer { server.stop(); server.removeData() }
            let silent = try HeldConnection(port: server.peerPort)
            // Closing is waited for up to 60 s (a bound on a hang: a loaded machine may
            // run the 5 s timer late); staying open is watched for 9 s, well under 60 s.
            let closed = silent.waitForClose(seconds: closes ? 60 : 9)
            #expect(closed == closes, "raft-read-timeout \(timeout): closed \(closed)")
            if closes { #expect(server.log.contains("lost TCP streaming connection with remote peer")) }
        }
    }
}

/// Calls `body` with 127.0.0.1:`port` as a sockaddr (bind, connect).
func withLoopback(port: Int, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
}

/// A TCP connection a test opens and holds, sending nothing.
final class HeldConnection {
    private let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let rc = withLoopback(port: port) { connect(fd, $0, $1) }
        guard rc == 0 else { close(fd); throw TestSetupError("connect to \(port): \(errno)") }
    }

    /// Whether the peer closed the connection within `seconds`.
    func waitForClose(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 256)
        while Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, 200) == 1 {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { return true }
            }
        }
        return false
    }

    deinit { close(fd) }
}
