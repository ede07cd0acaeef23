import Foundation

/// Whole small files of the data dir (members.json, alarms) replaced so that
/// after a crash or power cut the file is the old or the new version, never
/// empty or half written: write `<path>.tmp`, fsync it, rename over `path`,
/// fsync the directory. Foundation's `.atomic` write renames without the
/// fsyncs, so after a power cut the renamed file may be empty. A failed
/// fsync stops the process (`FileIO`'s policy).
public enum DurableFile {
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd < 0 { throw SystemCallError("open", path: tmp, errno: errno) }
        var ok = false
        defer { if !ok { unlink(tmp) } }
        do {
            defer { close(fd) }
            try bytes.withUnsafeBytes { try FileIO.write(fd, $0, path: tmp) }
            FileIO.fsync(fd, path: tmp)
        }
        if rename(tmp, path) != 0 { throw SystemCallError("rename", path: tmp, errno: errno) }
        ok = true
        let dir = (path as NSString).deletingLastPathComponent
        try FileIO.syncDirectory(dir.isEmpty ? "." : dir)
    }
}
