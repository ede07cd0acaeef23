import Foundation
import Testing

/// The effect of flags no other suite shows end to end (see
/// `FlagEffectRegistry` in ServerTests for where each flag is shown).
@Suite("Flag behaviour", .serialized)
struct FlagBehaviourTests {
    /// `--max-txn-ops`: a transaction with more operations is refused with etcd's error.
    @Test func maxTxnOpsLimitsOperationsPerTxn() throws {
        let server = try ServerProcess(extraArgs: ["--max-txn-ops", "2"])
        try server.start()
        defer { server.stop(); server.removeData() }
        let two = try etcdctl(server.endpoint, ["txn"], stdin: "\nput a 1\nput b 2\n\n\n")
        #expect(two.exitCode == 0, "\(two.stderr)")
        let three = try etcdctl(server.endpoint, ["txn"], stdin: "\nput a 1\nput b 2\nput c 3\n\n\n")
        #expect(three.stderr.contains("etcdserver: too many operations in txn request"), "\(three.stdout) \(three.stderr)")
    }

    /// `--max-request-bytes`: a larger request gets etcd's "request is too large".
    @Test func maxRequestBytesRefusesLargerRequests() throws {
        let server = try ServerProcess(extraArgs: ["--max-request-bytes", "1024"])
        try server.start()
        defer { server.stop(); server.removeData() }
        #expect(try etcdctl(server.endpoint, ["put", "small", "v"]).exitCode == 0)
        let big = try etcdctl(server.endpoint, ["put", "big", String(repeating: "z", count: 2048)])
        #expect(big.stderr.contains("etcdserver: request is too large"), "\(big.stderr)")
    }

    /// The largest put under `--max-request-bytes` is etcd's: etcd measures
    /// the Raft entry without the ID field ours also carries. The two
    /// members' IDs (so their request IDs' varints) may differ by a byte.
    @Test func maxRequestBytesBoundaryIsEtcds() throws {
        func largestValue(_ binary: String?) throws -> Int {
            let server = try ServerProcess(binary: binary, extraArgs: ["--max-request-bytes", "1024"])
            try server.start()
            defer { server.stop(); server.removeData() }
            var (fits, tooLarge) = (0, 1024)
            while tooLarge - fits > 1 {
                let size = (fits + tooLarge) / 2
                let r = try etcdctl(server.endpoint, ["put", "k", String(repeating: "v", count: size)])
                if r.exitCode == 0 {
                    fits = size
                } else {
                    #expect(r.stderr.contains("etcdserver: request is too large"), "\(r.stderr)")
                    tooLarge = size
                }
            }
            return fits
        }
        let ours = try largestValue(nil)
        let etcd = try largestValue(ReferenceEtcd.binary)
        #expect(abs(ours - etcd) <= 1, "largest value: ours \(ours), etcd 3.5.1 \(etcd)")
    }

    /// `--enable-grpc-gateway=false`: the JSON gateway on /v3/ is off; on by default.
    @Test func grpcGatewayCanBeTurnedOff() throws {
        for enabled in [true, false] {
            let server = try ServerProcess(extraArgs: ["--enable-grpc-gateway=\(enabled)"])
            try server.start()
            defer { server.stop(); server.removeData() }
            let r = try ProcessRunner.run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                                                   "-d", #"{"key":"Zm9v"}"#, server.clientURL + "/v3/kv/range"])
            #expect((r.stdout == "200") == enabled, "gateway \(enabled): HTTP \(r.stdout)")
        }
    }

    /// `--log-outputs FILE`: the log goes to the file, not to stderr.
    @Test func logOutputsWriteToTheNamedFile() throws {
        let file = NSTemporaryDirectory() + "swift-etcd-log-\(UUID().uuidString.prefix(8)).log"
        defer { try? FileManager.default.removeItem(atPath: file) }
        let server = try ServerProcess(extraArgs: ["--log-outputs", file])
        try server.start()
        defer { server.stop(); server.removeData() }
        server.stopTimed(signal: SIGTERM)
        let written = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        #expect(written.contains("\"msg\":\"starting an etcd server\"") && written.contains("\"msg\":\"closed etcd server\""))
        #expect(!server.log.contains("starting an etcd server"), "the log also went to stderr")
    }

    /// `--logger`: zap is the only logger of etcd 3.5; capnslog is refused as etcd refuses it.
    @Test func loggerCapnslogIsRefusedAsInEtcd35() throws {
        let r = try ProcessRunner.run(try PackagePaths.serverBinary, ["--logger", "capnslog", "--data-dir", "/tmp/swift-etcd-never-made"])
        #expect(r.exitCode == 1 && r.stderr.contains("--logger=capnslog is removed in v3.5"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/swift-etcd-never-made"))
    }

    /// bbolt tuning on the release binary: etcd's default starts (kubeadm,
    /// etcd-operator and Helm charts may spell it out), another value refuses
    /// start-up saying why, before anything is written.
    @Test func bboltTuningStartsAtEtcdsDefaultAndRefusesOtherValues() throws {
        let refused = try ProcessRunner.run(try PackagePaths.serverBinary, ["--backend-bbolt-freelist-type=array",
                                                                            "--data-dir", "/tmp/swift-etcd-never-made"])
        #expect(refused.exitCode == 1 && refused.stderr.contains(
            "--backend-bbolt-freelist-type=array has no meaning in swift-etcd (bbolt tuning; swift-etcd stores data in LMDB"),
                "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/swift-etcd-never-made"))
        let server = try ServerProcess(extraArgs: ["--backend-bbolt-freelist-type", "map",
                                                   "--experimental-txn-mode-write-with-shared-buffer=true"])
        try server.start()
        defer { server.stop(); server.removeData() }
        #expect(try etcdctl(server.endpoint, ["put", "k", "v"]).exitCode == 0)
    }
}
