import Bolt
import Foundation
import Testing

/// The first thing a new user does: start the server, ask etcdctl and curl
/// whether it is there.
@Suite(.serialized) struct EndpointTests {
    @Test func etcdctlEndpointStatusAndHealth() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()

        let status = try etcdctl(server.endpoint, ["endpoint", "status", "-w", "json"])
        #expect(status.exitCode == 0, "\(status.stderr)\n\(server.logTail())")
        let parsed = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]]
        let body = try #require(parsed?.first?["Status"] as? [String: Any])
        let header = try #require(body["header"] as? [String: Any])
        let memberID = try #require(header["member_id"] as? NSNumber)
        #expect(memberID.uint64Value != 0)
        #expect((header["cluster_id"] as? NSNumber)?.uint64Value ?? 0 != 0)
        #expect((body["leader"] as? NSNumber)?.uint64Value == memberID.uint64Value)
        #expect((body["version"] as? String)?.hasPrefix("3.5") == true)
        #expect(((body["raftTerm"] as? NSNumber)?.uint64Value ?? 0) >= 1)
        #expect(((body["raftIndex"] as? NSNumber)?.uint64Value ?? 0) >= 1)
        #expect(((body["dbSize"] as? NSNumber)?.int64Value ?? 0) > 0)

        let health = try etcdctl(server.endpoint, ["endpoint", "health"])
        #expect(health.exitCode == 0, "\(health.stderr)")
        #expect((health.stdout + health.stderr).contains("is healthy"))
    }

    /// etcdctl dials URL endpoints (and every `--cluster` command dials the
    /// members' client URLs) with an `:authority` of "http://host:port".
    @Test func etcdctlWithURLEndpointsAndClusterFlag() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        let put = try etcdctl(server.clientURL, ["put", "url", "endpoint"])
        #expect(put.exitCode == 0, "\(put.stderr)")
        let status = try etcdctl(server.endpoint, ["endpoint", "status", "--cluster"])
        #expect(status.exitCode == 0, "\(status.stderr)")
        #expect(status.stdout.contains(server.clientURL))
        let hash = try etcdctl(server.endpoint, ["endpoint", "hashkv", "--cluster"])
        #expect(hash.exitCode == 0, "\(hash.stderr)")
    }

    @Test func httpVersionAndHealth() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()

        // The leader decides the cluster version just after it is elected: wait for it.
        var v: [String: String]?
        try eventually {
            let version = try ProcessRunner.run("curl", ["-s", "-f", server.clientURL + "/version"])
            v = try JSONSerialization.jsonObject(with: Data(version.stdout.utf8)) as? [String: String]
            return v?["etcdcluster"] != nil && v?["etcdcluster"] != "not_decided"
        }
        // One claimed version everywhere (README "Versions"): etcd 3.5.1's, cluster 3.5.0.
        #expect(v?["etcdserver"] == "3.5.1")
        #expect(v?["etcdcluster"] == "3.5.0")
        let status = try etcdctl(server.endpoint, ["endpoint", "status", "-w", "json"])
        let list = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]]
        #expect((list?.first?["Status"] as? [String: Any])?["version"] as? String == "3.5.1", "\(status.stdout)")

        let health = try ProcessRunner.run("curl", ["-s", "-f", server.clientURL + "/health"])
        #expect(health.exitCode == 0)
        let h = try JSONSerialization.jsonObject(with: Data(health.stdout.utf8)) as? [String: String]
        #expect(h?["health"] == "true")

        let missing = try ProcessRunner.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", server.clientURL + "/nope"])
        #expect(missing.stdout == "404")
    }

    /// Before the leader decides the cluster version (here never: the other
    /// member of the two never starts, so there is no leader), etcd 3.5.1
    /// answers `"etcdcluster":"not_decided"` and exports no
    /// `etcd_cluster_version` series; Status still shows the server version.
    @Test func clusterVersionNotDecidedWithoutQuorum() throws {
        let ownPeer = freePort(), absentPeer = freePort()
        let server = try ServerProcess(name: "a", peerPort: ownPeer,
                                       initialCluster: "a=http://127.0.0.1:\(ownPeer),b=http://127.0.0.1:\(absentPeer)")
        defer { server.stop(); server.removeData() }
        try server.start()
        let version = try ProcessRunner.run("curl", ["-s", "-f", server.clientURL + "/version"])
        #expect(version.stdout == #"{"etcdserver":"3.5.1","etcdcluster":"not_decided"}"#, "\(version.stdout)")
        let metrics = try ProcessRunner.run("curl", ["-s", "-f", server.clientURL + "/metrics"])
        #expect(metrics.stdout.contains("etcd_server_version{server_version=\"3.5.1\"} 1"))
        #expect(!metrics.stdout.contains("etcd_cluster_version"), "\(metrics.stdout)")
        let status = try etcdctl(server.endpoint, ["endpoint", "status", "-w", "json", "--command-timeout", "5s"])
        let list = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]]
        #expect((list?.first?["Status"] as? [String: Any])?["version"] as? String == "3.5.1", "\(status.stdout)")
        // A snapshot has no cluster version yet: etcd writes `clusterVersion` once the leader set it.
        let file = server.dataDir + ".snapshot.db"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let save = try etcdctl(server.endpoint, ["snapshot", "save", file])
        #expect(save.exitCode == 0, "\(save.stderr)")
        let db = try BoltReader(try BoltFileSource(path: file))
        let cluster = try #require(try db.bucket(named: Array("cluster".utf8)))
        var keys: [String] = []
        try db.forEach(cluster) { key, _, _, _ in keys.append(String(decoding: key, as: UTF8.self)) }
        #expect(!keys.contains("clusterVersion"), "\(keys)")
    }

    /// etcd's Procfile (goreman, the usual local cluster) passes
    /// `--enable-pprof --logger=zap --log-outputs=stderr`: the server starts
    /// and answers /debug/pprof/; without the flag the path does not exist.
    @Test func procfileFlagsAndPprofEndpoints() throws {
        let server = try ServerProcess(extraArgs: ["--enable-pprof", "--logger=zap", "--log-outputs=stderr"])
        defer { server.stop(); server.removeData() }
        try server.start()
        let threads = try ProcessRunner.run("curl", ["-s", "-f", server.clientURL + "/debug/pprof/goroutine?debug=1"])
        #expect(threads.exitCode == 0 && threads.stdout.hasPrefix("threads: "), "\(threads.stdout)")
        let cpu = try ProcessRunner.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", server.clientURL + "/debug/pprof/profile"])
        #expect(cpu.stdout == "501")

        let plain = try ServerProcess()
        defer { plain.stop(); plain.removeData() }
        try plain.start()
        let missing = try ProcessRunner.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", plain.clientURL + "/debug/pprof/"])
        #expect(missing.stdout == "404")
    }
}

/// Start-up errors a user makes on the command line.
@Suite struct CommandLineTests {
    @Test func unknownFlagExitsWithStatus2() throws {
        let result = try ProcessRunner.run(try PackagePaths.serverBinary, ["--no-such-flag"])
        #expect(result.exitCode == 2)
        #expect(result.stderr.contains("no-such-flag"))
    }

    @Test func unsupportedFeatureFlagRefusesToStart() throws {
        let result = try ProcessRunner.run(try PackagePaths.serverBinary, ["--enable-log-rotation", "--data-dir", "/tmp/swift-etcd-never-created"])
        #expect(result.exitCode != 0)
        #expect(result.stderr.contains("--enable-log-rotation is not supported yet"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/swift-etcd-never-created"))
    }

    @Test func versionFlag() throws {
        let result = try ProcessRunner.run(try PackagePaths.serverBinary, ["--version"])
        #expect(result.exitCode == 0)
        #expect(result.stdout.hasPrefix("etcd Version: 3.5.1\n"), "\(result.stdout)")
    }
}
