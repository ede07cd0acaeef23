/// What the `swift-etcd` executable should do, decided from its arguments.
public enum CommandLineResult: Sendable, Equatable {
    /// Start the server with this (validated) configuration.
    case run(EtcdConfig)
    /// Print this text to stdout and exit 0 (`-h`, `--help`).
    case help(String)
    /// Print this text to stdout and exit 0 (`--version`).
    case version(String)
    /// A subcommand (`swift-etcd snapshot restore …`): its name and the
    /// arguments after it, to parse with the subcommand's own flag table.
    case subcommand(name: String, arguments: [String])
    /// Print `message` to stderr and exit with `exitCode` (2: usage error,
    /// 1: configuration rejected).
    case error(message: String, exitCode: Int32)
}

/// Subcommands the executable dispatches to; their flags are parsed with
/// `FlagParser` and their own `[FlagSpec]` table when they are built.
public enum Subcommands {
    /// Names accepted as the first argument.
    public static let known: Set<String> = ["snapshot", "migrate", "defrag"]
    /// etcd's own subcommands that swift-etcd does not provide.
    public static let notProvided: [String: String] = [
        "gateway": "the TCP gateway", "grpc-proxy": "the gRPC proxy",
    ]
}

/// Parses the `swift-etcd` command line (without the program name) the way
/// etcd 3.5 does: flags, then `ETCD_*` variables for flags not given, or
/// only `--config-file` (flags and env are then ignored, as etcd does).
///
/// - Parameter readFile: reads the config file; injected so the parser is
///   pure and testable. Throws a message on failure.
public func parseCommandLine(
    _ args: [String],
    environment: [String: String],
    readFile: (String) throws -> String = defaultReadFile
) -> CommandLineResult {
    if let first = args.first, !first.hasPrefix("-") || first == "-" {
        if Subcommands.known.contains(first) {
            return .subcommand(name: first, arguments: Array(args.dropFirst()))
        }
        if let what = Subcommands.notProvided[first] {
            return .error(message: "swift-etcd: '\(first)' (\(what)) is not supported", exitCode: 2)
        }
    }
    let parsed: FlagParser.Parsed
    do { parsed = try FlagParser(EtcdServerFlags.all).parse(args) } catch {
        return .error(message: error.message, exitCode: error.exitCode)
    }
    if parsed.helpRequested { return .help(serverHelpText()) }
    if let extra = parsed.remaining.first {
        // etcd reports this from its validation step: exit 1.
        return .error(message: "'\(extra)' is not a valid flag", exitCode: 1)
    }
    if parsed.values["version"]?.boolValue == true { return .version(versionText()) }

    do {
        let config = try resolveConfig(parsed: parsed, environment: environment, readFile: readFile)
        return .run(config)
    } catch {
        return .error(message: error.message, exitCode: error.exitCode)
    }
}

/// Reads a whole UTF-8 file.
public func defaultReadFile(_ path: String) throws -> String {
    try readWholeFile(path)
}
