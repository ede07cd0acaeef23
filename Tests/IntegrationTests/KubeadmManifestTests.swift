import Foundation
import Testing

/// A 3-member cluster started with exactly the flags kubeadm writes into its
/// etcd static pod manifest, on 127.0.0.2/3/4 (ports in the test range),
/// with certificates laid out as kubeadm lays them (pki/etcd/ca.crt,
/// server.crt, peer.crt, healthcheck-client.crt; pki/apiserver-etcd-client.crt).
/// As `kubeadm join` does, the first member starts alone and each next one
/// is added with `member add` and starts with `--initial-cluster-state existing`.
@Suite(.serialized) struct KubeadmManifestTests {
    final class Node {
        let name: String
        let ip: String
        let clientPort = freePort(), peerPort = freePort(), metricsPort = freePort()
        let root: String
        var pki: String { root + "/pki/etcd" }
        var clientURL: String { "https://\(ip):\(clientPort)" }
        var peerURL: String { "https://\(ip):\(peerPort)" }
        var process: ServerProcess?

        init(index: Int, base: String) {
            name = "node\(index)"
            ip = "127.0.0.\(index + 1)"
            root = base + "/" + name
        }

        /// kubeadm's certificates for this node, signed by the shared etcd CA.
        func issueCertificates(_ ca: TestPKI) throws {
            try FileManager.default.createDirectory(atPath: pki, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: ca.caCert, toPath: pki + "/ca.crt")
            try FileManager.default.copyItem(atPath: ca.caKey, toPath: pki + "/ca.key")
            let sans = (ips: [ip, "127.0.0.1", "::1"], dns: [name, "localhost"])
            try ca.issue("server", cn: name, ips: sans.ips, dns: sans.dns, into: pki)
            try ca.issue("peer", cn: name, ips: sans.ips, dns: sans.dns, into: pki)
            try ca.issue("healthcheck-client", cn: "kube-etcd-healthcheck-client", clientOnly: true, into: pki)
            try ca.issue("apiserver-etcd-client", cn: "kube-apiserver-etcd-client", clientOnly: true, into: root + "/pki")
        }

        /// The manifest's command, flag for flag (kubeadm 1.2x), with this node's paths and ports.
        func manifest(initialCluster: String, existing: Bool) -> [String] {
            var args = [
                "--advertise-client-urls=\(clientURL)",
                "--cert-file=\(pki)/server.crt",
                "--client-cert-auth=true",
                "--data-dir=\(root)/data",
                "--experimental-initial-corrupt-check=true",
                "--experimental-watch-progress-notify-interval=5s",
                "--initial-advertise-peer-urls=\(peerURL)",
                "--initial-cluster=\(initialCluster)",
                "--key-file=\(pki)/server.key",
                "--listen-client-urls=https://127.0.0.1:\(clientPort),\(clientURL)",
                "--listen-metrics-urls=http://127.0.0.1:\(metricsPort)",
                "--listen-peer-urls=\(peerURL)",
                "--name=\(name)",
                "--peer-cert-file=\(pki)/peer.crt",
                "--peer-client-cert-auth=true",
                "--peer-key-file=\(pki)/peer.key",
                "--peer-trusted-ca-file=\(pki)/ca.crt",
                "--snapshot-count=10000",
                "--trusted-ca-file=\(pki)/ca.crt",
            ]
            if existing { args.append("--initial-cluster-state=existing") }
            return args
        }

        func start(initialCluster: String, existing: Bool) throws {
            let p = try ServerProcess(name: name, dataDir: root + "/data", clientPort: clientPort,
                                      exactArguments: manifest(initialCluster: initialCluster, existing: existing))
            try p.start(timeoutSeconds: 60)
            process = p
        }

        /// etcdctl as the API server would call it (apiserver-etcd-client certificate).
        func etcdctlTLS(_ args: [String], endpoints: String? = nil) throws -> CommandResult {
            try etcdctl(endpoints ?? clientURL, ["--cacert", pki + "/ca.crt", "--cert", root + "/pki/apiserver-etcd-client.crt",
                                                 "--key", root + "/pki/apiserver-etcd-client.key"] + args)
        }

        /// kubeadm's probes on the plain metrics port.
        func probe(_ path: String) throws -> (code: String, body: String) {
            let r = try ProcessRunner.run("curl", ["-s", "--max-time", "10", "-w", "\n%{http_code}", "http://127.0.0.1:\(metricsPort)\(path)"])
            let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
        }
    }

