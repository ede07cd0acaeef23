import Bolt
import Foundation
import MVCC

/// `swift-etcd snapshot status`: what etcdutl prints for a snapshot file
/// (hash, revision, total keys, total size), in its output formats.
public struct SnapshotStatus: Sendable, Equatable {
    public var hash: UInt32
    public var revision: Int64
    public var totalKey: Int
    public var totalSize: Int64

    public init(hash: UInt32, revision: Int64, totalKey: Int, totalSize: Int64) {
        self.hash = hash
        self.revision = revision
        self.totalKey = totalKey
        self.totalSize = totalSize
    }

    /// Reads a snapshot file (with or without its appended SHA-256), in
    /// etcd's format (what etcdutl prints for it) or an old swift-etcd
    /// LMDB copy (the same figures over its own databases).
    public static func read(file: String) throws -> SnapshotStatus {
        let snapshot = try SnapshotFile(path: file)
        do {
            let s: SnapshotFileStatus
            switch snapshot.format {
            case .etcdBackend: s = try SnapshotFileStatus.etcdBackend(try snapshot.boltReader())
            case .lmdb: s = try MVCCStore.snapshotFileStatus(file)
            }
            return SnapshotStatus(hash: s.hash, revision: s.revision, totalKey: s.totalKey, totalSize: s.totalSize)
        } catch let e as MVCCError {
            throw RestoreError(e.message)
        } catch let e as BoltReadError {
            throw RestoreError(e.description)
        }
    }

    /// The text etcdutl prints for `-w format` (simple, json, table,
    /// fields); nil for a format without a snapshot status (protobuf).
    public func formatted(_ format: String) -> String? {
        let row = [String(hash, radix: 16), String(revision), String(totalKey), Self.humanBytes(totalSize)]
        switch format {
        case "simple":
            return row.joined(separator: ", ") + "\n"
        case "json":
            return "{\"hash\":\(hash),\"revision\":\(revision),\"totalKey\":\(totalKey),\"totalSize\":\(totalSize)}\n"
        case "fields":
            return "\"Hash\" : \(hash)\n\"Revision\" : \(revision)\n\"Keys\" : \(totalKey)\n\"Size\" : \(totalSize)\n"
        case "table":
            return Self.table(header: ["HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE"], row: row)
        default:
            return nil
        }
    }

    /// go-humanize's `Bytes`: SI units, one decimal below 10.
    static func humanBytes(_ n: Int64) -> String {
        if n < 10 { return "\(n) B" }
        let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"]
        let e = min(Int(floor(log(Double(n)) / log(1000))), units.count - 1)
        let value = (Double(n) / pow(1000, Double(e)) * 10 + 0.5).rounded(.down) / 10
        return String(format: value < 10 ? "%.1f" : "%.0f", value) + " " + units[e]
    }

    /// olekukonko/tablewriter's default box with a centred header and
    /// right-aligned cells, as etcdctl's table printer sets it.
    static func table(header: [String], row: [String]) -> String {
        let widths = zip(header, row).map { max($0.count, $1.count) }
        let line = "+" + widths.map { String(repeating: "-", count: $0 + 2) + "+" }.joined() + "\n"
        func centred(_ s: String, _ w: Int) -> String {
            let pad = w - s.count, left = pad / 2
            return String(repeating: " ", count: left) + s + String(repeating: " ", count: pad - left)
        }
        func right(_ s: String, _ w: Int) -> String { String(repeating: " ", count: w - s.count) + s }
        let head = "|" + zip(header, widths).map { " " + centred($0, $1) + " |" }.joined() + "\n"
        let body = "|" + zip(row, widths).map { " " + right($0, $1) + " |" }.joined() + "\n"
        return line + head + line + body + line
    }
}
