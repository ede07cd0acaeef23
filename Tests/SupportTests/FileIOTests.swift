import Foundation
import Testing
@testable import Support

@Suite struct FileIOTests {
    @Test func writeThenReadBackWholeAndAtOffsets() throws {
        let path = NSTemporaryDirectory() + "fileio-\(UUID().uuidString)"
        defer { unlink(path) }
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o644)
        #expect(fd >= 0)
        defer { close(fd) }
        let data = (0..<10_000).map { UInt8(truncatingIfNeeded: $0) }
        try data.withUnsafeBytes { try FileIO.write(fd, $0, path: path) }
        try [UInt8](repeating: 9, count: 4).withUnsafeBytes { try FileIO.pwrite(fd, $0, at: 100, path: path) }
        FileIO.fsync(fd, path: path)
        var back = [UInt8](repeating: 0, count: 20_000)
        let n = try back.withUnsafeMutableBytes { try FileIO.pread(fd, into: $0.baseAddress!, count: $0.count, at: 0, path: path) }
        #expect(n == 10_000)  // short only at end of file
        var expected = data
        expected.replaceSubrange(100..<104, with: [9, 9, 9, 9])
        #expect(Array(back[0..<n]) == expected)
        #expect(lseek(fd, 0, SEEK_SET) == 0)
        let m = try back.withUnsafeMutableBytes { try FileIO.read(fd, into: $0.baseAddress!, count: 50, path: path) }
        #expect(m == 50)
        #expect(Array(back[0..<50]) == Array(expected[0..<50]))
    }

    @Test func syncDirectoryThrowsForAMissingDirectoryAndSyncsARealOne() throws {
        try FileIO.syncDirectory(NSTemporaryDirectory())
        #expect(throws: SystemCallError.self) { try FileIO.syncDirectory("/nonexistent-\(UUID().uuidString)") }
    }

    @Test func errorsNameTheCallAndPath() {
        var buffer = [UInt8](repeating: 0, count: 4)
        #expect(throws: SystemCallError("read", path: "bad-fd", errno: EBADF)) {
            _ = try buffer.withUnsafeMutableBytes { try FileIO.read(-1, into: $0.baseAddress!, count: 4, path: "bad-fd") }
        }
    }
}
