/// `--unsafe-no-fsync`: the file system of `base` with every fsync made a
/// no-op (files' `sync()` and `syncDirectory`). For tests and throw-away CI
/// clusters only: a crash of the machine can lose acknowledged writes.
public final class UnsafeNoSyncFileSystem: ForwardingFileSystem, @unchecked Sendable {
    public override init(_ base: any WALFileSystem = PosixFileSystem()) { super.init(base) }

    public override func wrap(_ file: any WALFile, path: String) -> any WALFile { NoSyncFile(file) }
    public override func syncDirectory(_ path: String) throws {}
}

/// Writes reach the page cache only: no fsync, no writeback hint.
private final class NoSyncFile: ForwardingFile {
    override func sync() throws {}
    override func startWriteback(offset: UInt64, count: Int) {}
}
