import Foundation
import Testing

/// The log an operator reads (issue 19): etcd 3.5's lifecycle `msg` texts,
/// Raft's decisions worded as etcd's raft logger words them, fields typed
/// as zap types them; `--log-format console`; `--log-level dpanic`.
/// Checked side by side with the reference etcd 3.5.1's own log.
@Suite("Logging", .serialized)
struct LoggingTests {
    static let lifecycle = [
        "starting an etcd server", "opened backend db", "kvstore restored", "starting local member", "added member",
        "published local member to cluster through raft", "set initial cluster version", "cluster version is updated",
        "enabled capabilities for version", "ready to serve client requests",
        "serving client traffic insecurely; this is strongly discouraged!", "received signal; shutting down",
        "skipped leadership transfer for single voting member cluster", "closed etcd server",
        "serving peer traffic", "now serving peer/client/metrics", "closing etcd server",
        "stopping serving peer traffic", "stopped serving peer traffic",
    ]

    /// Fields of etcd 3.5.1's lines we leave out, and why.
    static let fieldsNotLogged: Set<String> = [
        "go-version",  // the compiler is Swift's: "swift-version" says which
        "downgrade-check-interval",  // no downgrade monitor (--experimental-downgrade-check-time refuses other values)
    ]

    /// JSON log lines of a member started, written to and stopped with SIGTERM.
    static func lines(binary: String? = nil, extraArgs: [String] = []) throws -> (lines: [[String: Any]], memberID: String) {
        let server = try ServerProcess(binary: binary, extraArgs: extraArgs)
        try server.start()
        defer { server.stop(); server.removeData() }
        var ready = false
        let deadline = Date().addingTimeInterval(60)
        while !ready && Date() < deadline {
            ready = (try? etcdctl(server.endpoint, ["put", "k", "v"]).exitCode) == 0
            if !ready { usleep(100_000) }
        }
        let status = try etcdctl(server.endpoint, ["endpoint", "status", "-w", "json"])
        let list = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [[String: Any]]
        let header = (list?.first?["Status"] as? [String: Any])?["header"] as? [String: Any]
        let id = String((header?["member_id"] as? NSNumber)?.uint64Value ?? 0, radix: 16)
        // The cluster version lines come from the leader's version update, which may apply after the put.
        eventually {
            let log = server.log
            return log.contains("\"msg\":\"cluster version is updated\"") && log.contains("\"msg\":\"enabled capabilities for version\"")
        }
        server.stopTimed(signal: SIGTERM)
        let parsed = server.log.split(separator: "\n").compactMap { raw -> [String: Any]? in
            guard var line = try? JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any] else { return nil }
            line["_raw"] = String(raw)
            return line
        }
        return (parsed, id)
    }

    static func line(_ lines: [[String: Any]], _ msg: String) -> [String: Any]? {
        lines.first { $0["msg"] as? String == msg }
    }

    /// JSON type of a field as written in the raw line (`"key":` then the value's first character).
    static func kind(_ key: String, in line: [String: Any]) -> String {
        guard let raw = line["_raw"] as? String, let r = raw.range(of: "\"\(key)\":") else { return "absent" }
        switch raw[r.upperBound...].first {
        case "\"": return "string"
        case "[": return "array"
        case "{": return "object"
        case "t", "f": return "bool"
        default: return "number"
        }
    }

    @Test func lifecycleAndRaftLinesAreEtcds() throws {
        let reference = try Self.lines(binary: ReferenceEtcd.binary)
        let ours = try Self.lines()
        let referenceMsgs = Set(reference.lines.compactMap { $0["msg"] as? String })
        let ourMsgs = Set(ours.lines.compactMap { $0["msg"] as? String })
        for msg in Self.lifecycle {
            #expect(referenceMsgs.contains(msg), "etcd 3.5.1 does not log \"\(msg)\"")
            #expect(ourMsgs.contains(msg), "we do not log \"\(msg)\"")
        }
        // Raft's decisions, as etcd's raft logger words them, under logger "raft".
        let id = ours.memberID
        for msg in ["\(id) became pre-candidate at term 1", "\(id) became candidate at term 2",
                    "\(id) became leader at term 2", "raft.node: \(id) elected leader \(id) at term 2"] {
            let line = Self.line(ours.lines, msg)
            #expect(line?["logger"] as? String == "raft", "missing raft line \"\(msg)\"")
        }
        let refID = reference.memberID
        #expect(Self.line(reference.lines, "raft.node: \(refID) elected leader \(refID) at term 2") != nil)

        // Fields typed as zap types them: each field both logs carry has the same JSON type.
        for msg in ["starting an etcd server", "now serving peer/client/metrics", "opened backend db", "kvstore restored", "added member",
                    "published local member to cluster through raft", "closed etcd server"] {
            guard let mine = Self.line(ours.lines, msg), let theirs = Self.line(reference.lines, msg) else { continue }
            for key in mine.keys where theirs[key] != nil && !["ts", "caller", "_raw"].contains(key) {
                let (a, b) = (Self.kind(key, in: mine), Self.kind(key, in: theirs))
                #expect(a == b, "\(msg): \(key) is \(a), etcd's \(b)")
            }
        }
        // Every field etcd's start-up lines carry, but the ones we say we leave out.
        for msg in ["starting an etcd server", "now serving peer/client/metrics", "serving peer traffic",
                    "stopping serving peer traffic", "closing etcd server"] {
            let mine = Self.line(ours.lines, msg), theirs = Self.line(reference.lines, msg)
            for key in theirs?.keys.sorted() ?? [] where !Self.fieldsNotLogged.contains(key) {
                #expect(mine?[key] != nil, "\(msg): no \"\(key)\" field")
            }
        }
        let starting = Self.line(ours.lines, "starting an etcd server")
        #expect(starting?["cors"] as? [String] == ["*"])
        #expect(starting?["auto-compaction-retention"] as? String == "0s")
        #expect(starting?["go-os"] as? String == Self.line(reference.lines, "starting an etcd server")?["go-os"] as? String)
        #expect(starting?["heartbeat-interval"] as? String == "100ms")
        #expect(starting?["election-timeout"] as? String == "1s")
        #expect(starting.map { Self.kind("member-initialized", in: $0) } == "bool")
        let took = Self.line(ours.lines, "opened backend db")?["took"] as? String ?? ""
        #expect(took.range(of: #"^[0-9.]+(ns|µs|ms|s)$"#, options: .regularExpression) != nil, "took: \(took)")
        #expect(Self.line(ours.lines, "kvstore restored")?["current-rev"] as? Int == 1)
    }

    /// etcd's membership lines: an add is "added member", a MemberUpdate
    /// "updated member" with the new URLs (not another "added member").
    @Test func memberUpdateIsLoggedAsAnUpdate() throws {
        let server = try ServerProcess()
        try server.start()
        defer { server.stop(); server.removeData() }
        let learnerURL = "http://127.0.0.1:\(freePort())", movedURL = "http://127.0.0.1:\(freePort())"
        var added = try etcdctl(server.endpoint, ["member", "add", "spare", "--learner", "--peer-urls", learnerURL])
        for _ in 0..<100 where added.exitCode != 0 {  // until the member serves
            usleep(100_000)
            added = try etcdctl(server.endpoint, ["member", "add", "spare", "--learner", "--peer-urls", learnerURL])
        }
        #expect(added.exitCode == 0, "\(added.stderr)")
        let hexID = added.stdout.split(separator: " ").dropFirst(1).first.map(String.init) ?? ""
        let update = try etcdctl(server.endpoint, ["member", "update", hexID, "--peer-urls", movedURL])
        #expect(update.exitCode == 0, "\(update.stderr)")
        server.stopTimed(signal: SIGTERM)
        let lines = server.log.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let adds = lines.filter { $0["msg"] as? String == "added member" && $0["added-peer-id"] as? String == hexID }
        #expect(adds.count == 1)
        let updated = Self.line(lines, "updated member")
        #expect(updated?["updated-remote-peer-id"] as? String == hexID)
        #expect(updated?["updated-remote-peer-urls"] as? [String] == [movedURL])
    }

    @Test func preVoteFlagDecidesThePreCandidatePhase() throws {
        let off = try Self.lines(extraArgs: ["--pre-vote=false"])
        #expect(off.lines.contains { ($0["msg"] as? String)?.hasSuffix("became leader at term 2") == true })
        #expect(!off.lines.contains { ($0["msg"] as? String)?.contains("pre-candidate") == true })
        let on = try Self.lines(extraArgs: ["--pre-vote=true"])
        #expect(on.lines.contains { ($0["msg"] as? String)?.hasSuffix("became pre-candidate at term 1") == true })
    }

    @Test func consoleFormatIsZapsConsoleLayout() throws {
        let server = try ServerProcess(extraArgs: ["--log-format", "console"])
        try server.start()
        defer { server.stop(); server.removeData() }
        _ = try etcdctl(server.endpoint, ["put", "k", "v"])
        server.stopTimed(signal: SIGTERM)
        let lines = server.log.split(separator: "\n").map(String.init)
        #expect(!lines.isEmpty && lines.allSatisfy { !$0.hasPrefix("{") }, "\(lines.prefix(3))")
        let restored = lines.first { $0.contains("\tkvstore restored\t") }
        #expect(restored?.contains("\tinfo\t") == true && restored?.hasSuffix("{\"current-rev\": 1}") == true,
                "\(restored ?? "no kvstore restored line")")
        let raft = lines.first { $0.contains("became leader at term") }
        #expect(raft?.contains("\tinfo\traft\t") == true, "\(raft ?? "no raft line")")
        #expect(lines.contains { $0.hasSuffix("\tready to serve client requests") })
    }

    @Test func dpanicLevelKeepsOnlyFatalLines() throws {
        let server = try ServerProcess(extraArgs: ["--log-level", "dpanic"])
        try server.start()
        defer { server.stop(); server.removeData() }
        let put = try etcdctl(server.endpoint, ["put", "k", "v"])
        #expect(put.exitCode == 0, "\(put.stderr)")
        server.stopTimed(signal: SIGTERM)
        #expect(server.log.isEmpty, "\(server.logTail())")
    }
}
