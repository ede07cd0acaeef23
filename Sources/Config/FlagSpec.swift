/// One command-line flag: its etcd name, how its value parses, its default,
/// where `--help` lists it, and whether swift-etcd honours it.
///
/// The server flag table (`EtcdServerFlags.all`) and subcommand tables are
/// plain arrays of these, so the parser, the environment reader, the YAML
/// reader and the help printer all share one source of truth.
public struct FlagSpec: Sendable, Equatable {
    /// The flag name without dashes, e.g. `listen-client-urls`. Also the YAML
    /// key in `--config-file` and, upper-snaked, the `ETCD_*` variable.
    public let name: String
    public let type: FlagValueType
    /// The default as etcd's `--help` shows it (parsed with `type` when the
    /// flag is not set). `data-dir` shows `${name}.etcd` but its stored
    /// default is empty; see `helpDefault`.
    public let defaultValue: String
    /// Shown in `--help` instead of `defaultValue` when they differ.
    public let helpDefault: String?
    public let help: String
    public let group: HelpGroup
    public let support: SupportStatus
    /// For a `.notYet` flag whose default turns the missing feature on
    /// (`--enable-grpc-gateway true`): the value that turns it off, also
    /// accepted without complaint.
    public let offValue: String?

    public init(
        _ name: String, _ type: FlagValueType, default defaultValue: String,
        helpDefault: String? = nil, group: HelpGroup, support: SupportStatus = .supported,
        offValue: String? = nil, help: String
    ) {
        self.offValue = offValue
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.helpDefault = helpDefault
        self.help = help
        self.group = group
        self.support = support
    }

    /// `ETCD_` + upper snake case of the name (etcd's `flags.FlagToEnv`).
    public var environmentKey: String {
        "ETCD_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// The parsed default value. The table is checked by tests, so a default
    /// that does not parse is a programming error.
    public var parsedDefault: FlagValue {
        // Go never parses a default: `--backend-batch-interval ''` is zero,
        // `--listen-metrics-urls ''` no URLs; typed explicitly, both are errors.
        if type == .urlList && defaultValue.isEmpty { return .urls([]) }
        if type == .duration && defaultValue.isEmpty { return .duration(.zero) }
        do { return try FlagValue.parse(defaultValue, as: type) } catch {
            preconditionFailure("flag table default for --\(name) does not parse: \(error)")
        }
    }
}

/// How a flag's text value is read. Mirrors the Go `flag` value kinds etcd uses.
public enum FlagValueType: Sendable, Equatable {
    case string
    /// Non-negative integer (Go `uint`/`uint64`): `-1` is a parse error.
    case uint
    /// Non-negative integer that must fit in 32 bits (etcd's `uint32Value`).
    case uint32
    /// Signed integer (Go `int`/`int64`).
    case int
    /// `--flag`, `--flag=true|false|1|0|t|f|TRUE|…` (Go `strconv.ParseBool`).
    case bool
    /// Go duration syntax: `100ms`, `1h30m`, `0`.
    case duration
    /// Comma-separated URLs, each `scheme://host:port` with scheme
    /// http/https/unix/unixs and no path (etcd's `types.NewURLs`).
    case urlList
    /// Comma-separated strings.
    case stringList
    /// A byte count: non-negative integer.
    case size
    /// One of a fixed set of strings (etcd's `SelectiveStringValue`).
    case choice([String])

    /// Go's `flag` treats bool flags specially: `--flag` alone means true and
    /// never consumes the next argument.
    public var isBool: Bool { self == .bool }
}

/// The groups of etcd's `--help`, in the order it prints them.
public enum HelpGroup: String, Sendable, CaseIterable {
    case member = "Member"
    case clustering = "Clustering"
    case security = "Security"
    case auth = "Auth"
    case profiling = "Profiling and Monitoring"
    case logging = "Logging"
    case tracing = "Experimental distributed tracing"
    case v2Proxy = "v2 Proxy (to be deprecated in v3.6)"
    case experimental = "Experimental feature"
    case unsafe = "Unsafe feature"
    /// Accepted but not listed: `--config-file`, `--version` (in the usage
    /// lines) and etcd's legacy ignored flags.
    case hidden = "Hidden"
}

/// Whether swift-etcd acts on a flag.
public enum SupportStatus: Sendable, Equatable {
    /// Honoured: the value reaches `EtcdConfig` and the server uses it.
    case supported
    /// Accepted by name; a non-default value refuses start-up with a message
    /// naming the missing feature (the associated text, e.g. "TLS").
    case notYet(String)
    /// Without meaning in swift-etcd by design (bbolt tuning: the store is
    /// LMDB). etcd's default value is accepted as the no-op it is here, so
    /// deployment manifests that spell the default out still start; any
    /// other value refuses start-up with the associated reason (a tuning
    /// the operator asked for would otherwise silently not happen).
    case defaultOnly(String)
    /// Accepted and without effect, as etcd itself treats it (etcd 0.4's
    /// legacy flags) or because the state it selects is the only one
    /// swift-etcd has (`--v2-deprecation`: no v2 store); a non-default
    /// value logs a warning.
    case ignored(String)
}
