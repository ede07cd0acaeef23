import Foundation

/// Turns the flag values from one source into an `EtcdConfig`: merge
/// (flag > env, or config file alone), refuse not-yet features, apply
/// etcd's derived defaults, validate.
func resolveConfig(
    parsed: FlagParser.Parsed,
    environment: [String: String],
    readFile: (String) throws -> String
) throws(CommandLineError) -> EtcdConfig {
    var warnings: [String] = []
    var configFile = parsed.values["config-file"]?.stringValue ?? ""
    if configFile.isEmpty { configFile = environment["ETCD_CONFIG_FILE"] ?? "" }

    let values: [String: FlagValue]
    let fromFile = !configFile.isEmpty
    if fromFile {
        let text: String
        do { text = try readFile(configFile) } catch {
            throw .invalid("swift-etcd: cannot read --config-file \(configFile): \(error)")
        }
        let loaded = try ConfigFile.parse(text, path: configFile)
        values = loaded.values
        warnings += loaded.warnings
        if !parsed.order.filter({ $0 != "config-file" }).isEmpty {
            warnings.append("loaded server configuration from \(configFile); other command line flags and environment variables are ignored")
        }
    } else {
        let merged = try mergeEnvironment(parsed: parsed, environment: environment)
        values = merged.values
        warnings += merged.warnings
    }

    warnings += try checkSupport(values)

    // etcd validates this string late (exit 1), not as a flag value.
    if let mode = values["auto-compaction-mode"]?.stringValue, !["", "periodic", "revision"].contains(mode) {
        throw .invalid("unknown auto-compaction-mode \"\(mode)\"")
    }

    var config = EtcdConfig()
    config.apply(values)
    config.configFile = fromFile ? configFile : nil
    config.explicitlySet = Set(values.keys)
    config.warnings = warnings

    // etcd (command line only): an explicit --listen-client-urls without
    // --advertise-client-urls drops the default advertise URL, so validation
    // asks for it.
    if !fromFile, values["listen-client-urls"] != nil, values["advertise-client-urls"] == nil {
        config.advertiseClientURLs = []
    }
    if config.dataDir.isEmpty { config.dataDir = "\(config.name).etcd" }
    // etcd's UpdateDefaultClusterFromName: `--name abc` alone gives
    // `abc=<initial advertise peer URLs>`.
    let defaultCluster = EtcdServerFlags.byName["initial-cluster"]!.defaultValue
    if config.name != "default", config.initialCluster == defaultCluster {
        config.initialCluster = InitialCluster.fromName(config.name, advertisePeerURLs: config.initialAdvertisePeerURLs)
    }
    try config.validate()
    config.warnings += config.securityWarnings
    return config
}

/// Command-line values plus `ETCD_*` variables for flags not on the command
/// line. etcd exits when a variable is shadowed by a flag; we keep the flag
/// and warn.
func mergeEnvironment(
    parsed: FlagParser.Parsed, environment: [String: String]
) throws(CommandLineError) -> (values: [String: FlagValue], warnings: [String]) {
    var values = parsed.values
    var warnings: [String] = []
    var used = Set<String>()
    for spec in EtcdServerFlags.all {
        let key = spec.environmentKey
        guard let text = environment[key], !text.isEmpty else { continue }
        used.insert(key)
        if parsed.values[spec.name] != nil {
            warnings.append("conflicting environment variable \(key) is shadowed by corresponding command-line flag --\(spec.name); using the flag")
            continue
        }
        if spec.name == "version" || spec.name == "config-file" { continue }
        do {
            values[spec.name] = try parseEnvValue(text, spec: spec)
        } catch {
            throw .usage("invalid value \"\(text)\" for \(key): \(error.message)")
        }
    }
    if let v = environment["ETCD_VERSION"], !v.isEmpty {
        warnings.append("cannot set special environment variable ETCD_VERSION=\(v)")
    }
    for (key, value) in environment.sorted(by: { $0.key < $1.key })
    where key.hasPrefix("ETCD_") && !used.contains(key) && key != "ETCD_VERSION" && key != "ETCD_CONFIG_FILE" {
        warnings.append("unrecognized environment variable \(key)=\(value)")
    }
    return (values, warnings)
}

/// Env values go through Go's `fs.Set`, so bools take the text form.
private func parseEnvValue(_ text: String, spec: FlagSpec) throws(FlagValueError) -> FlagValue {
    if spec.type.isBool {
        guard let b = parseGoBool(text) else { throw FlagValueError("parse error") }
        return .bool(b)
    }
    return try FlagValue.parse(text, as: spec.type)
}

