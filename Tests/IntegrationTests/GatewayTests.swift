import Foundation
import Proto
import Testing

/// etcd's gRPC gateway (JSON over HTTP/1.1 on the client port): the same curl
/// requests to swift-etcd and to etcd 3.5.1 must give the same HTTP status and
/// the same JSON, field by field, apart from what differs between any two
/// clusters (IDs, terms, ports, sizes, hashes).
@Suite(.serialized) struct GatewayTests {
    /// One request of a scenario; `ignoring` names JSON keys removed (at any depth) before comparing.
    struct Step {
        var path: String
        var body: String?
        var method = "POST"
        var ignoring: Set<String> = []
    }

    /// Keys that differ between any two clusters.
    static let clusterKeys: Set<String> = ["cluster_id", "member_id", "raft_term"]

    static func step(_ path: String, _ body: String?, ignoring: Set<String> = []) -> Step {
        Step(path: path, body: body, ignoring: ignoring)
    }

    static let steps: [Step] = [
        step("/v3/kv/put", #"{"key":"Zm9v","value":"YmFy"}"#),
        step("/v3/kv/put", #"{"key":"Zm9v","value":"YmF6","prev_kv":true}"#),
        step("/v3/kv/put", #"{"key":"YQ==","value":"MQ=="}"#),
        step("/v3/kv/put", #"{"key":"Yg==","value":"Mg=="}"#),
        step("/v3/kv/put", #"{"key":"Yw==","value":"Mw=="}"#),
        step("/v3/kv/range", #"{"key":"Zm9v"}"#),
        step("/v3/kv/range", #"{"key":"YQ==","range_end":"ZA==","sort_order":"DESCEND","sort_target":"KEY","limit":2}"#),
        step("/v3/kv/range", #"{"key":"AA==","range_end":"AA==","sort_order":1,"sort_target":"MOD","keys_only":true}"#),
        step("/v3/kv/range", #"{"key":"AA==","range_end":"AA==","count_only":true}"#),
        step("/v3/kv/range", #"{"key":"Zm9v","revision":"2"}"#),
        step("/v3/kv/range", #"{"key":"YQ==","range_end":"ZA==","min_mod_revision":"4","max_mod_revision":5}"#),
        step("/v3/kv/deleterange", #"{"key":"Yg==","prev_kv":true}"#),
        step("/v3/kv/deleterange", #"{"key":"bm9uZQ=="}"#),
        // Compare on value; success has a range, a put and a nested txn; failure a delete.
        step("/v3/kv/txn", #"{"compare":[{"key":"Zm9v","result":"EQUAL","target":"VALUE","value":"YmF6"}],"success":[{"request_range":{"key":"Zm9v"}},{"request_put":{"key":"eA==","value":"eQ=="}},{"request_txn":{"compare":[{"key":"eA==","target":"VERSION","result":"GREATER","version":"0"}],"success":[{"request_put":{"key":"eg==","value":"MQ==","prev_kv":true}}]}}],"failure":[{"request_delete_range":{"key":"Zm9v"}}]}"#),
        step("/v3/kv/txn", #"{"compare":[{"key":"Zm9v","result":"GREATER","target":"VERSION","version":"100"}],"success":[{"request_put":{"key":"eA==","value":"eQ=="}}],"failure":[{"request_delete_range":{"key":"YQ==","prev_kv":true}},{"request_range":{"key":"Yw=="}}]}"#),
        step("/v3/kv/compaction", #"{"revision":"4"}"#),
        step("/v3/kv/range", #"{"key":"Zm9v","revision":2}"#),
        step("/v3/kv/range", #"{"key":"Zm9v","revision":1000}"#),
        step("/v3/kv/compaction", #"{"revision":"3"}"#),
        // Request errors.
        step("/v3/kv/range", #"{}"#),
        step("/v3/kv/range", ""),
        step("/v3/kv/put", #"{"value":"YQ=="}"#),
        step("/v3/kv/range", #"{bad"#),
        step("/v3/kv/range", #"[1]"#),
        step("/v3/kv/range", #"{"key":"!!"}"#),
        step("/v3/kv/range", #"{"key":"YQ"}"#),
        step("/v3/kv/range", #"{"key":"a-_="}"#),  // URL-safe base64: etcd refuses it
        step("/v3/kv/txn", #"{"compare":[{"key":"Zm9v","target":9,"result":"EQUAL","version":"7"}]}"#),
        step("/v3/kv/txn", #"{"compare":[{"key":"Zm9v","target":"VERSION","result":7,"version":"7"}]}"#),
        step("/v3/kv/range", #"{"key":"YQ==","sort_order":"BOGUS"}"#),
        step("/v3/kv/range", #"{"key":"YQ==","limit":1.5}"#),
        step("/v3/kv/range", #"{"key":"YQ==","limit":"abc"}"#),
        step("/v3/kv/range", #"{"key":"YQ==","keys_only":"true"}"#),
        step("/v3/kv/range", #"{"key":"YQ==","bogus":{"x":1}} trailing"#),
        step("/v3/kv/put", #"{"key":"YQ==","value":"Yg==","ignore_value":true}"#),
        step("/v3/kv/put", #"{"key":"YQ==","lease":"999"}"#),
        step("/v3/kv/nonexistent", "{}"),
        step("/v3beta/kv/range", #"{"key":"Zm9v"}"#),
        Step(path: "/v3/kv/range", body: nil, method: "GET"),
        // Leases: explicit IDs so both clusters agree on them.
        step("/v3/lease/grant", #"{"ID":4660,"TTL":60}"#),
        step("/v3/lease/grant", #"{"TTL":"30"}"#, ignoring: ["ID"]),
        step("/v3/lease/grant", #"{"ID":4660,"TTL":60}"#),
        step("/v3/kv/put", #"{"key":"bA==","value":"dg==","lease":"4660"}"#),
        step("/v3/lease/timetolive", #"{"ID":"4660","keys":true}"#, ignoring: ["TTL"]),
        step("/v3/kv/lease/timetolive", #"{"ID":4660}"#, ignoring: ["TTL"]),
        step("/v3/lease/leases", "{}", ignoring: ["leases"]),
        step("/v3/kv/range", #"{"key":"bA=="}"#),
        step("/v3/lease/revoke", #"{"ID":"4660"}"#),
        step("/v3/kv/lease/revoke", #"{"ID":"4660"}"#),
        step("/v3/lease/timetolive", #"{"ID":"4660"}"#),
        step("/v3/kv/range", #"{"key":"bA=="}"#),
        // Lock and election with a known lease: the keys they make are the same on both.
        step("/v3/lease/grant", #"{"ID":4661,"TTL":60}"#),
        step("/v3/lock/lock", #"{"name":"bXlsb2Nr","lease":4661}"#),
        step("/v3/lock/unlock", #"{"key":"bXlsb2NrLzEyMzU="}"#),
        step("/v3/election/leader", #"{"name":"ZWxlYw=="}"#),
        step("/v3/election/campaign", #"{"name":"ZWxlYw==","lease":4661,"value":"djE="}"#),
        step("/v3/election/leader", #"{"name":"ZWxlYw=="}"#),
        step("/v3/election/proclaim", #"{"leader":{"name":"ZWxlYw==","key":"ZWxlYy8xMjM1","rev":"27","lease":"4661"},"value":"djI="}"#),
        step("/v3/election/leader", #"{"name":"ZWxlYw=="}"#),
        // Cluster, maintenance, auth.
        step("/v3/cluster/member/list", "{}", ignoring: ["ID", "peerURLs", "clientURLs", "revision"]),
        step("/v3/maintenance/status", "{}", ignoring: ["version", "dbSize", "dbSizeInUse", "leader", "raftIndex",
                                                       "raftAppliedIndex", "raftTerm"]),
        step("/v3/maintenance/hash", "{}", ignoring: ["hash"]),
        step("/v3/maintenance/alarm", "{}"),
        step("/v3/auth/status", "{}"),
        step("/v3/auth/user/list", "{}"),
        step("/v3/auth/authenticate", #"{"name":"root","password":"x"}"#),
        step("/v3/lease/revoke", #"{"ID":123}"#),
        step("/v3/auth/role/get", #"{"role":"x"}"#),
        step("/v3/auth/user/get", #"{"name":"x"}"#),
        step("/v3/auth/enable", "{}"),
        step("/v3/cluster/member/remove", #"{"ID":"12345"}"#),
        step("/v3/cluster/member/promote", #"{"ID":"12345"}"#),
        step("/v3/cluster/member/update", #"{"ID":"12345","peerURLs":["http://127.0.0.1:1"]}"#),
        step("/v3/maintenance/alarm", #"{"action":"GET"}"#),
        step("/v3/maintenance/alarm", #"{"action":"DEACTIVATE","memberID":"1","alarm":"NOSPACE"}"#),
        step("/v3/lock/unlock", #"{"key":"eA=="}"#),
        step("/v3/election/resign", #"{"leader":{"name":"eA==","key":"eA==","rev":"1","lease":"1"}}"#),
        step("/v3/kv/compaction", #"{"revision":"100000"}"#),
        step("/v3/kv/txn", #"{"success":[{"request_put":{"key":"YQ==","value":"Yg=="}},{"request_put":{"key":"YQ==","value":"Yg=="}}]}"#),
        step("/v3/kv/txn", #"{}"#),
    ]

    @Test func unaryRequestsAnswerAsEtcd() throws {
        let ours = try ServerProcess()
        let reference = try ServerProcess(binary: ReferenceEtcd.binary)
        defer { ours.stop(); ours.removeData(); reference.stop(); reference.removeData() }
        try ours.start()
        try reference.start()
        for step in Self.steps {
            let a = try Self.send(ours.endpoint, step)
            let b = try Self.send(reference.endpoint, step)
            let what = "\(step.method) \(step.path) \(step.body ?? "")\n  ours: \(a.status) \(a.body)\n  etcd: \(b.status) \(b.body)"
            #expect(a.status == b.status, "\(what)")
            #expect(Self.normalized(a.body, step.ignoring) == Self.normalized(b.body, step.ignoring), "\(what)")
        }
    }

    @Test func watchAndKeepAliveStreamAsEtcd() throws {
        let ours = try ServerProcess()
        let reference = try ServerProcess(binary: ReferenceEtcd.binary)
        defer { ours.stop(); ours.removeData(); reference.stop(); reference.removeData() }
        try ours.start()
        try reference.start()
        var streams: [[String]] = []
        for server in [ours, reference] {
            let ep = server.endpoint
            _ = try Self.send(ep, Self.step("/v3/kv/put", #"{"key":"dy9h","value":"MA=="}"#))
            let watch = #"{"create_request":{"key":"dy8=","range_end":"dzA=","prev_kv":true}}"#
            let history = #"{"create_request":{"key":"dy9h","start_revision":"1","watch_id":"7"}}"#
            // Ready: both watches created and watch 7 delivered its history
            // (etcd sends it apart only when it comes before the writes).
            // Done: both watches saw the final delete of w/a.
            let lines = try Self.streamed(ep, "/v3/watch", watch + "\n" + history, ready: { out in
                let answers = out.split(separator: "\n").map { Self.normalized(String($0), []) }
                return answers.filter { $0.contains("created:true") }.count == 2
                    && answers.contains { $0.contains("watch_id:\"7\",events:") }
            }, done: { Self.count("\"DELETE\"", in: $0) == 2 }) {
                _ = try Self.send(ep, Self.step("/v3/kv/put", #"{"key":"dy9h","value":"MQ=="}"#))
                _ = try Self.send(ep, Self.step("/v3/kv/put", #"{"key":"eA==","value":"MQ=="}"#))
                _ = try Self.send(ep, Self.step("/v3/kv/put", #"{"key":"dy9i","value":"Mg=="}"#))
                _ = try Self.send(ep, Self.step("/v3/kv/deleterange", #"{"key":"dy9h"}"#))
            }
            _ = try Self.send(ep, Self.step("/v3/lease/grant", #"{"ID":4662,"TTL":60}"#))
            let keepAlive = try Self.send(ep, Self.step("/v3/lease/keepalive", #"{"ID":4662}{"ID":"4662"}"#))
            let unknown = try Self.send(ep, Self.step("/v3/lease/keepalive", #"{"ID":99}"#))
            let badWatch = try Self.send(ep, Self.step("/v3/watch", #"{bad"#))
            streams.append(lines + keepAlive.body.split(separator: "\n").map(String.init)
                           + unknown.body.split(separator: "\n").map(String.init)
                           + ["\(badWatch.status) \(badWatch.body)"])
        }
        // Watchers of one stream are ordered per watcher only (etcd's order between two
        // watchers at the same revision is not fixed): compare watch 7's lines apart.
        func perWatcher(_ lines: [String]) -> [String] {
            let normalized = lines.map { Self.normalized($0, []) }
            let seven = normalized.filter { $0.contains("watch_id:\"7\"") }
            return seven + normalized.filter { !$0.contains("watch_id:\"7\"") }
        }
        let (a, b) = (perWatcher(streams[0]), perWatcher(streams[1]))
        // Created (twice), the history event of watch 7, three events on w/ and two on w/a
        // interleaved, 2 + 1 keepalive answers, the error.
        #expect(b.count == 12, "\(streams[1])")
        #expect(a == b, "\nours: \(streams[0].joined(separator: "\n"))\netcd: \(streams[1].joined(separator: "\n"))")
    }

    /// Bodies near the request limits: accepted, etcd's "request is too large", grpc-go's receive limit (429).
    @Test func largeRequestsAnswerAsEtcd() throws {
        let ours = try ServerProcess()
        let reference = try ServerProcess(binary: ReferenceEtcd.binary)
        defer { ours.stop(); ours.removeData(); reference.stop(); reference.removeData() }
        try ours.start()
        try reference.start()
        let file = NSTemporaryDirectory() + "gateway-big-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: file) }
        for size in [1_500_000, 1_700_000, 2_200_000] {
            let value = Data(repeating: UInt8(ascii: "x"), count: size).base64EncodedString()
            try Data("{\"key\":\"YQ==\",\"value\":\"\(value)\"}".utf8).write(to: URL(fileURLWithPath: file))
            let step = Self.step("/v3/kv/put", "@" + file)
            let (a, b) = (try Self.send(ours.endpoint, step), try Self.send(reference.endpoint, step))
            #expect(a.status == b.status, "\(size): ours \(a.status) \(a.body.prefix(200)), etcd \(b.status) \(b.body.prefix(200))")
            #expect(Self.normalized(a.body, []) == Self.normalized(b.body, []), "\(size)")
        }
    }

    // MARK: helpers

    struct Answer {
        var status: Int
        var body: String
    }

    static func send(_ endpoint: String, _ step: Step) throws -> Answer {
        var args = ["-s", "-X", step.method, "-o", "-", "-w", "\n%{http_code}", "http://\(endpoint)\(step.path)"]
        if let body = step.body { args += ["--data-binary", body] }
        let result = try ProcessRunner.run("curl", args, timeoutSeconds: 20)
        var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.popLast() ?? "") ?? -1
        return Answer(status: status, body: lines.joined(separator: "\n"))
    }

    /// POSTs `body` with `curl --no-buffer`, runs `during` once the answers
    /// so far satisfy `ready` (the watches are created: a fixed sleep lost
    /// events on a loaded machine), and stops curl once they satisfy `done`
    /// (or after 90 s, which only bounds a hang); returns the non-empty lines received.
    static func streamed(_ endpoint: String, _ path: String, _ body: String,
                         ready: (String) -> Bool, done: (String) -> Bool,
                         during: () throws -> Void) throws -> [String] {
        let curl = try ProcessRunner.start("curl", ["-s", "-N", "-X", "POST", "http://\(endpoint)\(path)", "--data-binary", body])
        curl.waitForOutput(ready)
        try during()
        return curl.finish(when: done).stdout.split(separator: "\n").map(String.init)
    }

    /// How often `needle` occurs in `text`.
    static func count(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// The JSON with `ignoring` and the cluster keys removed, re-serialised; non-JSON text as is.
    static func normalized(_ body: String, _ ignoring: Set<String>) -> String {
        guard let value = try? JSONValue.parse(body) else { return body }
        return describe(strip(value, ignoring.union(clusterKeys)))
    }

    static func strip(_ value: JSONValue, _ keys: Set<String>) -> JSONValue {
        switch value {
        case .object(let members):
            return .object(members.filter { !keys.contains($0.key) }.map { JSONMember($0.key, strip($0.value, keys)) })
        case .array(let items):
            return .array(items.map { strip($0, keys) })
        default:
            return value
        }
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return String(b)
        case .number(let n): return n
        case .string(let s): return "\"\(s)\""
        case .array(let items): return "[" + items.map(describe).joined(separator: ",") + "]"
        case .object(let members): return "{" + members.map { "\($0.key):\(describe($0.value))" }.joined(separator: ",") + "}"
        }
    }
}