    /// Starts node1, then adds node2 and node3 as `kubeadm join` does.
    static func startCluster() throws -> (nodes: [Node], ca: TestPKI, base: String) {
        let base = NSTemporaryDirectory() + "swift-etcd-kubeadm-\(UUID().uuidString)"
        let ca = try TestPKI(name: "etcd-ca")
        let nodes = (1...3).map { Node(index: $0, base: base) }
        for n in nodes { try n.issueCertificates(ca) }
        try nodes[0].start(initialCluster: "node1=\(nodes[0].peerURL)", existing: false)
        for i in 1..<3 {
            let add = try retry { try nodes[0].etcdctlTLS(["member", "add", nodes[i].name, "--peer-urls=\(nodes[i].peerURL)"]) }
            guard add.exitCode == 0 else { throw TestSetupError("member add \(nodes[i].name): \(add.stderr)") }
            let initial = nodes[0...i].map { "\($0.name)=\($0.peerURL)" }.joined(separator: ",")
            try nodes[i].start(initialCluster: initial, existing: true)
        }
        return (nodes, ca, base)
    }

    /// Retries a command for a while (a just-started member may refuse
    /// reconfiguration until its peers have been connected for a few seconds).
    static func retry(_ body: () throws -> CommandResult) throws -> CommandResult {
        var last = try body()
        let deadline = Date().addingTimeInterval(30)
        while last.exitCode != 0 && Date() < deadline {
            usleep(500_000)
            last = try body()
        }
        return last
    }

    static func stop(_ nodes: [Node], _ ca: TestPKI, _ base: String) {
        for n in nodes { n.process?.stop() }
        try? FileManager.default.removeItem(atPath: base)
        ca.remove()
    }

