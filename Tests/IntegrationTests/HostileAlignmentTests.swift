import Foundation
import Proto
import Testing
import TestSupport

/// Smaller differences issue 18 found (item 8): the same raw gRPC requests
/// to swift-etcd and to etcd 3.5.1, compared answer by answer.
@Suite(.serialized) struct HostileAlignmentTests {
    func bothServers(_ body: (_ servers: [ServerProcess]) throws -> Void) throws {
        let ours = try ServerProcess()
        let etcd = try ServerProcess(binary: ReferenceEtcd.binary)
        defer { ours.stop(); ours.removeData(); etcd.stop(); etcd.removeData() }
        try ours.start()
        try etcd.start()
        try body([ours, etcd])
    }

    /// etcd's compare falls through its switches on an enum value it does
    /// not know: an unknown target compares as equal, an unknown result is true.
    @Test func unknownCompareEnums() throws {
        try bothServers { servers in
            var answers: [[Bool?]] = []
            for server in servers {
                _ = try etcdctl(server.endpoint, ["put", "a", "1"])
                var row: [Bool?] = []
                for (target, result) in [(9, 0), (9, 1), (9, 2), (9, 3), (0, 7), (3, -4), (-1, 0)] {
                    var c = Etcdserverpb.Compare()
                    c.key = Array("a".utf8)
                    c.target = .init(rawValue: Int32(target))
                    c.result = .init(rawValue: Int32(result))
                    c.targetUnion = .version(5)
                    var txn = Etcdserverpb.TxnRequest()
                    txn.compare = [c]
                    let r = try RawGRPC.call(port: server.clientPort, path: "/etcdserverpb.KV/Txn", message: txn.serializedBytes())
                    row.append(try r.messages.first.map { try Etcdserverpb.TxnResponse(serializedBytes: $0).succeeded })
                }
                answers.append(row)
            }
            #expect(answers[0] == answers[1], "ours \(answers[0]), etcd \(answers[1])")
            #expect(answers[0] == [true, false, false, false, true, true, true])
        }
    }

    /// A progress request on a stream without watchers: etcd 3.5.1 answers
    /// with watch_id -1 at the current revision.
    @Test func progressRequestWithoutWatchers() throws {
        try bothServers { servers in
            var request = Etcdserverpb.WatchRequest()
            request.requestUnion = .progressRequest(Etcdserverpb.WatchProgressRequest())
            for server in servers {
                let r = try RawGRPC.call(port: server.clientPort, path: "/etcdserverpb.Watch/Watch",
                                         message: request.serializedBytes(), timeoutSeconds: 6)
                let first = try Etcdserverpb.WatchResponse(serializedBytes: try #require(r.messages.first, "\(r.output.suffix(300))"))
                #expect(first.watchID == -1 && first.header?.revision == 1)
            }
        }
    }

    /// A Watch call whose client half-closes right after its create request
    /// (nghttp -d, grpcurl -d) keeps watching, as etcd's: its recvLoop
    /// ends at EOF without ending the call. Ours used to end the call at
    /// once, with the created answer and no event.
    @Test func watchGoesOnAfterTheClientHalfCloses() throws {
        try bothServers { servers in
            var request = Etcdserverpb.WatchRequest()
            var create = Etcdserverpb.WatchCreateRequest()
            create.key = Array("half".utf8)
            request.requestUnion = .createRequest(create)
            for server in servers {
                let stop = ThreadFlag()
                let writer = Thread {
                    var n = 0
                    while !stop.isSet {
                        n += 1
                        _ = try? etcdctl(server.endpoint, ["put", "half", "\(n)"])
                        usleep(200_000)
                    }
                }
                writer.start()
                let r = try RawGRPC.call(port: server.clientPort, path: "/etcdserverpb.Watch/Watch",
                                         message: request.serializedBytes(), timeoutSeconds: 6)
                stop.set()
                while !writer.isFinished { usleep(10_000) }
                let answers = try r.messages.map { try Etcdserverpb.WatchResponse(serializedBytes: $0) }
                #expect(answers.first?.created == true, "\(r.output.suffix(300))")
                #expect(answers.contains { $0.events.contains { $0.kv?.key == Array("half".utf8) } },
                        "\(server.clientPort): \(answers.count) answers, status \(String(describing: r.grpcStatus))")
            }
        }
    }

    /// etcd's grpc-go has gzip registered: compressed requests work; a
    /// compressed flag without an encoding and unknown encodings do not.
    @Test func gzipRequests() throws {
        var put = Etcdserverpb.PutRequest()
        put.key = Array("gz".utf8)
        put.value = Array(repeating: UInt8(ascii: "z"), count: 1000)
        let compressed = try Self.gzip(put.serializedBytes())
        try bothServers { servers in
            for server in servers {
                let port = server.clientPort
                let ok = try RawGRPC.call(port: port, path: "/etcdserverpb.KV/Put", message: compressed,
                                          headers: [("grpc-encoding", "gzip")], compressed: true)
                #expect(ok.grpcStatus == 0, "\(ok.output.suffix(300))")
                #expect(try etcdctl(server.endpoint, ["get", "gz", "--print-value-only"]).stdout.count == 1001)
                let flagOnly = try RawGRPC.call(port: port, path: "/etcdserverpb.KV/Put", message: compressed, compressed: true)
                #expect(flagOnly.grpcStatus == 13 && flagOnly.grpcMessage == "grpc: compressed flag set with identity or empty encoding")
                let deflate = try RawGRPC.call(port: port, path: "/etcdserverpb.KV/Put", message: put.serializedBytes(),
                                               headers: [("grpc-encoding", "deflate")])
                #expect(deflate.grpcStatus == 12 && deflate.grpcMessage == #"grpc: Decompressor is not installed for grpc-encoding "deflate""#)
                let garbage = try RawGRPC.call(port: port, path: "/etcdserverpb.KV/Put", message: Array("notgzip".utf8),
                                               headers: [("grpc-encoding", "gzip")], compressed: true)
                #expect(garbage.grpcStatus == 13 && garbage.grpcMessage == "grpc: failed to decompress the received message unexpected EOF")
            }
        }
    }

    /// gzip(1) from Debian, the format grpc's gzip codec speaks.
    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let file = NSTemporaryDirectory() + "hostile-gzip-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: file, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try ProcessRunner.resolve("gzip"))
        process.arguments = ["-c", file]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return [UInt8](data)
    }
}
