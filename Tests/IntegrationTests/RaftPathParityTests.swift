import Foundation
import Testing

/// Which requests go through Raft. Each one that does takes a Raft index:
/// `endpoint status`'s raftIndex and, in a snapshot, the consistent index
/// that `snapshot status`'s hash covers, so the same requests must move it
/// alike on swift-etcd and on etcd 3.5.1.
@Suite(.serialized) struct RaftPathParityTests {
    static let txns: [(name: String, body: String)] = [
        ("ranges only", #"{"success":[{"request_range":{"key":"YQ=="}}],"failure":[{"request_range":{"key":"Yg==","serializable":true}}]}"#),
        ("compares only", #"{"compare":[{"key":"YQ==","target":"VERSION","result":"EQUAL","version":"1"}]}"#),
        ("serializable ranges", #"{"success":[{"request_range":{"key":"YQ==","serializable":true}}]}"#),
        ("nested txn of ranges", #"{"success":[{"request_txn":{"success":[{"request_range":{"key":"YQ=="}}]}}]}"#),
        ("nested serializable txn", #"{"success":[{"request_range":{"key":"YQ==","serializable":true}},{"request_txn":{"failure":[{"request_range":{"key":"YQ==","serializable":true}}]}}]}"#),
        ("nested txn, failure branch", #"{"compare":[{"key":"YQ==","target":"VERSION","result":"GREATER","version":"5"}],"failure":[{"request_txn":{"compare":[{"key":"Yg==","target":"CREATE","result":"LESS","create_revision":"9"}]}}]}"#),
        ("nested txn with a put", #"{"success":[{"request_txn":{"success":[{"request_put":{"key":"Yg==","value":"Mg=="}}]}}]}"#),
        ("nested txn at a compacted revision", #"{"success":[{"request_txn":{"success":[{"request_range":{"key":"YQ==","revision":"1"}}]}}]}"#),
    ]

    /// etcd serves a txn without Raft only when every op of both branches is
    /// a Range (`isTxnReadonly`): one holding a nested txn goes through Raft
    /// even when it writes nothing (swift-etcd served it locally).
    @Test func nestedTxnsTakeARaftIndexAsInEtcd() throws {
        let (ours, reference) = try Self.startPair()
        defer { Self.stop(ours, reference) }
        for server in [ours, reference] {
            for body in [#"{"key":"YQ==","value":"MQ=="}"#, #"{"key":"YQ==","value":"MQ=="}"#] {
                _ = try GatewayTests.send(server.endpoint, GatewayTests.step("/v3/kv/put", body))
            }
            _ = try GatewayTests.send(server.endpoint, GatewayTests.step("/v3/kv/compaction", #"{"revision":"2"}"#))
        }
        for txn in Self.txns {
            let before = (try Self.raftIndex(ours), try Self.raftIndex(reference))
            let step = GatewayTests.step("/v3/kv/txn", txn.body)
            let a = try GatewayTests.send(ours.endpoint, step)
            let b = try GatewayTests.send(reference.endpoint, step)
            let after = (try Self.raftIndex(ours), try Self.raftIndex(reference))
            let what = "\(txn.name)\n  ours: \(a.status) \(a.body)\n  etcd: \(b.status) \(b.body)"
            #expect(a.status == b.status, "\(what)")
            #expect(GatewayTests.normalized(a.body, []) == GatewayTests.normalized(b.body, []), "\(what)")
            #expect(after.0 - before.0 == after.1 - before.1,
                    "\(txn.name): the Raft index moved by \(after.0 - before.0) on swift-etcd, \(after.1 - before.1) on etcd")
        }
    }

    /// etcd 3.5 answers AuthStatus through Raft, as the other auth reads
    /// (swift-etcd answered it locally after a ReadIndex).
    @Test func authReadsTakeARaftIndexAsInEtcd() throws {
        let (ours, reference) = try Self.startPair()
        defer { Self.stop(ours, reference) }
        let steps: [[String]] = [
            ["user", "add", "root", "--new-user-password=rootpw"], ["role", "add", "root"],
            ["user", "grant-role", "root", "root"], ["user", "add", "alice", "--new-user-password=pa"],
            ["auth", "status"], ["user", "list"], ["user", "get", "alice"], ["role", "list"], ["role", "get", "root"],
            ["auth", "enable"], ["--user", "root:rootpw", "auth", "status"], ["--user", "alice:pa", "auth", "status"],
            ["--user", "root:rootpw", "role", "list"], ["--user", "root:rootpw", "auth", "disable"], ["auth", "status"],
        ]
        for step in steps {
            let before = (try Self.raftIndex(ours), try Self.raftIndex(reference))
            let a = try EtcdTools.ctl(ours.endpoint, step)
            let b = try EtcdTools.ctl(reference.endpoint, step)
            let after = (try Self.raftIndex(ours), try Self.raftIndex(reference))
            let what = step.joined(separator: " ")
            #expect(a.exitCode == b.exitCode && Self.lastLine(a.stdout + a.stderr) == Self.lastLine(b.stdout + b.stderr),
                    "\(what)\n  ours: \(a.stdout)\(a.stderr)\n  etcd: \(b.stdout)\(b.stderr)")
            #expect(after.0 - before.0 == after.1 - before.1,
                    "\(what): the Raft index moved by \(after.0 - before.0) on swift-etcd, \(after.1 - before.1) on etcd")
        }
    }

    /// swift-etcd and etcd 3.5.1, each one member on a fresh data dir, once
    /// each has made the entries it makes by itself at start.
    static func startPair() throws -> (ServerProcess, ServerProcess) {
        let ours = try ServerProcess()
        let reference = try ServerProcess(binary: ReferenceEtcd.binary)
        do {
            try ours.start()
            try reference.start()
            // A fresh member's log ends at 4 once its leader set the cluster
            // version (an entry each makes on its own schedule).
            for server in [ours, reference] {
                guard eventually({ ((try? raftIndex(server)) ?? 0) >= 4 }) else {
                    throw TestSetupError("\(server.logPath): the log never reached index 4")
                }
            }
        } catch {
            stop(ours, reference)
            throw error
        }
        return (ours, reference)
    }

    static func stop(_ servers: ServerProcess...) {
        for server in servers {
            server.stop()
            server.removeData()
        }
    }

    static func lastLine(_ text: String) -> String {
        text.split(separator: "\n").last.map(String.init) ?? ""
    }

    /// `Maintenance.Status`'s raftIndex through the gateway.
    static func raftIndex(_ server: ServerProcess) throws -> Int {
        let answer = try GatewayTests.send(server.endpoint, GatewayTests.step("/v3/maintenance/status", "{}"))
        let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
        guard let text = json?["raftIndex"] as? String, let index = Int(text) else {
            throw TestSetupError("no raftIndex in \(answer.status) \(answer.body)")
        }
        return index
    }
}
