extension EtcdConfig {
    /// etcd's `embed.Config.Validate` plus the start-up checks etcd makes
    /// before serving (TLS for https URLs, initial cluster membership).
    /// Errors use etcd's wording and exit status 1.
    public func validate() throws(CommandLineError) {
        func fail(_ message: String) -> CommandLineError { .invalid(message) }

        try checkBindURLs(listenPeerURLs, flag: "listen-peer-urls")
        try checkBindURLs(listenClientURLs, flag: "listen-client-urls")
        try checkBindURLs(listenMetricsURLs, flag: "listen-metrics-urls")
        for u in initialAdvertisePeerURLs where u.host.isEmpty {
            throw fail("--initial-advertise-peer-urls \"\(joined(initialAdvertisePeerURLs))\" must be \"host:port\" (unexpected empty host (\(u.string)))")
        }
        for u in advertiseClientURLs where u.host.isEmpty {
            throw fail("--advertise-client-urls \"\(joined(advertiseClientURLs))\" must be \"host:port\" (unexpected empty host (\(u.string)))")
        }

        if heartbeatIntervalMs == 0 { throw fail("--heartbeat-interval must be >0 (set to 0ms)") }
        if electionTimeoutMs == 0 { throw fail("--election-timeout must be >0 (set to 0ms)") }
        if heartbeatIntervalMs.multipliedReportingOverflow(by: 5).partialValue > electionTimeoutMs
            || heartbeatIntervalMs > UInt64.max / 5 {
            throw fail("--election-timeout[\(electionTimeoutMs)ms] should be at least as 5 times as --heartbeat-interval[\(heartbeatIntervalMs)ms]")
        }
        if electionTimeoutMs > EtcdConfig.maxElectionMs {
            throw fail("--election-timeout[\(electionTimeoutMs)ms] is too long, and should be set less than \(EtcdConfig.maxElectionMs)ms")
        }

        if !listenClientURLs.isEmpty && advertiseClientURLs.isEmpty {
            throw fail("--advertise-client-urls is required when --listen-client-urls is set explicitly")
        }

        if AutoCompactionRetention.parse(autoCompactionRetentionText, mode: autoCompactionMode) == nil {
            throw fail("invalid --auto-compaction-retention \"\(autoCompactionRetentionText)\" for --auto-compaction-mode \(autoCompactionMode.rawValue)")
        }
        if experimentalEnableLeaseCheckpointPersist && !experimentalEnableLeaseCheckpoint {
            throw fail("setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint")
        }
        if experimentalCompactHashCheckEnabled && experimentalCompactHashCheckTime <= .zero {
            throw fail("--experimental-compact-hash-check-time must be >0 (set to \(GoDuration.format(experimentalCompactHashCheckTime)))")
        }
        if maxRequestBytes == 0 { throw fail("--max-request-bytes must be >0") }
        if experimentalMaxLearners < 1 {
            throw fail("--experimental-max-learners must be >0 (set to \(experimentalMaxLearners))")
        }
        for (d, flag) in [(grpcKeepaliveMinTime, "grpc-keepalive-min-time"), (grpcKeepaliveInterval, "grpc-keepalive-interval"),
                          (grpcKeepaliveTimeout, "grpc-keepalive-timeout"), (backendBatchInterval, "backend-batch-interval"),
                          (experimentalWatchProgressNotifyInterval, "experimental-watch-progress-notify-interval"),
                          (experimentalCorruptCheckTime, "experimental-corrupt-check-time")] where d < .zero {
            throw fail("--\(flag) must not be negative (set to \(GoDuration.format(d)))")
        }

        try checkBindURLs(listenClientHTTPURLs, flag: "listen-client-http-urls")
        try validateSecurity()

        try logger.validate()

        do { _ = try InitialCluster.parse(initialCluster) } catch { throw fail(error.message) }
    }

    /// etcd's checks when a member starts without data (no WAL yet):
    /// `VerifyBootstrap` for a new cluster, `VerifyJoinExisting` for
    /// `--initial-cluster-state existing`. A member restarting from its data
    /// dir ignores `--initial-cluster`, so call this only when bootstrapping.
    /// Peer URLs are compared as written (etcd also resolves host names).
    public func validateBootstrap() throws(CommandLineError) {
        func fail(_ message: String) -> CommandLineError { .invalid(message) }
        let cluster: InitialCluster
        do { cluster = try InitialCluster.parse(initialCluster) } catch { throw fail(error.message) }
        if cluster[name] == nil {
            throw fail("couldn't find local name \"\(name)\" in the initial cluster configuration")
        }
        if cluster.hasDuplicateURL {
            throw fail("initial cluster \(initialCluster) has duplicate url")
        }
        if initialClusterState == .new {
            let mine = Set(cluster[name]!.map(\.string))
            let advertised = Set(initialAdvertisePeerURLs.map(\.string))
            if mine != advertised {
                throw fail("--initial-cluster has \(name)=\(cluster[name]!.map(\.string).joined(separator: ",")) but missing from --initial-advertise-peer-urls=\(joined(initialAdvertisePeerURLs))")
            }
        }
    }

    /// etcd's upper bound on `--election-timeout`.
    public static let maxElectionMs: UInt64 = 50000

    /// etcd's `checkBindURLs`: listen URLs need an IP or `localhost`.
    private func checkBindURLs(_ urls: [EtcdURL], flag: String) throws(CommandLineError) {
        for u in urls where !u.isUnix {
            if u.host == "localhost" { continue }
            if !isIPAddress(u.host) {
                throw .invalid("expected IP in URL for binding (\(u.string))")
            }
        }
    }

    private func joined(_ urls: [EtcdURL]) -> String { urls.map(\.string).joined(separator: ",") }
}

extension LoggerConfig {
    /// etcd 3.5's `setupLogging` checks.
    public func validate() throws(CommandLineError) {
        switch logger {
        case "zap": break
        case "capnslog": throw .invalid("--logger=capnslog is removed in v3.5")
        default: throw .invalid("unknown logger option \"\(logger)\"")
        }
        if outputs.isEmpty { throw .invalid("--log-outputs must not be empty") }
    }
}

/// IPv4 dotted quad or an IPv6 literal (Go `net.ParseIP` != nil).
func isIPAddress(_ s: String) -> Bool {
    if s.isEmpty { return true }  // ":2379" binds all interfaces in Go
    let parts = s.split(separator: ".", omittingEmptySubsequences: false)
    if parts.count == 4, parts.allSatisfy({ p in !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isNumber) && Int(p)! <= 255 }) {
        return true
    }
    guard s.contains(":") else { return false }
    var body = Substring(s)
    if let pct = body.firstIndex(of: "%") { body = body[..<pct] }
    let groups = body.components(separatedBy: "::")
    guard groups.count <= 2 else { return false }
    var count = 0
    for (gi, g) in groups.enumerated() where !g.isEmpty {
        let fields = g.split(separator: ":", omittingEmptySubsequences: false)
        for (fi, f) in fields.enumerated() {
            if gi == groups.count - 1, fi == fields.count - 1, f.contains(".") {
                guard isIPAddress(String(f)), !f.contains(":") else { return false }
                count += 2
                continue
            }
            guard !f.isEmpty, f.count <= 4, f.allSatisfy(\.isHexDigit) else { return false }
            count += 1
        }
    }
    return groups.count == 2 ? count < 8 : count == 8
}