/// Refuses a not-yet or default-only flag set to a non-default value; warns
/// for an ignored one. Returns the warnings.
func checkSupport(_ values: [String: FlagValue]) throws(CommandLineError) -> [String] {
    var warnings: [String] = []
    for spec in EtcdServerFlags.all {
        guard let value = values[spec.name], !isDefault(value, spec: spec) else { continue }
        if let off = spec.offValue, let offValue = try? FlagValue.parse(off, as: spec.type), value == offValue { continue }
        switch spec.support {
        case .supported:
            break
        case .notYet(let feature):
            throw .invalid("swift-etcd: --\(spec.name) is not supported yet (\(feature)); refusing to start without it")
        case .defaultOnly(let why):
            throw .invalid("swift-etcd: --\(spec.name)=\(shownValue(value)) has no meaning in swift-etcd (\(why)); refusing to start: remove it or give etcd's default '\(spec.defaultValue)'")
        case .ignored(let why):
            warnings.append("--\(spec.name) has no effect in swift-etcd (\(why))")
        }
    }
    return warnings
}

/// A flag's value as the operator wrote it (for the refusal message).
private func shownValue(_ value: FlagValue) -> String {
    switch value {
    case .string(let s): return s
    case .bool(let b): return String(b)
    case .uint(let n): return String(n)
    case .int(let n): return String(n)
    case .duration(let d): return "\(d)"
    case .urls(let u): return u.map(\.string).joined(separator: ",")
    case .strings(let s): return s.joined(separator: ",")
    }
}

/// Same as the default, treating list order and an empty list/"*" alike
/// where etcd does.
func isDefault(_ value: FlagValue, spec: FlagSpec) -> Bool {
    let def = spec.parsedDefault
    if value == def { return true }
    switch (value, def) {
    case (.strings(let a), .strings(let b)):
        if Set(a) == Set(b) { return true }
        // cors/host-whitelist: empty means allow all, like "*".
        return b == ["*"] && (a.isEmpty || a == ["*"])
    case (.urls(let a), .urls(let b)):
        return Set(a.map(\.string)) == Set(b.map(\.string))
    default:
        return false
    }
}

