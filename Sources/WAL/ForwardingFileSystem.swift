/// A file system that forwards every call to `base` and hands each opened
/// file to `wrap(_:path:)`, so a decorator (`--unsafe-no-fsync`, a test that
/// records or holds writes and fsyncs) overrides only what it changes.
/// Immutable after `init`; subclasses must keep it so (hence `@unchecked`).
open class ForwardingFileSystem: WALFileSystem, @unchecked Sendable {
    public let base: any WALFileSystem

    public init(_ base: any WALFileSystem) { self.base = base }

    /// The file handed out for `path`; by default `file` itself.
    open func wrap(_ file: any WALFile, path: String) -> any WALFile { file }

    open func listDirectory(_ path: String) throws -> [String] { try base.listDirectory(path) }
    open func fileExists(_ path: String) -> Bool { base.fileExists(path) }
    open func createDirectory(_ path: String) throws { try base.createDirectory(path) }
    open func openFile(_ path: String, create: Bool) throws -> any WALFile {
        wrap(try base.openFile(path, create: create), path: path)
    }
    open func readFile(_ path: String) throws -> [UInt8] { try base.readFile(path) }
    open func read(_ path: String, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try base.read(path, at: offset, into: buffer)
    }
    open func fileSize(_ path: String) throws -> UInt64 { try base.fileSize(path) }
    open func rename(_ from: String, to: String) throws { try base.rename(from, to: to) }
    open func removeFile(_ path: String) throws { try base.removeFile(path) }
    open func syncDirectory(_ path: String) throws { try base.syncDirectory(path) }
}

/// An open file that forwards every call to `base`; the counterpart of
/// `ForwardingFileSystem` for decorators of single files.
open class ForwardingFile: WALFile {
    public let base: any WALFile

    public init(_ base: any WALFile) { self.base = base }

    open func write(_ bytes: [UInt8], at offset: UInt64) throws { try base.write(bytes, at: offset) }
    open func read(at offset: UInt64, count: Int) throws -> [UInt8] { try base.read(at: offset, count: count) }
    open func size() throws -> UInt64 { try base.size() }
    open func sync() throws { try base.sync() }
    open func startWriteback(offset: UInt64, count: Int) { base.startWriteback(offset: offset, count: count) }
    open func truncate(to size: UInt64) throws { try base.truncate(to: size) }
    open func preallocate(_ size: UInt64) throws { try base.preallocate(size) }
    open func close() throws { try base.close() }
}
