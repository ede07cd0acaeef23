import Foundation
import Proto
import Testing

/// Issue 18's one-request crashes and lost writes, sent as the real requests
/// to the release binary; each expectation is etcd 3.5.1's answer to the
/// same bytes.
@Suite(.serialized) struct HostileRequestTests {
    static func put(_ key: String, _ value: String) -> Etcdserverpb.RequestOp {
        var p = Etcdserverpb.PutRequest()
        p.key = Array(key.utf8)
        p.value = Array(value.utf8)
        var op = Etcdserverpb.RequestOp()
        op.request = .requestPut(p)
        return op
    }

    static func range(_ key: String, end: String = "", limit: Int64 = 0, serializable: Bool = false) -> Etcdserverpb.RangeRequest {
        var r = Etcdserverpb.RangeRequest()
        r.key = Array(key.utf8)
        r.rangeEnd = Array(end.utf8)
        r.limit = limit
        r.serializable = serializable
        return r
    }

    /// `depth` TxnRequests, each the only op of the one around it, the
    /// innermost a Put of `key`; built as bytes (no recursion, any depth).
    static func nestedTxn(depth: Int, key: String) -> [UInt8] {
        func field(_ tag: UInt8, _ body: [UInt8]) -> [UInt8] {
            var out = [tag], n = UInt64(body.count)
            while n >= 0x80 { out.append(UInt8(n & 0x7F) | 0x80); n >>= 7 }
            return out + [UInt8(n)] + body
        }
        let put = field(0x0A, Array(key.utf8)) + field(0x12, Array("v".utf8))
        var txn = field(0x12, field(0x12, put))  // success: [RequestOp{request_put}]
        for _ in 1..<depth { txn = field(0x12, field(0x22, txn)) }  // success: [RequestOp{request_txn}]
        return txn
    }

    func started() throws -> ServerProcess {
        let server = try ServerProcess()
        try server.start()
        return server
    }

    func value(_ server: ServerProcess, _ key: String) throws -> String {
        try etcdctl(server.endpoint, ["get", key, "--print-value-only"]).stdout
    }

    /// 1. `--limit=Int64.max` overflowed `limit + 1`; etcd answers every key.
    @Test func rangeLimitInt64MaxAnswersEveryKey() throws {
        let server = try started()
        defer { server.stop(); server.removeData() }
        for k in ["k1", "k2", "k3"] { _ = try etcdctl(server.endpoint, ["put", k, "v"]) }
        let get = try etcdctl(server.endpoint, ["get", "k", "--prefix", "--keys-only", "--limit=9223372036854775807"])
        #expect(get.exitCode == 0, "\(get.stderr)")
        #expect(get.stdout.split(separator: "\n") == ["k1", "k2", "k3"])
        #expect(try etcdctl(server.endpoint, ["put", "after", "ok"]).exitCode == 0)
    }