    static func leaderIndex(_ nodes: [Node], running: [Int]) -> Int? {
        for i in running {
            guard let r = try? nodes[i].etcdctlTLS(["endpoint", "status", "-w", "json"]), r.exitCode == 0,
                  let list = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]],
                  let st = list.first?["Status"] as? [String: Any], let header = st["header"] as? [String: Any],
                  let leader = (st["leader"] as? NSNumber)?.uint64Value, leader != 0,
                  (header["member_id"] as? NSNumber)?.uint64Value == leader else { continue }
            return i
        }
        return nil
    }

    @Test func kubeadmManifestClusterServesTheAPIServer() throws {
        let (nodes, ca, base) = try Self.startCluster()
        defer { Self.stop(nodes, ca, base) }

        // member list: three members, https peer and client URLs.
        let list = try Self.retry { try nodes[2].etcdctlTLS(["member", "list", "-w", "json"]) }
        let json = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any]
        let members = json?["members"] as? [[String: Any]] ?? []
        #expect(members.count == 3, "\(list.stdout) \(list.stderr)")
        for n in nodes {
            #expect(members.contains { ($0["peerURLs"] as? [String]) == [n.peerURL] && ($0["name"] as? String) == n.name },
                    "\(n.name) missing: \(members)")
        }

        // kubeadm's probes on the plain metrics port, on every member.
        for n in nodes {
            let health = try n.probe("/health?exclude=NOSPACE&serializable=true")
            #expect(health.code == "200" && health.body.contains(#""health":"true""#), "\(n.name): \(health)")
            #expect(try n.probe("/readyz").code == "200")
            #expect(try n.probe("/livez").code == "200")
        }
        // The healthcheck client certificate works on the TLS client port too (etcdctl endpoint health).
        let hc = try etcdctl(nodes[1].clientURL, ["--cacert", nodes[1].pki + "/ca.crt", "--cert", nodes[1].pki + "/healthcheck-client.crt",
                                                  "--key", nodes[1].pki + "/healthcheck-client.key", "endpoint", "health"])
        #expect(hc.exitCode == 0, "\(hc.stderr)")

        // An API-server-style client writes and watches through all three,
        // and survives the leader's kill -9.
        let endpoints = nodes.map(\.clientURL).joined(separator: ",")
        let pause = base + "/pause", outputFile = base + "/tlsclient.out"
        _ = FileManager.default.createFile(atPath: outputFile, contents: Data())
        func clientOutput() -> String { (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? "" }
        let client = Process()
        client.executableURL = URL(fileURLWithPath: try GoPrograms.binary("tlsclient"))
        // -duration only bounds a hang: the client stops once writes and events resumed.
        client.arguments = ["-endpoints", endpoints, "-cacert", nodes[0].pki + "/ca.crt",
                            "-cert", nodes[0].root + "/pki/apiserver-etcd-client.crt",
                            "-key", nodes[0].root + "/pki/apiserver-etcd-client.key",
                            "-mode", "apiserver", "-duration", "180s", "-pause-file", pause]
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputFile))
        client.standardOutput = output
        client.standardError = output
        try client.run()
        defer { if client.isRunning { client.terminate() } }
        let started = Date().addingTimeInterval(60)
        while client.isRunning && !clientOutput().contains("writing") && Date() < started { usleep(100_000) }
        #expect(clientOutput().contains("writing"), "\(clientOutput())")
        let leader = try #require(Self.leaderIndex(nodes, running: [0, 1, 2]))
        _ = FileManager.default.createFile(atPath: pause, contents: Data())
        let pausedBy = Date().addingTimeInterval(60)
        while client.isRunning && !clientOutput().contains("paused") && Date() < pausedBy { usleep(100_000) }
        nodes[leader].process?.stop(signal: SIGKILL)
        let survivors = [0, 1, 2].filter { $0 != leader }
        let deadline = Date().addingTimeInterval(60)
        while Self.leaderIndex(nodes, running: survivors) == nil && Date() < deadline { usleep(200_000) }
        try FileManager.default.removeItem(atPath: pause)
        client.waitUntilExit()
        try output.close()
        let log = clientOutput()
        #expect(client.terminationStatus == 0, "\(log)")
        #expect(log.contains("paused") && log.contains("resumed"), "\(log)")

        // The killed member comes back with the same manifest and catches up.
        let back = nodes[leader]
        try back.start(initialCluster: nodes.map { "\($0.name)=\($0.peerURL)" }.joined(separator: ","), existing: leader != 0)
        let value = try Self.retry { try back.etcdctlTLS(["get", "/registry/tlsclient/key-1", "--consistency=s", "--print-value-only"]) }
        #expect(value.exitCode == 0 && !value.stdout.isEmpty, "\(value.stderr) \(back.process?.logTail() ?? "")")
    }

    @Test func certificatesRotatedOnOneMemberWhileItServes() throws {
        let (nodes, ca, base) = try Self.startCluster()
        defer { Self.stop(nodes, ca, base) }
        let node = nodes[1]
        func served(_ port: Int, host: String) throws -> String {
            let r = try ProcessRunner.run("openssl", ["s_client", "-connect", "\(host):\(port)", "-CAfile", node.pki + "/ca.crt",
                                                      "-cert", node.pki + "/healthcheck-client.crt",
                                                      "-key", node.pki + "/healthcheck-client.key"], stdin: "")
            let body = r.stdout.components(separatedBy: "-----BEGIN CERTIFICATE-----").dropFirst().first ?? ""
            let file = base + "/served-\(UUID().uuidString).crt"
            try ("-----BEGIN CERTIFICATE-----" + body.components(separatedBy: "-----END CERTIFICATE-----")[0]
                 + "-----END CERTIFICATE-----\n").write(toFile: file, atomically: true, encoding: .utf8)
            return try TestPKI.serial(file)
        }
        let oldServer = try served(node.clientPort, host: node.ip)
        let oldPeer = try served(node.peerPort, host: node.ip)
        let serverSerial = try TestPKI.serial(node.pki + "/server.crt")
        #expect(oldServer == serverSerial)
        // Rotate both certificates in place (new keys too), as cert-manager or `kubeadm certs renew` would.
        try ca.issue("server", cn: node.name, ips: [node.ip, "127.0.0.1", "::1"], dns: [node.name, "localhost"], into: node.pki)
        try ca.issue("peer", cn: node.name, ips: [node.ip, "127.0.0.1", "::1"], dns: [node.name, "localhost"], into: node.pki)
        let newServer = try served(node.clientPort, host: node.ip)
        let newPeer = try served(node.peerPort, host: node.ip)
        let rotatedServer = try TestPKI.serial(node.pki + "/server.crt"), rotatedPeer = try TestPKI.serial(node.pki + "/peer.crt")
        #expect(newServer != oldServer && newServer == rotatedServer)
        #expect(newPeer != oldPeer && newPeer == rotatedPeer)
        // It kept serving: writes through it replicate, reads on it see the others' writes.
        #expect(try node.etcdctlTLS(["put", "rotated", "yes"]).exitCode == 0)
        let other = try Self.retry { try nodes[2].etcdctlTLS(["get", "rotated", "--print-value-only"]) }
        #expect(other.stdout == "yes\n", "\(other.stderr)")
        #expect(node.process?.process?.isRunning == true)
    }
}
