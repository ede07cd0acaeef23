import Foundation
import Raft
@testable import WAL

/// A fresh directory under /tmp, removed by `cleanup`.
struct TempDir {
    let path: String

    init() {
        var template = Array("/tmp/wal-test-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = String(cString: p!)
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}

/// Deterministic payload for entry `index` (varied sizes, spans sectors sometimes).
func payload(_ index: UInt64, size: Int? = nil) -> [UInt8] {
    (0..<(size ?? (10 + Int(index % 97) * 7))).map { UInt8(truncatingIfNeeded: index &* 131 &+ UInt64($0)) }
}

func entries(_ range: ClosedRange<UInt64>, term: UInt64 = 1) -> [Entry] {
    range.map { Entry(term: term, index: $0, data: payload($0)) }
}

/// Options on the in-memory file system with small segments, read back in
/// 600-byte chunks (not a sector multiple), so every fault and corruption
/// test also crosses chunk boundaries mid-record.
func memOptions(_ fs: FaultyFileSystem, segmentBytes: UInt64 = 4096, maxSegments: Int = 5,
                readChunkBytes: Int = 600) -> WALOptions {
    var o = WALOptions(segmentBytes: segmentBytes, maxSegments: maxSegments, fileSystem: fs)
    o.readChunkBytes = readChunkBytes
    o.logger.logLevel = .critical
    return o
}

let walDir = "/data/member/wal"

extension WALError {
    var file: String? {
        switch self {
        case .corruptRecord(let f, _, _), .indexGap(let f, _, _, _), .metadataMismatch(let f), .badSegmentName(let f),
             .corruptSnapshot(let f, _, _):
            return f
        default: return nil
        }
    }
}

/// Runs `body(i)` on `n` real threads at once (concurrentPerform would cap
/// the concurrency at the core count) and waits for all of them.
func runThreads(_ n: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for i in 0..<n {
        group.enter()
        Thread {
            body(i)
            group.leave()
        }.start()
    }
    group.wait()
}
