import Config
import JSONEscaping
import Foundation
import Logging

/// Encodes one log event as zap does with etcd's encoder settings.
///
/// Field values keep their types: an integer or a `Double` is a JSON
/// number, a `Bool` true/false, a `Duration` the string Go prints
/// (`7.041724ms`, `1s`), a metadata array a JSON array. Everything else is
/// a JSON string. Fields follow in key order (swift-log metadata has none).
///
/// JSON: `{"level":"info","ts":"…","caller":"…","msg":"…","k":v}`.
/// Console: `ts<TAB>level<TAB>[logger<TAB>]caller<TAB>msg<TAB>{"k": v, …}`
/// (zap's console encoder: the fields as spaced JSON, omitted when none).
public struct ZapLineEncoder: Sendable {
    public enum Format: String, Sendable { case json, console }
    public let format: Format

    public init(format: Format) { self.format = format }

    public func line(level: Logger.Level, timestamp: Date, logger: String?, caller: String, message: String,
                     fields: Logger.Metadata) -> String {
        let keys = fields.keys.sorted()
        let level = Self.zapLevel(level), ts = Self.timestamp(timestamp)
        switch format {
        case .json:
            var line = "{\"level\":\"\(level)\",\"ts\":\"\(ts)\""
            if let logger { line += ",\"logger\":\(Self.quote(logger))" }
            line += ",\"caller\":\(Self.quote(caller)),\"msg\":\(Self.quote(message))"
            for key in keys { line += ",\(Self.quote(key)):\(Self.json(fields[key]!, spaced: false))" }
            return line + "}\n"
        case .console:
            var line = "\(ts)\t\(level)\t"
            if let logger { line += "\(logger)\t" }
            line += "\(caller)\t\(message)"
            if !keys.isEmpty {
                line += "\t{" + keys.map { "\(Self.quote($0)): \(Self.json(fields[$0]!, spaced: true))" }
                    .joined(separator: ", ") + "}"
            }
            return line + "\n"
        }
    }

    /// zap's level names. swift-log has no dpanic/panic: `critical` is
    /// what `--log-level dpanic|panic|fatal` keep, and it is logged as fatal
    /// (swift-etcd logs at critical only right before it exits).
    static func zapLevel(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: return "debug"
        case .info, .notice: return "info"
        case .warning: return "warn"
        case .error: return "error"
        case .critical: return "fatal"
        }
    }

    /// etcd 3.5's `ts`: ISO 8601 in UTC with milliseconds.
    static func timestamp(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var t = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                      parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, Int(ms % 1000))
    }

    static func json(_ value: Logger.Metadata.Value, spaced: Bool) -> String {
        switch value {
        case .string(let s): return quote(s)
        case .stringConvertible(let c):
            if let n = c as? any BinaryInteger { return "\(n)" }
            if let b = c as? Bool { return b ? "true" : "false" }
            if let d = c as? Double { return d.isFinite ? "\(d)" : quote("\(d)") }
            if let d = c as? Duration { return quote(GoDuration.format(d)) }
            return quote(c.description)
        case .array(let a):
            return "[" + a.map { json($0, spaced: spaced) }.joined(separator: spaced ? ", " : ",") + "]"
        case .dictionary(let d):
            let colon = spaced ? ": " : ":"
            return "{" + d.keys.sorted().map { quote($0) + colon + json(d[$0]!, spaced: spaced) }
                .joined(separator: spaced ? ", " : ",") + "}"
        }
    }

    /// A JSON string as zap writes it (not HTML-safe, unlike encoding/json).
    static func quote(_ s: String) -> String { JSONEscaper.quoted(s, dialect: .zap) }
}

/// Typed field values, as zap's field constructors (`zap.Int`,
/// `zap.Duration`, `zap.Strings`, …) type them.
extension Logger.MetadataValue {
    public static func int<T: BinaryInteger & Sendable>(_ n: T) -> Self { .stringConvertible(Int64(clamping: n)) }
    public static func uint(_ n: UInt64) -> Self { .stringConvertible(n) }
    public static func bool(_ b: Bool) -> Self { .stringConvertible(b) }
    public static func duration(_ d: Duration) -> Self { .stringConvertible(d) }
    public static func strings(_ list: [String]) -> Self { .array(list.map { .string($0) }) }
    /// A member or cluster ID as etcd prints `types.ID`: lower-case hex.
    public static func id(_ id: UInt64) -> Self { .string(String(id, radix: 16)) }
}
