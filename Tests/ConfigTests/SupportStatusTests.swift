import Testing
@testable import Config

@Suite struct SupportStatusTests {
    @Test(arguments: [
        (["--enable-v2"], "--enable-v2 is not supported yet (the v2 API)"),
        (["--proxy", "on"], "--proxy is not supported yet (the v2 proxy)"),
        (["--discovery", "https://discovery.etcd.io/x"], "--discovery is not supported yet"),
        (["--enable-log-rotation"], "--enable-log-rotation is not supported yet (log rotation)"),
        (["--experimental-enable-distributed-tracing"], "--experimental-enable-distributed-tracing is not supported yet"),
        (["--cors", "http://a.example"], "--cors is not supported yet"),
    ])
    func notYetFlagRefusesStartUp(args: [String], expected: String) throws {
        let e = try runError(args)
        #expect(e.message.hasPrefix("swift-etcd: " + expected))
        #expect(e.message.hasSuffix("refusing to start without it"))
        #expect(e.code == 1)
    }

    @Test(arguments: [
        ["--enable-v2=false"], ["--auth-token", "simple"], ["--auto-tls=false"], ["--cert-file", ""],
        ["--proxy", "off"], ["--cors", "*"], ["--host-whitelist", "*"], ["--enable-pprof=false"],
        ["--tls-min-version", "TLS1.2"], ["--bcrypt-cost", "10"],
        ["--enable-grpc-gateway=false"], ["--enable-grpc-gateway"],
    ])
    func notYetFlagAtDefaultIsAccepted(args: [String]) throws {
        let c = try runConfig(args)
        #expect(c.warnings.isEmpty)
    }

    /// bbolt tuning has no meaning on LMDB: another value than etcd's
    /// default refuses start-up, saying why; the default is a no-op.
    @Test(arguments: [
        (["--backend-bbolt-freelist-type", "array"], "--backend-bbolt-freelist-type=array", "'map'"),
        (["--experimental-txn-mode-write-with-shared-buffer=false"], "--experimental-txn-mode-write-with-shared-buffer=false", "'true'"),
    ])
    func bboltTuningRefusesStartUp(args: [String], shown: String, etcdDefault: String) throws {
        let e = try runError(args)
        #expect(e.message == "swift-etcd: \(shown) has no meaning in swift-etcd (bbolt tuning; swift-etcd stores data in LMDB, which has no such setting); refusing to start: remove it or give etcd's default \(etcdDefault)")
        #expect(e.code == 1)
    }

    @Test func bboltTuningAtEtcdsDefaultIsANoOp() throws {
        let c = try runConfig(["--backend-bbolt-freelist-type", "map", "--experimental-txn-mode-write-with-shared-buffer"])
        #expect(c.warnings.isEmpty)
        // etcd 3.4's name was removed in 3.5, which refuses it as unknown.
        #expect(try runError(["--experimental-backend-bbolt-freelist-type", "map"]).message.contains("flag provided but not defined"))
    }

    @Test func ignoredFlagWarns() throws {
        let c = try runConfig(["--v2-deprecation", "gone"])
        #expect(c.warnings == ["--v2-deprecation has no effect in swift-etcd (swift-etcd has no v2 store (always 'gone'))"])
    }

    @Test func everyTLSFlagIsSupported() {
        let tlsFlags = EtcdServerFlags.security.filter { $0.name != "cors" && $0.name != "host-whitelist" }.map(\.name)
            + ["experimental-peer-skip-client-san-verification", "listen-client-http-urls"]
        #expect(tlsFlags.count == 25)
        for name in tlsFlags {
            #expect(EtcdServerFlags.byName[name]?.support == .supported, "--\(name)")
        }
    }

    @Test func coreFlagsAreSupported() {
        for name in ["name", "data-dir", "listen-client-urls", "advertise-client-urls", "initial-cluster",
                     "heartbeat-interval", "election-timeout", "snapshot-count", "max-request-bytes",
                     "quota-backend-bytes", "auto-compaction-mode", "log-level", "log-outputs",
                     "experimental-watch-progress-notify-interval", "grpc-keepalive-interval"] {
            #expect(EtcdServerFlags.byName[name]?.support == .supported, "\(name)")
        }
    }
}
