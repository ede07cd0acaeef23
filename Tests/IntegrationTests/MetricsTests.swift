import Foundation
import Testing

/// /metrics, the health endpoints and --listen-metrics-urls, read with curl
/// as Prometheus and Kubernetes probes read them, and compared with etcd 3.5.1.
@Suite(.serialized) struct MetricsTests {
    /// A parsed exposition: sample line name{labels} → value, plus each family's type.
    struct Exposition {
        var samples: [String: Double] = [:]
        var types: [String: String] = [:]

        init(_ text: String) {
            for line in text.split(separator: "\n") {
                if line.hasPrefix("# TYPE ") {
                    let parts = line.split(separator: " ")
                    if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
                } else if !line.hasPrefix("#"), let space = line.lastIndex(of: " ") {
                    samples[String(line[..<space])] = Double(line[line.index(after: space)...])
                }
            }
        }

        func value(_ series: String) -> Double { samples[series] ?? -1 }
    }

    static func scrape(_ url: String) throws -> Exposition {
        let r = try ProcessRunner.run("curl", ["-s", "-f", url + "/metrics"])
        guard r.exitCode == 0 else { throw TestSetupError("curl \(url)/metrics failed: \(r.stderr)") }
        return Exposition(r.stdout)
    }

    /// (status code, content type, body) of a GET (or `method`).
    static func http(_ url: String, method: String = "GET") throws -> (Int, String, String) {
        let r = try ProcessRunner.run("curl", ["-s", "-X", method, "-w", "\n%{http_code} %{content_type}", url])
        let lastNewline = r.stdout.lastIndex(of: "\n")!
        let trailer = r.stdout[r.stdout.index(after: lastNewline)...].split(separator: " ", maxSplits: 1)
        return (Int(trailer[0]) ?? 0, trailer.count > 1 ? String(trailer[1]) : "", String(r.stdout[..<lastNewline]))
    }

    static let required: [String: String] = [
        "etcd_disk_wal_fsync_duration_seconds": "histogram", "etcd_disk_backend_commit_duration_seconds": "histogram",
        "etcd_server_leader_changes_seen_total": "counter", "etcd_server_proposals_committed_total": "gauge",
        "etcd_server_proposals_applied_total": "gauge", "etcd_server_proposals_pending": "gauge",
        "etcd_server_proposals_failed_total": "counter", "etcd_server_has_leader": "gauge", "etcd_server_is_leader": "gauge",
        "etcd_server_version": "gauge", "etcd_mvcc_db_total_size_in_bytes": "gauge",
        "etcd_mvcc_db_total_size_in_use_in_bytes": "gauge", "grpc_server_started_total": "counter",
        "grpc_server_handled_total": "counter", "grpc_server_msg_received_total": "counter",
        "grpc_server_msg_sent_total": "counter", "process_resident_memory_bytes": "gauge",
        "process_cpu_seconds_total": "counter", "process_open_fds": "gauge", "process_start_time_seconds": "gauge",
    ]

    static let putOK = #"grpc_server_handled_total{grpc_code="OK",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"}"#

    @Test func metricsOnClientAndMetricsPortsMoveWithPuts() throws {
        let metricsPort = freePort()
        let server = try ServerProcess(extraArgs: ["--listen-metrics-urls", "http://127.0.0.1:\(metricsPort)", "--metrics", "extensive"])
        defer { server.stop(); server.removeData() }
        try server.start()
        let metricsURL = "http://127.0.0.1:\(metricsPort)"
        let before = try Self.scrape(metricsURL)
        for (name, type) in Self.required {
            #expect(before.types[name] == type, "\(name): \(before.types[name] ?? "missing")")
        }
        #expect(before.types["grpc_server_handling_seconds"] == "histogram")
        #expect(before.value("etcd_server_has_leader") == 1)
        #expect(before.value("etcd_server_is_leader") == 1)
        #expect(before.value("etcd_server_leader_changes_seen_total") >= 1)
        #expect(before.samples.keys.contains { $0.hasPrefix("etcd_server_version{server_version=\"3.5") })
        #expect(before.value("process_resident_memory_bytes") > 0)

        for i in 0..<5 {
            let r = try etcdctl(server.endpoint, ["put", "metrics-\(i)", "v"])
            #expect(r.exitCode == 0, "\(r.stderr)")
        }
        let after = try Self.scrape(server.clientURL)  // the client port serves the same registry
        #expect(after.value(Self.putOK) == before.value(Self.putOK) + 5)
        #expect(after.value(#"grpc_server_started_total{grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"}"#) >= 5)
        #expect(after.value(#"grpc_server_msg_sent_total{grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"}"#) >= 5)
        #expect(after.value("etcd_disk_wal_fsync_duration_seconds_count") >= before.value("etcd_disk_wal_fsync_duration_seconds_count") + 5)
        #expect(after.value(#"etcd_disk_wal_fsync_duration_seconds_bucket{le="+Inf"}"#) == after.value("etcd_disk_wal_fsync_duration_seconds_count"))
        #expect(after.value("etcd_disk_backend_commit_duration_seconds_count") >= before.value("etcd_disk_backend_commit_duration_seconds_count") + 5)
        #expect(after.value("etcd_server_proposals_committed_total") >= before.value("etcd_server_proposals_committed_total") + 5)
        #expect(after.value(#"grpc_server_handling_seconds_count{grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"}"#) >= 5)

        // The cluster version series appears once the leader has set it (etcd: "3.5").
        let versionSeries = #"etcd_cluster_version{cluster_version="3.5"}"#
        var versioned = after
        let versionDeadline = Date().addingTimeInterval(60)
        while versioned.samples[versionSeries] == nil, Date() < versionDeadline {
            usleep(200_000)
            versioned = try Self.scrape(metricsURL)
        }
        #expect(versioned.value(versionSeries) == 1)

        // A failed call is counted under its code.
        _ = try etcdctl(server.endpoint, ["get", "x", "--rev", "999999"])
        let failed = try Self.scrape(metricsURL)
        #expect(failed.value(#"grpc_server_handled_total{grpc_code="OutOfRange",grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"}"#) >= 1)

        // The metrics port serves health but not the client API's /version.
        let (healthCode, _, healthBody) = try Self.http(metricsURL + "/health")
        #expect(healthCode == 200 && healthBody == #"{"health":"true","reason":""}"#)
        #expect(try Self.http(metricsURL + "/version").0 == 404)
    }

