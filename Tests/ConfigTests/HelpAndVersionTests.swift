import Testing
@testable import Config

@Suite struct HelpAndVersionTests {
    func help(_ args: [String]) -> String? {
        if case .help(let text) = parseCommandLine(args, environment: [:]) { return text }
        return nil
    }

    @Test(arguments: [["--help"], ["-h"], ["-help"], ["--name", "x", "--help"]])
    func helpForms(args: [String]) {
        #expect(help(args) != nil)
    }

    @Test func helpListsGroupsInEtcdOrder() throws {
        let text = try #require(help(["--help"]))
        let groups = ["Member:", "Clustering:", "Security:", "Auth:", "Profiling and Monitoring:", "Logging:",
                      "Experimental distributed tracing:", "v2 Proxy", "Experimental feature:", "Unsafe feature:"]
        var last = text.startIndex
        for g in groups {
            let r = try #require(text.range(of: "\n" + g, range: last..<text.endIndex), "\(g)")
            last = r.upperBound
        }
    }

    @Test func helpShowsFlagsWithDefaults() throws {
        let text = try #require(help(["--help"]))
        #expect(text.contains("  --name 'default'\n    Human-readable name for this member."))
        #expect(text.contains("  --data-dir '${name}.etcd'"))
        #expect(text.contains("  --listen-client-urls 'http://localhost:2379'"))
        #expect(text.contains("  --max-concurrent-streams 'math.MaxUint32'"))
        #expect(text.contains("  --cert-file ''\n    Path to the client server TLS cert file."))
        #expect(text.contains("  --discovery-srv '' [not yet: discovery bootstrap]"))
        #expect(text.contains("--config-file"))
        #expect(!text.contains("--cluster-active-size"))
    }

    @Test func helpMentionsEveryVisibleFlag() throws {
        let text = try #require(help(["--help"]))
        for spec in EtcdServerFlags.all where spec.group != .hidden {
            #expect(text.contains("  --\(spec.name) '"), "\(spec.name)")
        }
    }

    @Test func version() throws {
        guard case .version(let text) = parseCommandLine(["--version"], environment: [:]) else {
            Issue.record("expected .version"); return
        }
        #expect(text.hasPrefix("etcd Version: 3.5.1\n"))
        #expect(text.contains("swift-etcd Version: "))
        #expect(text.contains("OS/Arch: "))
    }

    @Test func versionBeatsValidation() {
        // etcd prints the version before validating other flags.
        if case .version = parseCommandLine(["--heartbeat-interval=0", "--version"], environment: [:]) {} else {
            Issue.record("expected .version")
        }
    }
}

@Suite struct SubcommandTests {
    @Test func snapshotIsDispatched() {
        let r = parseCommandLine(["snapshot", "restore", "x.db", "--data-dir", "/d"], environment: [:])
        #expect(r == .subcommand(name: "snapshot", arguments: ["restore", "x.db", "--data-dir", "/d"]))
    }

    @Test func gatewayIsNotProvided() {
        guard case .error(let message, let code) = parseCommandLine(["gateway"], environment: [:]) else {
            Issue.record("expected error"); return
        }
        #expect(message.contains("gateway"))
        #expect(code == 2)
    }

    @Test func unknownWordIsNotAFlag() {
        #expect(parseCommandLine(["frobnicate"], environment: [:]) == .error(message: "'frobnicate' is not a valid flag", exitCode: 1))
    }

    @Test func subcommandAfterFlagsIsNotDispatched() {
        // Like etcd, a subcommand must come first.
        if case .subcommand = parseCommandLine(["--name", "x", "snapshot"], environment: [:]) {
            Issue.record("should not dispatch")
        }
    }
}