    /// 2. The same range inside a write txn trapped while applying the
    /// committed entry, at every restart too. It applies, and replays.
    @Test func writeTxnWithHugeLimitAppliesAndReplays() throws {
        let server = try started()
        defer { server.stop(); server.removeData() }
        var txn = Etcdserverpb.TxnRequest()
        var rangeOp = Etcdserverpb.RequestOp()
        rangeOp.request = .requestRange(Self.range("k", end: "l", limit: .max))
        txn.success = [Self.put("k1", "v1"), rangeOp]
        let r = try RawGRPC.call(port: server.clientPort, path: "/etcdserverpb.KV/Txn", message: txn.serializedBytes())
        #expect(r.grpcStatus == 0, "\(r.output.suffix(500))")
        let response = try Etcdserverpb.TxnResponse(serializedBytes: try #require(r.messages.first))
        guard case .responseRange(let rr)? = response.responses.last?.response else { Issue.record("shape"); return }
        #expect(rr.kvs.map { String(decoding: $0.key, as: UTF8.self) } == ["k1"] && !rr.more)
        server.stop(signal: SIGKILL)
        try server.start()  // replays the entry from the WAL
        #expect(try value(server, "k1") == "v1\n")
        #expect(try etcdctl(server.endpoint, ["put", "k2", "v2"]).exitCode == 0)
    }

    /// 3. `timeout + grace` overflowed for timeouts near Int64 nanoseconds.
    /// `1n` is a deadline already past: etcd 3.5.1 answers DEADLINE_EXCEEDED
    /// to any call, or at random its handler's own answer (OK for a local
    /// read, UNKNOWN "context deadline exceeded" for one that waits); ours is
    /// always DEADLINE_EXCEEDED, and nothing is proposed.
    @Test func extremeGRPCTimeouts() throws {
        let server = try started()
        defer { server.stop(); server.removeData() }
        let port = server.clientPort
        let get = Self.range("k", serializable: true).serializedBytes()
        for timeout in ["2562047H", "2562048H", "99999999H", "99999999S", "99999999n"] {
            let r = try RawGRPC.call(port: port, path: "/etcdserverpb.KV/Range", message: get, headers: [("grpc-timeout", timeout)])
            #expect(r.grpcStatus == 0, "\(timeout): \(r.output.suffix(300))")
        }
        var put = Etcdserverpb.PutRequest()
        put.key = Array("late".utf8)
        put.value = Array("v".utf8)
        let late = try RawGRPC.call(port: port, path: "/etcdserverpb.KV/Put", message: put.serializedBytes(),
                                    headers: [("grpc-timeout", "1n")])
        #expect(late.grpcStatus == 4 && late.grpcMessage == "context deadline exceeded", "\(late.output.suffix(300))")
        let linearizable = try RawGRPC.call(port: port, path: "/etcdserverpb.KV/Range", message: Self.range("k").serializedBytes(),
                                            headers: [("grpc-timeout", "1n")])
        #expect(linearizable.grpcStatus == 4)
        let local = try RawGRPC.call(port: port, path: "/etcdserverpb.KV/Range", message: get, headers: [("grpc-timeout", "-1S")])
        #expect(local.grpcStatus == 4)
        let plus = try RawGRPC.call(port: port, path: "/etcdserverpb.KV/Range", message: get, headers: [("grpc-timeout", "+9S")])
        #expect(plus.grpcStatus == 0)  // Go's ParseInt takes the sign
        #expect(try value(server, "late") == "")  // never proposed
    }

    /// 4. A txn nested 50 deep was committed then skipped (the Raft entry adds
    /// a level): its client waited 7 s and the write was lost. etcd takes
    /// nesting up to --max-txn-ops (each level spends an op) and answers
    /// "too many operations" beyond; so do we, before proposing anything.
    @Test func deepTxnNestingIsAppliedOrRefusedBeforeProposing() throws {
        let server = try started()
        defer { server.stop(); server.removeData() }
        for depth in [50, 128] {
            let r = try RawGRPC.call(port: server.clientPort, path: "/etcdserverpb.KV/Txn",
                                     message: Self.nestedTxn(depth: depth, key: "nk\(depth)"))
            #expect(r.grpcStatus == 0, "depth \(depth): \(r.output.suffix(300))")
            #expect(try value(server, "nk\(depth)") == "v\n", "depth \(depth)")
        }
        for depth in [129, 300, 20_000] {
            let r = try RawGRPC.call(port: server.clientPort, path: "/etcdserverpb.KV/Txn",
                                     message: Self.nestedTxn(depth: depth, key: "nk\(depth)"))
            #expect(r.grpcStatus == 3 && r.grpcMessage == "etcdserver: too many operations in txn request",
                    "depth \(depth): \(r.output.suffix(300))")
            #expect(try value(server, "nk\(depth)") == "")
        }
    }

