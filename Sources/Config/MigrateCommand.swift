/// `swift-etcd migrate --from-etcd-data-dir ETCD_DIR --data-dir DIR …`:
/// builds a swift-etcd data dir from a stopped etcd 3.4/3.5 member's data
/// dir. Named after what it does for swift-etcd (etcdutl 3.6's own
/// `migrate` changes a data dir's storage version instead, with
/// `--target-version`); its cluster flags are `snapshot restore`'s, as the
/// result is a restored member of a new cluster.
public struct MigrateCommand: Sendable, Equatable {
    public var etcdDataDir: String
    public var options: SnapshotRestoreOptions

    static let restoreFlagsKept: Set<String> = ["data-dir", "name", "initial-cluster", "initial-cluster-token",
                                                "initial-advertise-peer-urls"]
    public static let flags: [FlagSpec] =
        [FlagSpec("from-etcd-data-dir", .string, default: "", group: .member,
                  help: "Data directory of a stopped etcd 3.4/3.5 member to migrate from")]
        + SnapshotCommand.restoreFlags.filter { restoreFlagsKept.contains($0.name) }

    /// Parses the arguments after `migrate`.
    public static func parse(_ args: [String]) throws(CommandLineError) -> MigrateCommand {
        let parsed = try FlagParser(flags, interspersed: true).parse(args)
        if let extra = parsed.remaining.first { throw .usage("migrate: unexpected argument \"\(extra)\"") }
        let from = parsed.values["from-etcd-data-dir"]?.stringValue ?? ""
        if from.isEmpty { throw .usage("migrate: --from-etcd-data-dir is required") }
        var o = SnapshotRestoreOptions(clusterFlags: parsed)
        // member/snap/db is a live backend file, never a saved snapshot.
        o.skipHashCheck = true
        return MigrateCommand(etcdDataDir: from, options: o)
    }
}