extension EtcdConfig {
    /// Copies every known value into the typed fields.
    mutating func apply(_ values: [String: FlagValue]) {
        func str(_ n: String) -> String? { values[n]?.stringValue }
        func uint(_ n: String) -> UInt64? { values[n]?.uintValue }
        func int(_ n: String) -> Int64? { values[n]?.intValue }
        func bool(_ n: String) -> Bool? { values[n]?.boolValue }
        func dur(_ n: String) -> Duration? { values[n]?.durationValue }
        func urls(_ n: String) -> [EtcdURL]? { values[n]?.urlsValue }
        func list(_ n: String) -> [String]? { values[n]?.stringsValue }

        if let v = str("name") { name = v }
        if let v = str("data-dir") { dataDir = v } else { dataDir = "" }
        if let v = str("wal-dir") { walDir = v }
        if let v = uint("snapshot-count") { snapshotCount = v }
        if let v = uint("heartbeat-interval") { heartbeatIntervalMs = v }
        if let v = uint("election-timeout") { electionTimeoutMs = v }
        if let v = bool("initial-election-tick-advance") { initialElectionTickAdvance = v }
        if let v = urls("listen-peer-urls") { listenPeerURLs = v }
        if let v = urls("listen-client-urls") { listenClientURLs = v }
        if let v = urls("listen-client-http-urls") { listenClientHTTPURLs = v }
        if let v = uint("max-snapshots") { maxSnapshots = v }
        if let v = uint("max-wals") { maxWALs = v }
        if let v = int("quota-backend-bytes") { quotaBackendBytes = v }
        if let v = dur("backend-batch-interval") { backendBatchInterval = v }
        if let v = int("backend-batch-limit") { backendBatchLimit = v }
        if let v = uint("max-txn-ops") { maxTxnOps = v }
        if let v = uint("max-request-bytes") { maxRequestBytes = v }
        if let v = uint("max-concurrent-streams") { maxConcurrentStreams = UInt32(clamping: v) }
        if let v = dur("grpc-keepalive-min-time") { grpcKeepaliveMinTime = v }
        if let v = dur("grpc-keepalive-interval") { grpcKeepaliveInterval = v }
        if let v = dur("grpc-keepalive-timeout") { grpcKeepaliveTimeout = v }
        if let v = bool("socket-reuse-port") { socketReusePort = v }
        if let v = bool("socket-reuse-address") { socketReuseAddress = v }
        // etcd raises raft timeouts below the 5s default up to it
        // ("raft-read-timeout increased to minimum value: 5s").
        if let v = dur("raft-read-timeout") { raftReadTimeout = max(v, .seconds(5)) }
        if let v = dur("raft-write-timeout") { raftWriteTimeout = max(v, .seconds(5)) }

        if let v = urls("initial-advertise-peer-urls") { initialAdvertisePeerURLs = v }
        if let v = str("initial-cluster") { initialCluster = v }
        if let v = str("initial-cluster-state") { initialClusterState = ClusterState(rawValue: v) ?? .new }
        if let v = str("initial-cluster-token") { initialClusterToken = v }
        if let v = urls("advertise-client-urls") { advertiseClientURLs = v }
        if let v = bool("strict-reconfig-check") { strictReconfigCheck = v }
        if let v = bool("pre-vote") { preVote = v }
        if let v = str("auto-compaction-mode") { autoCompactionMode = AutoCompactionMode(rawValue: v) ?? .periodic }
        if let v = str("auto-compaction-retention") { autoCompactionRetentionText = v }
        if let v = bool("enable-v2") { enableV2 = v }

        if let v = str("auth-token") { authToken = v }
        if let v = uint("bcrypt-cost") { bcryptCost = v }
        if let v = uint("auth-token-ttl") { authTokenTTLSeconds = v }
        applySecurity(values)

        if let v = str("metrics") { metrics = v }
        if let v = urls("listen-metrics-urls") { listenMetricsURLs = v }
        if let v = bool("enable-pprof") { enablePprof = v }
        if let v = bool("enable-grpc-gateway") { enableGrpcGateway = v }

        if let v = str("logger") { logger.logger = v }
        if let v = str("log-level"), let level = LogLevel(rawValue: v) { logger.level = level }
        if let v = str("log-format"), let format = LogFormat(rawValue: v) { logger.format = format }
        if let v = list("log-outputs") {
            var seen = Set<LogOutput>()
            logger.outputs = v.map(LogOutput.init).filter { seen.insert($0).inserted }
        }

        if let v = bool("experimental-initial-corrupt-check") { experimentalInitialCorruptCheck = v }
        if let v = dur("experimental-corrupt-check-time") { experimentalCorruptCheckTime = v }
        if let v = bool("experimental-compact-hash-check-enabled") { experimentalCompactHashCheckEnabled = v }
        if let v = dur("experimental-compact-hash-check-time") { experimentalCompactHashCheckTime = v }
        if let v = bool("experimental-enable-lease-checkpoint") { experimentalEnableLeaseCheckpoint = v }
        if let v = bool("experimental-enable-lease-checkpoint-persist") { experimentalEnableLeaseCheckpointPersist = v }
        if let v = int("experimental-compaction-batch-limit") { experimentalCompactionBatchLimit = v }
        if let v = dur("experimental-compaction-sleep-interval") { experimentalCompactionSleepInterval = v }
        if let v = dur("experimental-watch-progress-notify-interval") { experimentalWatchProgressNotifyInterval = v }
        if let v = dur("experimental-warning-apply-duration") { experimentalWarningApplyDuration = v }
        if let v = dur("experimental-warning-unary-request-duration") { experimentalWarningUnaryRequestDuration = v }
        if let v = uint("experimental-bootstrap-defrag-threshold-megabytes") { experimentalBootstrapDefragThresholdMegabytes = v }
        if let v = int("experimental-max-learners") { experimentalMaxLearners = v }
        if let v = uint("experimental-snapshot-catchup-entries") { experimentalSnapshotCatchUpEntries = v }
        if let v = dur("experimental-wait-cluster-ready-timeout") { experimentalWaitClusterReadyTimeout = v }
        if let v = bool("experimental-stop-grpc-service-on-defrag") { experimentalStopGRPCServiceOnDefrag = v }

        if let v = bool("force-new-cluster") { forceNewCluster = v }
        if let v = bool("unsafe-no-fsync") { unsafeNoFsync = v }
    }
}

func readWholeFile(_ path: String) throws -> String {
    try String(contentsOfFile: path, encoding: .utf8)
}
