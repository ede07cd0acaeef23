import Config

/// Flags the Config module accepts as supported but whose feature this
/// build of the server does not have yet. Setting one to a non-default value
/// refuses start-up with a clear message: silently ignoring, say, a quota or
/// an auto-compaction policy would surprise an operator far later.
enum FeatureGate {
    /// Flag name → the feature it needs.
    static let notBuiltYet: [String: String] = [
        "force-new-cluster": "force-new-cluster recovery",
        "experimental-compact-hash-check-enabled": "corruption checks",
        "unsafe-no-fsync": "running without fsync",
        "wal-dir": "a dedicated WAL directory",
    ]

    /// Flags explicitly set that are harmless at their default value.
    static let harmlessValues: [String: Set<String>] = [
        "force-new-cluster": ["false"],
        "experimental-compact-hash-check-enabled": ["false"],
        "unsafe-no-fsync": ["false"],
        "wal-dir": [""],
    ]

    static func refusal(for config: EtcdConfig) -> String? {
        for flag in config.explicitlySet.sorted() {
            guard let feature = notBuiltYet[flag] else { continue }
            if let value = currentValue(flag, config), harmlessValues[flag]?.contains(value) == true { continue }
            return "swift-etcd: --\(flag) is not supported yet (\(feature) is not built); refusing to start rather than ignore it"
        }
        return nil
    }

    private static func currentValue(_ flag: String, _ c: EtcdConfig) -> String? {
        switch flag {
        case "force-new-cluster": return String(c.forceNewCluster)
        case "experimental-compact-hash-check-enabled": return String(c.experimentalCompactHashCheckEnabled)
        case "unsafe-no-fsync": return String(c.unsafeNoFsync)
        case "wal-dir": return c.walDir
        default: return nil
        }
    }
}
