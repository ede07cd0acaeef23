import Foundation
import Testing

/// KV through real clients: Debian's etcdctl and Go's clientv3.
@Suite(.serialized) struct KVClientTests {
    @Test func etcdctlPutGetDeleteTxnCompact() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        let ep = server.endpoint

        let put = try etcdctl(ep, ["put", "foo", "bar"])
        #expect(put.exitCode == 0, "\(put.stderr)")
        #expect(put.stdout == "OK\n")

        let get = try etcdctl(ep, ["get", "foo", "-w", "json"])
        #expect(get.exitCode == 0, "\(get.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(get.stdout.utf8)) as? [String: Any]
        let kvs = try #require(json?["kvs"] as? [[String: Any]])
        #expect(kvs.count == 1)
        // etcdctl's JSON shows bytes as base64.
        #expect(kvs.first?["key"] as? String == Data("foo".utf8).base64EncodedString())
        #expect(kvs.first?["value"] as? String == Data("bar".utf8).base64EncodedString())
        #expect((kvs.first?["version"] as? NSNumber)?.intValue == 1)
        let header = try #require(json?["header"] as? [String: Any])
        let revision = try #require((header["revision"] as? NSNumber)?.int64Value)
        #expect((kvs.first?["mod_revision"] as? NSNumber)?.int64Value == revision)

        _ = try etcdctl(ep, ["put", "foo2", "bar2"])
        let prefix = try etcdctl(ep, ["get", "foo", "--prefix"])
        #expect(prefix.stdout == "foo\nbar\nfoo2\nbar2\n")

        let txn = try etcdctl(ep, ["txn"], stdin: "value(\"foo\") = \"bar\"\n\nput foo baz\n\nput foo nope\n\n")
        #expect(txn.exitCode == 0, "\(txn.stderr)")
        #expect(txn.stdout.hasPrefix("SUCCESS"))
        #expect(try etcdctl(ep, ["get", "foo", "--print-value-only"]).stdout == "baz\n")

        let del = try etcdctl(ep, ["del", "foo", "--prefix"])
        #expect(del.stdout == "2\n")
        #expect(try etcdctl(ep, ["get", "foo", "--prefix"]).stdout == "")

        let compact = try etcdctl(ep, ["compaction", String(revision)])
        #expect(compact.exitCode == 0, "\(compact.stderr)")
        #expect(compact.stdout.contains("compacted revision \(revision)"))
        let old = try etcdctl(ep, ["get", "foo", "--rev", String(revision - 1)])
        #expect(old.exitCode != 0)
        #expect(old.stderr.contains("required revision has been compacted"))
    }

    /// etcd takes keys of any length up to the request limit; LMDB's keys
    /// stop at 511 bytes (IndexKey hashes longer ones). `etcdctl check
    /// datascale` writes 512-byte keys, so this is not an academic case.
    @Test func keysLongerThanLMDBsLimit() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        let ep = server.endpoint
        let prefix = String(repeating: "k", count: 500)
        let keys = ["\(prefix)b", "\(prefix)a" + String(repeating: "z", count: 3000), "\(prefix)a", "\(prefix)"]
        for (i, k) in keys.enumerated() {
            let put = try etcdctl(ep, ["put", k, "v\(i)"])
            #expect(put.exitCode == 0, "\(put.stderr)")
        }
        let all = try etcdctl(ep, ["get", prefix, "--prefix", "--keys-only"])
        #expect(all.stdout.split(separator: "\n").map(String.init) == keys.sorted())
        #expect(try etcdctl(ep, ["get", keys[1], "--print-value-only"]).stdout == "v1\n")
        let del = try etcdctl(ep, ["del", "\(prefix)a", "\(prefix)b"])
        #expect(del.stdout == "2\n")
        #expect(try etcdctl(ep, ["get", prefix, "--prefix", "--keys-only"]).stdout.split(separator: "\n").count == 2)
    }

    @Test func goClientV3() throws {
        let binary = try GoPrograms.binary("kvcheck")
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        let result = try ProcessRunner.run(binary, ["-endpoint", server.endpoint], timeoutSeconds: 60)
        #expect(result.exitCode == 0, "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
        #expect(result.stdout.contains("kvcheck: ok"))
    }

    @Test func acknowledgedWritesSurviveKill9() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        // etcdctl acknowledges each put only after the server answered it.
        var revisions: [String: String] = [:]
        for i in 0..<30 {
            let r = try etcdctl(server.endpoint, ["put", "durable/\(i)", "v\(i)", "-w", "json"])
            #expect(r.exitCode == 0, "\(r.stderr)")
            let h = (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["header"] as? [String: Any]
            revisions["durable/\(i)"] = (h?["revision"] as? NSNumber)?.stringValue
        }
        server.stop(signal: SIGKILL)
        try server.start()
        for i in 0..<30 {
            let r = try etcdctl(server.endpoint, ["get", "durable/\(i)", "-w", "json"])
            let kvs = (try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["kvs"] as? [[String: Any]]
            #expect((kvs?.first?["mod_revision"] as? NSNumber)?.stringValue == revisions["durable/\(i)"], "key durable/\(i)")
        }
    }
}

