import Foundation

/// Three swift-etcd members, each in its own network namespace with two
/// veth links: one on a peer bridge (Raft traffic only) and one on a client
/// bridge that the test's namespace is also on. Taking a member's peer link
/// down cuts it off from the other members while clients still reach it —
/// the partition where a deposed leader could serve stale reads.
///
/// Needs root (`ip netns`, veth, bridges); `make()` returns `nil` when the
/// kernel or the user does not allow it. Addresses are private to the test
/// (10.213.x.0/24 peers, 10.214.x.0/24 clients), so fixed ports are safe.
final class NetnsCluster {
    struct Member {
        let name: String
        let namespace: String
        let peerIP: String
        let clientIP: String
        /// Host side of the member's peer veth, on the peer bridge.
        let peerLink: String
        let dataDir: String
        var endpoint: String { "\(clientIP):2379" }
    }

    let members: [Member]
    private(set) var processes: [Process?]
    private let tag: String
    private let token: String
    private var created: [[String]] = []  // `ip` commands that undo the set-up, run in reverse
    /// Keep data dirs and logs (`<dataDir>.log`) after `destroy()`, to study a failure.
    var keepsFiles = false

    var endpoints: String { members.map(\.endpoint).joined(separator: ",") }

    /// A cluster with its network set up, or `nil` if namespaces are not available here.
    static func make() -> NetnsCluster? {
        guard getuid() == 0, (try? ProcessRunner.resolve("ip")) != nil else { return nil }
        let cluster = NetnsCluster()
        do {
            try cluster.setUp()
            return cluster
        } catch {
            cluster.destroy()
            return nil
        }
    }

    private init() {
        let n = Int.random(in: 1...250)
        let tag = String(format: "%04x", Int.random(in: 0...0xffff))
        self.tag = tag
        token = "netns-\(tag)"
        members = (1...3).map { i in
            Member(name: "m\(i)", namespace: "lc\(tag)n\(i)", peerIP: "10.213.\(n).\(i)", clientIP: "10.214.\(n).\(i)",
                   peerLink: "lc\(tag)p\(i)", dataDir: NSTemporaryDirectory() + "swift-etcd-netns-\(tag)-m\(i)")
        }
        processes = [nil, nil, nil]
    }

    private func ip(_ args: [String], undo: [String]? = nil) throws {
        let r = try ProcessRunner.run("ip", args)
        guard r.exitCode == 0 else { throw TestSetupError("ip \(args.joined(separator: " ")): \(r.stderr)") }
        if let undo { created.append(undo) }
    }

    private func setUp() throws {
        let peerBridge = "lc\(tag)pb", clientBridge = "lc\(tag)cb"
        let clientNet = members[0].clientIP.split(separator: ".").prefix(3).joined(separator: ".")
        for bridge in [peerBridge, clientBridge] {
            try ip(["link", "add", bridge, "type", "bridge"], undo: ["link", "del", bridge])
            try ip(["link", "set", bridge, "up"])
        }
        try ip(["addr", "add", "\(clientNet).254/24", "dev", clientBridge])
        for (i, m) in members.enumerated() {
            let ns = m.namespace
            try ip(["netns", "add", ns], undo: ["netns", "del", ns])
            try ip(["-n", ns, "link", "set", "lo", "up"])
            for (kind, address, bridge) in [("p", m.peerIP, peerBridge), ("c", m.clientIP, clientBridge)] {
                let host = "lc\(tag)\(kind)\(i + 1)", inner = "lc\(tag)\(kind)\(i + 1)i"
                try ip(["link", "add", host, "type", "veth", "peer", "name", inner], undo: ["link", "del", host])
                try ip(["link", "set", inner, "netns", ns])
                try ip(["link", "set", host, "master", bridge])
                try ip(["link", "set", host, "up"])
                try ip(["-n", ns, "addr", "add", "\(address)/24", "dev", inner])
                try ip(["-n", ns, "link", "set", inner, "up"])
            }
        }
    }

