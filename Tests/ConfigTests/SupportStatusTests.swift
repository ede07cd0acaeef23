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

    @Test func ignoredFlagWarns() throws {
        let c = try runConfig(["--backend-bbolt-freelist-type", "array"])
        #expect(c.warnings == ["--backend-bbolt-freelist-type has no effect in swift-etcd (bbolt tuning; swift-etcd stores data in LMDB)"])
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