/// Differential test: the same seeded random requests to swift-etcd and to a
/// real etcd, every response compared field by field.
@Suite(.serialized) struct DifferentialTests {
    @Test(arguments: [1, 2, 3])
    func randomKVWorkloadMatchesEtcd(seed: Int) throws {
        let binary = try GoPrograms.binary("difftest")
        let ours = try ServerProcess()
        let reference = try ServerProcess(binary: ReferenceEtcd.binary)
        defer { ours.stop(); ours.removeData(); reference.stop(); reference.removeData() }
        try ours.start()
        try reference.start()
        let ops = ProcessInfo.processInfo.environment["DIFFTEST_OPS"] ?? "1500"
        let result = try ProcessRunner.run(binary, ["-a", ours.endpoint, "-b", reference.endpoint,
                                                    "-seed", String(seed), "-ops", ops], timeoutSeconds: 300)
        #expect(result.exitCode == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("0 mismatches"))
    }
}

/// Python's etcd3 package runs on grpcio's C-core HTTP/2 stack, which is
/// stricter than Go's about framing and flow control.
@Suite struct PythonClientTests {
    @Test func etcd3OverGrpcioCCore() throws {
        let python = PackagePaths.root.appendingPathComponent(".venv/bin/python").path
        let script = PackagePaths.root.appendingPathComponent("Tests/PythonClients/etcd3_check.py").path
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        let result = try ProcessRunner.run(python, [script, String(server.clientPort)], timeoutSeconds: 90)
        #expect(result.exitCode == 0, "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
        #expect(result.stdout.contains("python etcd3 (grpcio C-core) ok"))
    }

    /// The Python clients' snapshot tests on one server: python-etcd3's and
    /// aetcd's own `test_snapshot` from their sdists (.venv/src,
    /// .venv/aetcd/src), run as they are with pytest (stream a snapshot,
    /// `etcdctl -w json snapshot status` on it: etcd 3.4's etcdctl for
    /// etcd3, 3.5.1's for aetcd), then our check that both etcdctls read the
    /// revision of the last write from it.
    @Test func snapshotTestsOfPythonClients() throws {
        let server = try ServerProcess()
        defer { server.stop(); server.removeData() }
        try server.start()
        let venv = PackagePaths.root.appendingPathComponent(".venv").path
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let ctl35 = (try EtcdTools.etcdctl35 as NSString).deletingLastPathComponent
        let suites = [
            (name: "python-etcd3", python: venv + "/bin/python", dir: venv + "/src/etcd3-0.12.0",
             test: "tests/test_etcd3.py::TestEtcd3::test_snapshot",
             env: ["PYTHON_ETCD_HTTP_URL": "http://\(server.endpoint)", "PATH": "/usr/bin:" + path]),
            (name: "aetcd", python: venv + "/aetcd/bin/python", dir: venv + "/aetcd/src/aetcd-1.0.0",
             test: "tests/integration/test_maintenance.py::test_snapshot",
             env: ["TEST_ETCD_HTTP_URL": "http://\(server.endpoint)", "PATH": ctl35 + ":" + path]),
        ]
        for suite in suites {
            let r = try ProcessRunner.run(suite.python, ["-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-q", suite.test],
                                          environment: suite.env, workingDirectory: suite.dir, timeoutSeconds: 120)
            #expect(r.exitCode == 0 && r.stdout.contains("1 passed"), "\(suite.name): \(r.stdout)\n\(r.stderr)\n\(server.logTail())")
        }
        let script = PackagePaths.root.appendingPathComponent("Tests/PythonClients/etcd3_snapshot.py").path
        let result = try ProcessRunner.run(venv + "/bin/python", [script, String(server.clientPort), try EtcdTools.etcdctl35, EtcdTools.etcdctl34],
                                           timeoutSeconds: 120)
        #expect(result.exitCode == 0, "\(result.stdout)\n\(result.stderr)\n\(server.logTail())")
        #expect(result.stdout.contains("python etcd3 snapshot ok"))
    }
}
