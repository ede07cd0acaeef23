/// The file-system operations the WAL and snapshot store need, so tests can
/// swap in `FaultyFileSystem` (torn writes, lost unsynced data, fsync and
/// ENOSPC failures) while production uses `PosixFileSystem`.
///
/// Paths are plain strings; directories are created with `createDirectory`.
/// Durability follows POSIX: written bytes survive a crash only after
/// `WALFile.sync()`, and a create/rename/remove survives only after
/// `syncDirectory` of the containing directory.
public protocol WALFileSystem: AnyObject, Sendable {
    /// Names (not paths) of the entries in `path`.
    func listDirectory(_ path: String) throws -> [String]
    func fileExists(_ path: String) -> Bool
    /// Creates `path` and any missing parents (like `mkdir -p`), syncing each parent it changed.
    func createDirectory(_ path: String) throws
    /// Opens a file for reading and writing; creates it empty if `create` (fails if it exists).
    func openFile(_ path: String, create: Bool) throws -> any WALFile
    /// Reads a whole file (small ones: snapshot files).
    func readFile(_ path: String) throws -> [UInt8]
    /// Fills `buffer` from `offset` of the file; returns the bytes read,
    /// fewer than the buffer only at the end of the file. Segments are read
    /// this way, in bounded chunks, into one reused buffer.
    func read(_ path: String, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    func fileSize(_ path: String) throws -> UInt64
    func rename(_ from: String, to: String) throws
    func removeFile(_ path: String) throws
    /// Makes create/rename/remove in `path` durable.
    func syncDirectory(_ path: String) throws
}

/// An open file. Not thread-safe; the WAL serialises access.
public protocol WALFile: AnyObject {
    /// Writes all of `bytes` at `offset` (positional, does not move a cursor).
    func write(_ bytes: [UInt8], at offset: UInt64) throws
    func read(at offset: UInt64, count: Int) throws -> [UInt8]
    func size() throws -> UInt64
    /// `fdatasync`: makes the file's data (and the size, if it changed) durable.
    func sync() throws
    /// Starts writing `[offset, offset + count)` to the device without
    /// waiting (a hint; `sync` still makes it durable). Default: nothing.
    func startWriteback(offset: UInt64, count: Int)
    func truncate(to size: UInt64) throws
    /// Reserves `size` bytes (zero-filled) so later writes need no allocation.
    func preallocate(_ size: UInt64) throws
    func close() throws
}

extension WALFile {
    public func startWriteback(offset: UInt64, count: Int) {}
}

extension WALFileSystem {
    /// Writes a whole file atomically: temp file, fsync, rename, directory fsync.
    func writeFileAtomically(dir: String, name: String, bytes: [UInt8]) throws {
        let tmp = dir + "/" + name + ".tmp"
        if fileExists(tmp) { try removeFile(tmp) }
        let f = try openFile(tmp, create: true)
        do {
            try f.write(bytes, at: 0)
            try f.sync()
            try f.close()
        } catch {
            try? f.close()
            try? removeFile(tmp)
            throw error
        }
        try rename(tmp, to: dir + "/" + name)
        try syncDirectory(dir)
    }
}
