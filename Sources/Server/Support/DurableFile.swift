import Foundation

/// Whole small files of the data dir (members.json, alarms) replaced so that
/// after a crash or power cut the file is the old or the new version, never
/// empty or half written: write `<path>.tmp`, fsync it, rename over `path`,
/// fsync the directory. Foundation's `.atomic` write renames without the
/// fsyncs, so after a power cut the renamed file may be empty.
enum DurableFile {
    struct WriteError: Error, CustomStringConvertible {
        let description: String
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd < 0 { throw failure("open", tmp) }
        var ok = false
        defer { if !ok { unlink(tmp) } }
        do {
            defer { close(fd) }
            try bytes.withUnsafeBytes { try SnapshotFileCopy.writeFully(fd, $0) }
            if fsync(fd) != 0 { throw failure("fsync", tmp) }
        }
        if rename(tmp, path) != 0 { throw failure("rename", tmp) }
        ok = true
        let dir = (path as NSString).deletingLastPathComponent
        try SnapshotFileCopy.syncDirectory(dir.isEmpty ? "." : dir)
    }

    private static func failure(_ op: String, _ path: String) -> WriteError {
        WriteError(description: "\(op) \(path): \(String(cString: strerror(errno)))")
    }
}
