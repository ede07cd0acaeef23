import Foundation
import Logging

/// A swift-log handler that writes what etcd 3.5's zap logger writes: one
/// line per event with `level`, `ts`, `logger` (when set), `caller`, `msg`,
/// then the fields, as JSON (`--log-format json`, the default) or zap's
/// console layout (`--log-format console`). See `ZapLineEncoder` for how
/// values are typed.
///
/// The metadata key `logger` names a sub-logger the way zap's `Named` does
/// (etcd's Raft lines carry `"logger":"raft"`).
public struct ZapLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let output: JSONLogOutput
    private let encoder: ZapLineEncoder

    public init(label: String, level: Logger.Level, output: JSONLogOutput, format: ZapLineEncoder.Format = .json) {
        self.label = label
        self.logLevel = level
        self.output = output
        self.encoder = ZapLineEncoder(format: format)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata.merging(event.metadata ?? [:]) { _, new in new }
        var name: String?
        if case .string(let n)? = fields.removeValue(forKey: "logger") { name = n }
        let caller = label + "/" + (event.file as NSString).lastPathComponent + ":\(event.line)"
        output.write(encoder.line(level: event.level, timestamp: Date(), logger: name, caller: caller,
                                  message: event.message.description, fields: fields))
    }
}

/// The old name, kept for callers that predate the console format.
public typealias JSONLogHandler = ZapLogHandler
