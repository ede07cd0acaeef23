import Config
import Foundation
import Logging
@testable import Server
import Testing

/// etcd's slow-operation warnings: "slow fdatasync" above one second (the
/// WAL's fsync observer feeds it), "apply request took too long" above
/// `--experimental-warning-apply-duration`, each with etcd's fields and Go's
/// duration text. Nothing below the thresholds.
@Suite struct SlowWarningsTests {
    @Test func fdatasyncAndApplyWarnOnlyAboveTheirThresholds() {
        let lines = CapturedLines()
        var slow = SlowWarnings(logger: Logger(label: "test") { _ in CapturingHandler(lines: lines) })
        slow.applyThreshold = .milliseconds(50)

        slow.fdatasync(took: .milliseconds(999))
        slow.apply(took: .milliseconds(50), request: "quiet")
        #expect(lines.all.isEmpty)

        slow.fdatasync(took: .milliseconds(1500))
        slow.apply(took: .milliseconds(51), request: "key:\"k\"")
        let all = lines.all
        #expect(all.count == 2)
        #expect(all.first?.level == .warning && all.first?.message == "slow fdatasync")
        #expect(all.first?.fields["took"] == "1.5s" && all.first?.fields["expected-duration"] == "1s")
        #expect(all.last?.message == "apply request took too long")
        #expect(all.last?.fields["took"] == "51ms" && all.last?.fields["expected-duration"] == "50ms")
        #expect(all.last?.fields["request"] == "key:\"k\"")
    }

    /// "request stats" only above the unary threshold, its start time in
    /// RFC 3339 UTC seconds (one shared formatter, used from many threads).
    @Test func unaryRequestStatsCarryTheStartTime() async {
        let lines = CapturedLines()
        var logger = Logger(label: "test") { _ in CapturingHandler(lines: lines) }
        logger.logLevel = .info  // at debug every call is logged
        var slow = SlowWarnings(logger: logger)
        slow.unaryThreshold = .milliseconds(300)
        let start = Date(timeIntervalSince1970: 1_765_000_000.75)  // 2025-12-06T05:46:40.75Z
        slow.unary(start: start, took: .milliseconds(300), remote: "r", method: "/etcdserverpb.KV/Put",
                   requestSize: 1, responseSize: 2, requestContent: "")
        #expect(lines.all.isEmpty)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    slow.unary(start: start, took: .milliseconds(301), remote: "r", method: "/etcdserverpb.KV/Put",
                               requestSize: 1, responseSize: 2, requestContent: "")
                }
            }
        }
        let all = lines.all
        #expect(all.count == 8)
        #expect(all.allSatisfy { $0.message == "request stats" && $0.fields["start time"] == "2025-12-06T05:46:40Z" })
    }
}

/// Lines a `CapturingHandler` saw, with fields rendered as the JSON log would.
final class CapturedLines: @unchecked Sendable {
    struct Line {
        let level: Logger.Level
        let message: String
        let fields: [String: String]
    }
    private let lock = NSLock()
    private var lines: [Line] = []
    var all: [Line] { lock.withLock { lines } }
    func append(_ line: Line) { lock.withLock { lines.append(line) } }
}

struct CapturingHandler: LogHandler {
    let lines: CapturedLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.mapValues { value -> String in
            if case .stringConvertible(let c) = value, let d = c as? Duration { return GoDuration.format(d) }
            return "\(value)"
        }
        lines.append(.init(level: event.level, message: "\(event.message)", fields: fields))
    }
}
