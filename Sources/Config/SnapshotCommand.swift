/// `swift-etcd snapshot …`: etcdutl's `snapshot restore` and `snapshot
/// status` command lines, parsed into values. The features themselves live
/// with the maintenance code; this is only the command line.
public enum SnapshotCommand: Sendable, Equatable {
    case restore(file: String, options: SnapshotRestoreOptions)
    case status(file: String, writeOut: String)

    /// etcdutl's `-w/--write-out` formats.
    public static let writeOutFormats = ["simple", "json", "protobuf", "table", "fields"]

    static let writeOut = FlagSpec("write-out", .choice(writeOutFormats), default: "simple", group: .member, help: "set the output format (fields, json, protobuf, simple, table)")

    /// etcdutl 3.5 `snapshot restore` flags.
    public static let restoreFlags: [FlagSpec] = [
        writeOut,
        FlagSpec("data-dir", .string, default: "", helpDefault: "${name}.etcd", group: .member, help: "Path to the data directory"),
        FlagSpec("wal-dir", .string, default: "", group: .member, help: "Path to the WAL directory (use --data-dir if none given)"),
        FlagSpec("name", .string, default: "default", group: .member, help: "Human-readable name for this member"),
        FlagSpec("initial-cluster", .string, default: "default=http://localhost:2380", group: .clustering, help: "Initial cluster configuration for restore bootstrap"),
        FlagSpec("initial-cluster-token", .string, default: "etcd-cluster", group: .clustering, help: "Initial cluster token for the etcd cluster during restore bootstrap"),
        FlagSpec("initial-advertise-peer-urls", .urlList, default: "http://localhost:2380", group: .clustering, help: "List of this member's peer URLs to advertise to the rest of the cluster"),
        FlagSpec("skip-hash-check", .bool, default: "false", group: .member, help: "Ignore snapshot integrity hash value (required if copied from data directory)"),
        FlagSpec("mark-compacted", .bool, default: "false", group: .member, help: "Mark the latest revision after restore as the point of scheduled compaction (required if --bump-revision > 0, disallowed otherwise)"),
        FlagSpec("bump-revision", .uint, default: "0", group: .member, help: "How much to increase the latest revision after restore"),
    ]

    public static let statusFlags: [FlagSpec] = [writeOut]

    /// Parses the arguments after `snapshot`.
    public static func parse(_ args: [String]) throws(CommandLineError) -> SnapshotCommand {
        guard let verb = args.first else {
            throw .usage("swift-etcd snapshot: missing command (restore or status)")
        }
        let rest = Array(args.dropFirst())
        switch verb {
        case "restore":
            let parsed = try FlagParser(restoreFlags, aliases: ["w": "write-out"], interspersed: true).parse(rest)
            let file = try oneFile(parsed, verb: verb)
            var o = SnapshotRestoreOptions(clusterFlags: parsed)
            if let v = parsed.values["wal-dir"]?.stringValue { o.walDir = v }
            if let v = parsed.values["skip-hash-check"]?.boolValue { o.skipHashCheck = v }
            if let v = parsed.values["mark-compacted"]?.boolValue { o.markCompacted = v }
            if let v = parsed.values["bump-revision"]?.uintValue { o.bumpRevision = v }
            if o.bumpRevision > 0 && !o.markCompacted {
                throw .usage("--mark-compacted required if --bump-revision > 0")
            }
            if o.bumpRevision == 0 && o.markCompacted {
                throw .usage("--mark-compacted disallowed if --bump-revision == 0")
            }
            return .restore(file: file, options: o)
        case "status":
            let parsed = try FlagParser(statusFlags, aliases: ["w": "write-out"], interspersed: true).parse(rest)
            let file = try oneFile(parsed, verb: verb)
            return .status(file: file, writeOut: parsed.values["write-out"]?.stringValue ?? "simple")
        default:
            throw .usage("swift-etcd snapshot: unknown command \"\(verb)\" (restore or status)")
        }
    }

    private static func oneFile(_ parsed: FlagParser.Parsed, verb: String) throws(CommandLineError) -> String {
        guard parsed.remaining.count == 1 else {
            throw .usage("snapshot \(verb) requires exactly one argument")
        }
        return parsed.remaining[0]
    }
}

/// `snapshot restore` settings (etcdutl's defaults).
public struct SnapshotRestoreOptions: Sendable, Equatable {
    public var name = "default"
    /// `"\(name).etcd"` unless given.
    public var dataDir = "default.etcd"
    public var walDir = ""
    public var initialCluster = "default=http://localhost:2380"
    public var initialClusterToken = "etcd-cluster"
    public var initialAdvertisePeerURLs = [EtcdConfig.url("http://localhost:2380")]
    public var skipHashCheck = false
    public var markCompacted = false
    public var bumpRevision: UInt64 = 0

    public init() {}

    /// The data dir and new-cluster flags `snapshot restore` and `migrate` share.
    init(clusterFlags parsed: FlagParser.Parsed) {
        if let v = parsed.values["name"]?.stringValue { name = v }
        dataDir = parsed.values["data-dir"]?.stringValue ?? ""
        if dataDir.isEmpty { dataDir = "\(name).etcd" }
        if let v = parsed.values["initial-cluster"]?.stringValue { initialCluster = v }
        if let v = parsed.values["initial-cluster-token"]?.stringValue { initialClusterToken = v }
        if let v = parsed.values["initial-advertise-peer-urls"]?.urlsValue { initialAdvertisePeerURLs = v }
    }
}
