import CBuildInfo

/// Version numbers swift-etcd reports.
public enum SwiftEtcdVersion {
    /// The etcd server version we are compatible with (`/version`,
    /// `Maintenance.Status`, `--version`).
    public static let etcdCompatible = "3.5.0"
    /// The etcd cluster version (major.minor.0).
    public static let cluster = "3.5.0"
    /// swift-etcd's own version.
    public static let swiftEtcd = "0.1.0"
    /// The etcd v3 API version spoken (etcdctl's "API version").
    public static let api = "3.5"
    /// The git commit built from (the Makefile passes it), "" if unknown.
    public static let gitCommit = String(cString: swift_etcd_git_commit())
}

/// `--version` text: etcd's first line for tools that parse it, then ours.
public func versionText() -> String {
    var os = "unknown"
    #if os(Linux)
    os = "linux"
    #elseif os(macOS)
    os = "darwin"
    #endif
    var arch = "unknown"
    #if arch(x86_64)
    arch = "amd64"
    #elseif arch(arm64)
    arch = "arm64"
    #endif
    return """
        etcd Version: \(SwiftEtcdVersion.etcdCompatible)
        API Version: \(SwiftEtcdVersion.api)
        swift-etcd Version: \(SwiftEtcdVersion.swiftEtcd)
        Git SHA: \(SwiftEtcdVersion.gitCommit.isEmpty ? "Not provided (use make to build)" : SwiftEtcdVersion.gitCommit)
        Swift Version: \(swiftVersion)
        OS/Arch: \(os)/\(arch)

        """
}

private var swiftVersion: String {
    #if compiler(>=6.3)
    return "6.3"
    #elseif compiler(>=6.2)
    return "6.2"
    #elseif compiler(>=6.1)
    return "6.1"
    #else
    return "6.0"
    #endif
}