    /// Overflow review: flag values at the edges of their types start the
    /// member or are refused with a message; they never trap (exit by signal).
    @Test func extremeFlagValuesNeverTrap() throws {
        let cases: [[String]] = [
            ["--max-request-bytes", "18446744073709551615"], ["--max-txn-ops", "18446744073709551615"],
            ["--heartbeat-interval", "4000000000000000000"], ["--election-timeout", "18446744073709551615"],
            ["--auto-compaction-retention", "9223372036854775807"], ["--grpc-keepalive-interval", "9223372036854775807ns"],
            ["--grpc-keepalive-timeout", "2562047h"], ["--experimental-watch-progress-notify-interval", "2562047h"],
            ["--max-wals", "18446744073709551615"], ["--max-snapshots", "18446744073709551615"],
            ["--snapshot-count", "18446744073709551615"], ["--grpc-keepalive-min-time", "-2562047h"],
        ]
        for args in cases {
            let server = try ServerProcess(extraArgs: args)
            defer { server.stop(); server.removeData() }
            do {
                try server.start()
                #expect(try etcdctl(server.endpoint, ["put", "k", "v"]).exitCode == 0, "\(args)")
            } catch {
                let p = try #require(server.process)
                #expect(p.terminationReason == .exit && p.terminationStatus != 0, "\(args): \(server.logTail(bytes: 600))")
            }
        }
    }

    /// 5. An empty peer URL list was accepted as a voter and left a
    /// one-member cluster without a leader for good; malformed URLs too.
    @Test func memberURLsAreValidatedAsEtcd() throws {
        let server = try started()
        defer { server.stop(); server.removeData() }
        let port = server.clientPort
        let bad: [[String]] = [[], [""], ["::::"], ["127.0.0.1:2380"], ["ftp://127.0.0.1:2380"], ["http://127.0.0.1:2380/path"],
                               ["http://[::1"], ["http://127.0.0.1:abc"], ["http://127.0.0.1:%zz"], ["http://127.0.0.1:23\n80"],
                               ["https://a:1", "ftp://b:1"]]
        for urls in bad {
            for learner in [false, true] {
                var add = Etcdserverpb.MemberAddRequest()
                add.peerURLs = urls
                add.isLearner = learner
                let r = try RawGRPC.call(port: port, path: "/etcdserverpb.Cluster/MemberAdd", message: add.serializedBytes())
                #expect(r.grpcStatus == 3 && r.grpcMessage == "etcdserver: given member URLs are invalid", "\(urls): \(r.output.suffix(300))")
            }
        }
        let list = try RawGRPC.call(port: port, path: "/etcdserverpb.Cluster/MemberList", message: [])
        let members = try Etcdserverpb.MemberListResponse(serializedBytes: try #require(list.messages.first)).members
        #expect(members.count == 1)
        var update = Etcdserverpb.MemberUpdateRequest()
        update.id = try #require(members.first).id
        update.peerURLs = []
        let u = try RawGRPC.call(port: port, path: "/etcdserverpb.Cluster/MemberUpdate", message: update.serializedBytes())
        #expect(u.grpcStatus == 3 && u.grpcMessage == "etcdserver: given member URLs are invalid")
        // What etcd accepts is stored as it stores it: trimmed, scheme lower-cased.
        var learner = Etcdserverpb.MemberAddRequest()
        learner.peerURLs = [" HTTP://127.0.0.1:1?q \n"]
        learner.isLearner = true
        let ok = try RawGRPC.call(port: port, path: "/etcdserverpb.Cluster/MemberAdd", message: learner.serializedBytes())
        #expect(ok.grpcStatus == 0, "\(ok.output.suffix(300))")
        let added = try Etcdserverpb.MemberAddResponse(serializedBytes: try #require(ok.messages.first)).member
        #expect(added?.peerURLs == ["http://127.0.0.1:1?q"])
        // Still a leader: writes go through.
        #expect(try etcdctl(server.endpoint, ["put", "still", "up"]).exitCode == 0)
    }
}
