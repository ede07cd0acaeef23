import Glibc

/// Free space on the file system that holds a path, for error messages that
/// would otherwise leave a full disk to be guessed (LMDB reports a short write
/// as "Input/output error").
public enum FileSystemSpace {
    /// Bytes an unprivileged writer may still use, or nil if `statvfs` fails.
    public static func availableBytes(at path: String) -> UInt64? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return UInt64(s.f_bavail) &* UInt64(s.f_frsize)
    }

    /// " (N bytes free on the file system of PATH)", or "" when unknown.
    public static func note(for path: String) -> String {
        guard let free = availableBytes(at: path) else { return "" }
        return " (\(free) bytes free on the file system of \(path))"
    }
}
