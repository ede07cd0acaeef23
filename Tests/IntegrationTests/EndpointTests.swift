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

    /// A member that is not ready (here never: the other member of the two
    /// never starts, so there is no leader) serves nothing on its client
    /// port, as etcd 3.5.1 (the connection waits in the backlog, so a
    /// client's balancer uses ready members instead). Its metrics port
    /// answers: `etcd_server_version` but no `etcd_cluster_version` series,
    /// since no leader decided the cluster version, and /health is false.
    @Test func notReadyMemberServesOnlyItsMetricsPort() throws {
        let ownPeer = freePort(), absentPeer = freePort(), metricsPort = freePort()
        let server = try ServerProcess(name: "a", extraArgs: ["--listen-metrics-urls", "http://127.0.0.1:\(metricsPort)"],
                                       peerPort: ownPeer,
                                       initialCluster: "a=http://127.0.0.1:\(ownPeer),b=http://127.0.0.1:\(absentPeer)")
        defer { server.stop(); server.removeData() }
        try server.start()
        let metricsURL = "http://127.0.0.1:\(metricsPort)"
        var metrics = ""
        #expect(eventually {
            metrics = (try? ProcessRunner.run("curl", ["-s", "-f", metricsURL + "/metrics"]).stdout) ?? ""
            return metrics.contains("etcd_server_version{server_version=\"3.5.1\"} 1")
        }, "\(metrics)")
        #expect(!metrics.contains("etcd_cluster_version"), "\(metrics)")
        let health = try ProcessRunner.run("curl", ["-s", metricsURL + "/health"])
        #expect(health.stdout.contains(#""health":"false""#), "\(health.stdout)")
        // The client port accepts TCP (backlog) but answers nothing: curl times out (28).
        let version = try ProcessRunner.run("curl", ["-s", "--max-time", "2", server.clientURL + "/version"])
        #expect(version.exitCode == 28, "exit \(version.exitCode): \(version.stdout)")
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