    /// etcd 3.5.1's start-up error for an https metrics URL without
    /// certificates (with them it serves: `TLSClientTests`).
    @Test func httpsMetricsURLWithoutCertificatesFailsAsEtcd() throws {
        let port = freePort()
        let result = try ProcessRunner.run(try PackagePaths.serverBinary,
                                           ["--listen-metrics-urls", "https://127.0.0.1:\(port)",
                                            "--data-dir", "/tmp/swift-etcd-never-created-metrics"])
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("cannot listen on TLS for 127.0.0.1:\(port): KeyFile and CertFile are not presented"),
                "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/swift-etcd-never-created-metrics"))
    }

    /// /health, /livez and /readyz answer as etcd 3.5.1 does (status, content
    /// type, body), and the metric families we share have etcd's types.
    @Test func healthAndMetricTypesMatchEtcd351() throws {
        let ours = try ServerProcess()
        let etcd = try ServerProcess(binary: ReferenceEtcd.binary)
        defer { ours.stop(); ours.removeData(); etcd.stop(); etcd.removeData() }
        try ours.start()
        try etcd.start()
        for path in ["/health", "/health?serializable=true", "/health?exclude=NOSPACE"] {
            let a = try Self.http(ours.clientURL + path), b = try Self.http(etcd.clientURL + path)
            #expect(a.0 == b.0 && a.1 == b.1 && a.2 == b.2, "\(path): ours \(a), etcd \(b)")
        }
        let a = try Self.http(ours.clientURL + "/health", method: "POST"), b = try Self.http(etcd.clientURL + "/health", method: "POST")
        #expect(a.0 == 405 && b.0 == 405 && a.2 == b.2, "ours \(a), etcd \(b)")
        // etcd 3.5.1 predates /livez and /readyz (later 3.5 releases add them with /health's shape).
        for path in ["/livez", "/readyz", "/livez?serializable=true"] {
            let (code, type, body) = try Self.http(ours.clientURL + path)
            #expect(code == 200 && type == "text/plain; charset=utf-8" && body == #"{"health":"true","reason":""}"#, "\(path)")
        }
        let ourTypes = try Self.scrape(ours.clientURL).types, etcdTypes = try Self.scrape(etcd.clientURL).types
        for name in Self.required.keys {
            #expect(ourTypes[name] == etcdTypes[name], "\(name): ours \(ourTypes[name] ?? "-"), etcd \(etcdTypes[name] ?? "-")")
        }
    }

    /// etcd_mvcc_{range,put,delete,txn}_total and etcd_debugging_mvcc_keys_total
    /// (Prometheus dashboards' request rates; etcd's own e2e metrics test
    /// reads them) after the same etcdctl requests to us and to etcd 3.5.1:
    /// puts, a prefix delete, a get, write and read-only txns, a lease revoke
    /// deleting two keys.
    @Test func mvccOperationCountersMatchEtcd351() throws {
        let ours = try ServerProcess()
        let etcd = try ServerProcess(binary: ReferenceEtcd.binary)
        defer { ours.stop(); ours.removeData(); etcd.stop(); etcd.removeData() }
        try ours.start()
        try etcd.start()
        let names = ["etcd_mvcc_range_total", "etcd_mvcc_put_total", "etcd_mvcc_delete_total", "etcd_mvcc_txn_total",
                     "etcd_debugging_mvcc_keys_total"]
        for server in [ours, etcd] {
            let ep = server.endpoint
            for args in [["put", "a", "1"], ["put", "b", "2"], ["get", "a"], ["del", "--prefix", ""]] {
                _ = try etcdctl(ep, args)
            }
            _ = try etcdctl(ep, ["txn"], stdin: "\nput x 1\nput y 2\nget x\n\n")
            _ = try etcdctl(ep, ["txn"], stdin: "\nget x\nget y\n\n")
            _ = try etcdctl(ep, ["txn"], stdin: "\nget x\n\n")
            let grant = try etcdctl(ep, ["lease", "grant", "100"])
            let id = String(grant.stdout.split(separator: " ").dropFirst().first ?? "")
            _ = try etcdctl(ep, ["put", "l1", "v", "--lease", id])
            _ = try etcdctl(ep, ["put", "l2", "v", "--lease", id])
            _ = try etcdctl(ep, ["lease", "revoke", id])
        }
        let a = try Self.scrape(ours.clientURL), b = try Self.scrape(etcd.clientURL)
        for name in names {
            #expect(a.value(name) == b.value(name) && b.value(name) >= 0, "\(name): ours \(a.value(name)), etcd \(b.value(name))")
            #expect(a.types[name] == b.types[name], "\(name) type")
        }
    }
}
