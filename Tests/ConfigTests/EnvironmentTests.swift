import Testing
@testable import Config

@Suite struct EnvironmentTests {
    @Test func envVariableSetsFlag() throws {
        let c = try runConfig([], env: ["ETCD_NAME": "from-env", "ETCD_SNAPSHOT_COUNT": "42"])
        #expect(c.name == "from-env")
        #expect(c.snapshotCount == 42)
        #expect(c.explicitlySet.contains("name"))
    }

    @Test func envKeyIsUpperSnakeOfFlag() {
        #expect(EtcdServerFlags.byName["listen-client-urls"]!.environmentKey == "ETCD_LISTEN_CLIENT_URLS")
        #expect(EtcdServerFlags.byName["experimental-watch-progress-notify-interval"]!.environmentKey
            == "ETCD_EXPERIMENTAL_WATCH_PROGRESS_NOTIFY_INTERVAL")
    }

    @Test func envURLs() throws {
        let c = try runConfig([], env: [
            "ETCD_LISTEN_CLIENT_URLS": "http://127.0.0.1:3379",
            "ETCD_ADVERTISE_CLIENT_URLS": "http://127.0.0.1:3379",
        ])
        #expect(c.listenClientURLs.map(\.string) == ["http://127.0.0.1:3379"])
    }

    @Test func flagWinsOverEnvWithWarning() throws {
        let c = try runConfig(["--name", "flag"], env: ["ETCD_NAME": "env"])
        #expect(c.name == "flag")
        #expect(c.warnings.contains { $0.contains("ETCD_NAME") && $0.contains("shadowed") })
    }

    @Test func envBool() throws {
        #expect(try runConfig([], env: ["ETCD_STRICT_RECONFIG_CHECK": "false"]).strictReconfigCheck == false)
        #expect(try runConfig([], env: ["ETCD_FORCE_NEW_CLUSTER": "true"]).forceNewCluster)
    }

    @Test func emptyEnvValueIsIgnored() throws {
        #expect(try runConfig([], env: ["ETCD_NAME": ""]).name == "default")
    }

    @Test func invalidEnvValueIsUsageError() throws {
        let e = try runError([], env: ["ETCD_SNAPSHOT_COUNT": "lots"])
        #expect(e.message == "invalid value \"lots\" for ETCD_SNAPSHOT_COUNT: parse error")
        #expect(e.code == 2)
    }

    @Test func invalidEnvBool() throws {
        #expect(try runError([], env: ["ETCD_AUTO_TLS": "perhaps"]).code == 2)
    }

    @Test func unrecognizedEnvIsWarned() throws {
        let c = try runConfig([], env: ["ETCD_BOGUS": "1", "HOME": "/root"])
        #expect(c.warnings == ["unrecognized environment variable ETCD_BOGUS=1"])
    }

    @Test func etcdVersionEnvIsWarnedNotApplied() throws {
        let c = try runConfig([], env: ["ETCD_VERSION": "1"])
        #expect(c.warnings.contains { $0.contains("ETCD_VERSION") })
    }

    @Test func notYetFlagFromEnvAlsoRefuses() throws {
        let e = try runError([], env: ["ETCD_DISCOVERY_SRV": "example.com"])
        #expect(e.message.contains("--discovery-srv is not supported yet"))
    }
}