    private func arguments(_ m: Member) -> [String] {
        let initial = members.map { "\($0.name)=http://\($0.peerIP):2380" }.joined(separator: ",")
        return ["--name", m.name, "--data-dir", m.dataDir,
                "--listen-client-urls", "http://\(m.clientIP):2379", "--advertise-client-urls", "http://\(m.clientIP):2379",
                "--listen-peer-urls", "http://\(m.peerIP):2380", "--initial-advertise-peer-urls", "http://\(m.peerIP):2380",
                "--initial-cluster", initial, "--initial-cluster-token", token, "--initial-cluster-state", "new"]
    }

    /// Starts member `i` (`ip netns exec` execs the server: the pid is the server's).
    func start(_ i: Int, timeoutSeconds: Double = 60) throws {
        let m = members[i]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try ProcessRunner.resolve("ip"))
        p.arguments = ["netns", "exec", m.namespace, try PackagePaths.serverBinary] + arguments(m)
        let logPath = m.dataDir + ".log"
        if !FileManager.default.fileExists(atPath: logPath) { FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = FileHandle(forWritingAtPath: logPath)!
        log.seekToEndOfFile()
        p.standardOutput = log
        p.standardError = log
        try p.run()
        processes[i] = p
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            if !p.isRunning { throw TestSetupError("\(m.name) exited: \(logTail(i))") }
            if canConnect(host: m.clientIP, port: 2379) { return }
            usleep(50_000)
        }
        throw TestSetupError("\(m.name) did not listen: \(logTail(i))")
    }

    func startAll() throws { for i in members.indices { try start(i) } }

    func signal(_ i: Int, _ sig: Int32) {
        guard let p = processes[i], p.isRunning else { return }
        kill(p.processIdentifier, sig)
        if sig == SIGKILL {
            p.waitUntilExit()
            processes[i] = nil
        }
    }

    /// Takes member `i`'s peer link down (`up: false`) or back up.
    func setPeerLink(_ i: Int, up: Bool) throws {
        try ip(["link", "set", members[i].peerLink, up ? "up" : "down"])
    }

    /// Index of the member all running, reachable members name as leader.
    func leader(among indices: [Int], excluding: UInt64 = 0, seconds: Double = 60) throws -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let statuses = indices.map { status(members[$0].endpoint) }
            if let first = statuses.first??.leader, first != 0, first != excluding,
               statuses.allSatisfy({ $0?.leader == first }),
               let index = zip(indices, statuses).first(where: { $0.1?.memberID == first })?.0 {
                return index
            }
            usleep(100_000)
        }
        throw TestSetupError("no agreed leader among \(indices)")
    }

    func status(_ endpoint: String) -> (leader: UInt64, memberID: UInt64)? {
        guard let r = try? etcdctl(endpoint, ["endpoint", "status", "-w", "json"]), r.exitCode == 0,
              let list = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]],
              let st = list.first?["Status"] as? [String: Any],
              let header = st["header"] as? [String: Any] else { return nil }
        return ((st["leader"] as? NSNumber)?.uint64Value ?? 0, (header["member_id"] as? NSNumber)?.uint64Value ?? 0)
    }

    func logTail(_ i: Int) -> String {
        let data = FileManager.default.contents(atPath: members[i].dataDir + ".log") ?? Data()
        return String(decoding: data.suffix(3000), as: UTF8.self)
    }

    /// Kills the members and removes namespaces, links, bridges and data.
    func destroy() {
        for i in members.indices {
            if let p = processes[i], p.isRunning { kill(p.processIdentifier, SIGCONT); kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
            processes[i] = nil
        }
        for undo in created.reversed() { _ = try? ProcessRunner.run("ip", undo) }
        created = []
        guard !keepsFiles else { return }
        for m in members {
            try? FileManager.default.removeItem(atPath: m.dataDir)
            try? FileManager.default.removeItem(atPath: m.dataDir + ".log")
        }
    }

    deinit { destroy() }
}

/// Whether a TCP connection to `host:port` (IPv4) succeeds.
func canConnect(host: String, port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr(host)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    return withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}
