import Foundation
import Logging

/// etcd's warnings about slow work, with its wording and fields:
/// - "apply request took too long" for an apply (and, prefixed
///   "read-only range " / "read-only txn ", a local read) slower than
///   `--experimental-warning-apply-duration` (100 ms);
/// - "request stats" for a unary call slower than
///   `--experimental-warning-unary-request-duration` (300 ms; every call
///   at debug level);
/// - "slow fdatasync" for a WAL sync slower than one second.
/// Durations print as Go prints them (`took`, `expected-duration`).
struct SlowWarnings: Sendable {
    var logger: Logger
    var applyThreshold: Duration = .milliseconds(100)
    var unaryThreshold: Duration = .milliseconds(300)
    /// etcd's `warnSyncDuration`.
    static let fdatasyncThreshold: Duration = .seconds(1)

    func apply(took: Duration, prefix: String = "", request: @autoclosure () -> String,
               response: @autoclosure () -> String = "", error: String? = nil) {
        guard took > applyThreshold else { return }
        var fields: Logger.Metadata = [
            "took": .duration(took), "expected-duration": .duration(applyThreshold),
            "prefix": .string(prefix), "request": .string(request()), "response": .string(response()),
        ]
        if let error { fields["error"] = .string(error) }
        logger.warning("apply request took too long", metadata: fields)
    }

    func fdatasync(took: Duration) {
        guard took > Self.fdatasyncThreshold else { return }
        logger.warning("slow fdatasync", metadata: [
            "took": .duration(took), "expected-duration": .duration(Self.fdatasyncThreshold)])
    }

    /// Whether a unary call of this duration is logged ("request stats").
    func logsUnary(took: Duration) -> Bool { took > unaryThreshold || logger.logLevel <= .debug }

    func unary(start: Date, took: Duration, remote: String, method: String, requestSize: Int, responseSize: Int,
               requestContent: String) {
        guard logsUnary(took: took) else { return }
        let fields: Logger.Metadata = [
            "start time": .string(startTimes.string(from: start)),
            "time spent": .duration(took), "remote": .string(remote), "response type": .string(method),
            "request count": .int(method.hasSuffix("/Range") ? 0 : 1), "request size": .int(requestSize),
            "response count": .int(0), "response size": .int(responseSize), "request content": .string(requestContent),
        ]
        if took > unaryThreshold {
            logger.warning("request stats", metadata: fields)
        } else {
            logger.debug("request stats", metadata: fields)
        }
    }
}

/// One formatter for every "request stats" line: making an
/// `ISO8601DateFormatter` loads ICU's calendar and time-zone data, about a
/// tenth of a put's mallocs while an overloaded member warned about every
/// call (and every call at debug level). Calls are serialised: Foundation
/// does not promise the formatter is thread-safe.
private final class StartTimeFormatter: @unchecked Sendable {
    private let lock = NSLock()
    private let formatter = ISO8601DateFormatter()

    func string(from date: Date) -> String { lock.withLock { formatter.string(from: date) } }
}

private let startTimes = StartTimeFormatter()
