import Foundation

/// A TCP connection to 127.0.0.1:`port` (the caller closes it), nil if refused.
public func connectedLoopbackSocket(port: Int) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    if rc != 0 {
        close(fd)
        return nil
    }
    return fd
}

/// A free TCP port on 127.0.0.1 in 20000–32767: below Linux's ephemeral range
/// (32768–60999), so a client's outgoing connection can never take a test
/// server's port between this check and the server's bind. Never the same
/// port twice in one test process (a port handed out but not bound yet
/// still looks free).
/// `SWIFT_ETCD_TEST_PORTS=lo-hi` narrows the range (runs that share a
/// machine each keep to their own ports).
public func freeLoopbackPort() -> Int {
    while true {
        // Every port of the range handed out (a long run in a narrow
        // SWIFT_ETCD_TEST_PORTS): the early ones are long bound or free again.
        if handedOutPorts.count >= testPortRange.count { handedOutPorts.reset() }
        let port = Int.random(in: testPortRange)
        guard handedOutPorts.claim(port) else { continue }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let rc = bindLoopback(fd, port: port)
        close(fd)
        if rc == 0 { return port }
    }
}

private let testPortRange: ClosedRange<Int> = {
    let bounds = (ProcessInfo.processInfo.environment["SWIFT_ETCD_TEST_PORTS"] ?? "").split(separator: "-").compactMap { Int($0) }
    guard bounds.count == 2, 1024 <= bounds[0], bounds[0] < bounds[1], bounds[1] <= 32_767 else { return 20_000...32_767 }
    return bounds[0]...bounds[1]
}()

/// Binds socket `fd` to 127.0.0.1:`port`; bind(2)'s result.
public func bindLoopback(_ fd: Int32, port: Int) -> Int32 {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    let len = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
}

/// Ports already handed out by this test process.
private let handedOutPorts = PortLedger()

private final class PortLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var used = Set<Int>()
    func claim(_ port: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return used.insert(port).inserted
    }
    var count: Int { lock.withLock { used.count } }
    func reset() { lock.withLock { used.removeAll() } }
}
