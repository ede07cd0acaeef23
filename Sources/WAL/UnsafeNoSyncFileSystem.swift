/// `--unsafe-no-fsync`: the file system of `base` with every fsync made a
/// no-op (files' `sync()` and `syncDirectory`). For tests and throw-away CI
/// clusters only: a crash of the machine can lose acknowledged writes.
public final class UnsafeNoSyncFileSystem: WALFileSystem {
    private let base: any WALFileSystem

    public init(_ base: any WALFileSystem = PosixFileSystem()) { self.base = base }

    public func listDirectory(_ path: String) throws -> [String] { try base.listDirectory(path) }
    public func fileExists(_ path: String) -> Bool { base.fileExists(path) }
    public func createDirectory(_ path: String) throws { try base.createDirectory(path) }
    public func openFile(_ path: String, create: Bool) throws -> any WALFile {
        NoSyncFile(try base.openFile(path, create: create))
    }
    public func readFile(_ path: String) throws -> [UInt8] { try base.readFile(path) }
    public func read(_ path: String, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try base.read(path, at: offset, into: buffer)
    }
    public func fileSize(_ path: String) throws -> UInt64 { try base.fileSize(path) }
    public func rename(_ from: String, to: String) throws { try base.rename(from, to: to) }
    public func removeFile(_ path: String) throws { try base.removeFile(path) }
    public func syncDirectory(_ path: String) throws {}
}

private final class NoSyncFile: WALFile {
    private let base: any WALFile
    init(_ base: any WALFile) { self.base = base }
    func write(_ bytes: [UInt8], at offset: UInt64) throws { try base.write(bytes, at: offset) }
    func read(at offset: UInt64, count: Int) throws -> [UInt8] { try base.read(at: offset, count: count) }
    func size() throws -> UInt64 { try base.size() }
    func sync() throws {}
    func truncate(to size: UInt64) throws { try base.truncate(to: size) }
    func preallocate(_ size: UInt64) throws { try base.preallocate(size) }
    func close() throws { try base.close() }
}
