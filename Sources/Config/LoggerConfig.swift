/// The logging part of the configuration: what the executable needs to set
/// up swift-log (`--logger`, `--log-level`, `--log-outputs`, `--log-format`).
public struct LoggerConfig: Sendable, Equatable {
    /// Always `zap` (etcd 3.5 removed capnslog; zap-style JSON lines).
    public var logger = "zap"
    public var level: LogLevel = .info
    /// In order, deduplicated. `default` resolves to `.stderr` (no journald).
    public var outputs: [LogOutput] = [.stderr]
    public var format: LogFormat = .json

    public init() {}
}

/// etcd's log levels (zap's names).
public enum LogLevel: String, Sendable, Equatable, CaseIterable {
    case debug, info, warn, error, dpanic, panic, fatal
}

public enum LogFormat: String, Sendable, Equatable { case json, console }

/// One `--log-outputs` target.
public enum LogOutput: Sendable, Hashable {
    case stderr
    case stdout
    /// Append to this file path.
    case file(String)

    /// etcd's names: `default` (journald under systemd, else stderr; we
    /// never use journald), `stderr`, `stdout`, or a file path.
    public init(_ text: String) {
        switch text {
        case "default", "stderr": self = .stderr
        case "stdout": self = .stdout
        default: self = .file(text)
        }
    }
}

/// Best-effort logging settings for logging before (or about) a failed
/// parse: the resolved `config.logger` when the command line is valid,
/// otherwise whatever `--log-level`/`--log-outputs`/`--log-format` (or their
/// `ETCD_*` variables) parse, else the defaults.
public func loggerConfig(_ args: [String], environment: [String: String]) -> LoggerConfig {
    if case .run(let config) = parseCommandLine(args, environment: environment) {
        return config.logger
    }
    var values = (try? FlagParser(EtcdServerFlags.logging).parse(args))?.values ?? [:]
    for spec in EtcdServerFlags.logging where values[spec.name] == nil {
        if let text = environment[spec.environmentKey], let v = try? FlagValue.parse(text, as: spec.type) {
            values[spec.name] = v
        }
    }
    var config = EtcdConfig()
    config.apply(values)
    return config.logger
}
