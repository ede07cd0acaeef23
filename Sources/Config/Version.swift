import CBuildInfo

/// Version numbers swift-etcd reports.
public enum SwiftEtcdVersion {
    /// The etcd server version we claim (`--version`, `/version`'s
    /// etcdserver, `Maintenance.Status`, the `etcd_server_version` metric,
    /// the start-up log): etcd 3.5.1, the release whose behaviour, errors
    /// and logs we match and test against (README "Versions").
    public static let etcdCompatible = "3.5.1"
    /// The etcd cluster version: major.minor.0, as etcd reports it.
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
    """
    etcd Version: \(SwiftEtcdVersion.etcdCompatible)
    API Version: \(SwiftEtcdVersion.api)
    swift-etcd Version: \(SwiftEtcdVersion.swiftEtcd)
    Git SHA: \(SwiftEtcdVersion.gitCommit.isEmpty ? "Not provided (use make to build)" : SwiftEtcdVersion.gitCommit)
    Swift Version: \(SwiftEtcdVersion.swiftCompiler)
    OS/Arch: \(SwiftEtcdVersion.os)/\(SwiftEtcdVersion.arch)

    """
}

extension SwiftEtcdVersion {
    /// The OS as Go's GOOS names it ("linux", "darwin").
    public static var os: String {
        #if os(Linux)
        return "linux"
        #elseif os(macOS)
        return "darwin"
        #else
        return "unknown"
        #endif
    }

    /// The CPU architecture as Go's GOARCH names it ("amd64", "arm64").
    public static var arch: String {
        #if arch(x86_64)
        return "amd64"
        #elseif arch(arm64)
        return "arm64"
        #else
        return "unknown"
        #endif
    }

    /// The Swift compiler that built this binary (major.minor).
    public static var swiftCompiler: String {
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
}
