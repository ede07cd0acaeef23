import Foundation

/// Where log lines go: stderr, stdout or files (`--log-outputs`). Writes are
/// serialised so lines from different threads never interleave.
public final class JSONLogOutput: @unchecked Sendable {
    private let lock = NSLock()
    private let descriptors: [Int32]

    public init(outputs: [String]) throws {
        var fds: [Int32] = []
        for name in outputs {
            switch name {
            case "stderr", "default": fds.append(2)
            case "stdout": fds.append(1)
            default:
                let fd = open(name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw LogOutputError(path: name, errno: errno) }
                fds.append(fd)
            }
        }
        descriptors = fds.isEmpty ? [2] : fds
    }

    func write(_ line: String) {
        var bytes = Array(line.utf8)
        lock.lock()
        defer { lock.unlock() }
        for fd in descriptors {
            bytes.withUnsafeMutableBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    offset += n
                }
            }
        }
    }
}

public struct LogOutputError: Error, CustomStringConvertible {
    public let path: String
    public let errno: Int32
    public var description: String { "cannot open log output \(path): \(String(cString: strerror(errno)))" }
}
