#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Support

/// An in-memory file system that remembers what is durable and injects the
/// failures a real disk has, for crash-recovery tests (deterministic per seed):
///
/// - `crash(seed:)`: the machine loses power. Per file, a random prefix of the
///   writes since its last `sync` survives, the last of them possibly torn at
///   a 512-byte sector boundary; files are independent, so unsynced writes to
///   different files are effectively reordered. Per directory, a random prefix
///   of the unsynced create/rename/remove operations survives.
/// - `crashAfterOps`: every mutating operation after that many throws, as if
///   the process died there (then call `crash`).
/// - `failSyncNumber`: that (1-based) `sync` call fails with EIO and, like
///   Linux, forgets the dirty data (a retried fsync would wrongly succeed).
/// - `capacityBytes`: writes or preallocations that grow the total past it fail with ENOSPC.
/// - `syncDelayMicros`: a slow disk, so concurrent appenders pile up behind a flush.
public final class FaultyFileSystem: WALFileSystem, @unchecked Sendable {
    final class Inode {
        let id: Int
        init(id: Int) { self.id = id }
        var durable: [UInt8] = []
        var current: [UInt8] = []
        var pending: [Op] = []
    }

    enum Op {
        case write(offset: Int, bytes: [UInt8])
        case truncate(Int)
        case preallocate(Int)
    }

    enum DirOp {
        case link(String, Inode)
        case unlink(String)
    }

    let monitor = Monitor()
    var durableFiles: [String: Inode] = [:]
    var files: [String: Inode] = [:]
    var directories: Set<String> = ["/"]
    /// Unsynced namespace operations per directory, oldest first.
    var pendingDirOps: [String: [DirOp]] = [:]

    public var crashAfterOps: Int?
    public var failSyncNumber: Int?
    public var capacityBytes: Int?
    /// Each file `sync` sleeps this long, like a real disk flush (lets group commit batch).
    public var syncDelayMicros: UInt32 = 0
    public private(set) var mutatingOps = 0
    public private(set) var syncCalls = 0
    public private(set) var crashed = false
    /// Chunked reads (`read(_:at:count:)`) so far, and the largest one in
    /// bytes: what recovery held in memory at once.
    public private(set) var readCalls = 0
    public private(set) var largestReadBytes = 0

    var inodeCount = 0

    public init() {}

    private func makeInode() -> Inode {
        inodeCount += 1
        return Inode(id: inodeCount)
    }

    private func tick(_ op: String, _ path: String) throws {
        if crashed { throw WALError.io(op: op + " (crashed)", path: path, errno: EIO) }
        mutatingOps += 1
        if let limit = crashAfterOps, mutatingOps > limit {
            crashed = true
            throw WALError.io(op: op + " (crashed)", path: path, errno: EIO)
        }
    }

    private var usedBytes: Int { files.values.reduce(0) { $0 + $1.current.count } }

    private func checkSpace(growth: Int, path: String) throws {
        if let cap = capacityBytes, growth > 0, usedBytes + growth > cap {
            throw WALError.io(op: "write", path: path, errno: ENOSPC)
        }
    }

    // MARK: WALFileSystem

    public func listDirectory(_ path: String) throws -> [String] {
        try monitor.withLock {
            guard directories.contains(path) else { throw WALError.io(op: "opendir", path: path, errno: ENOENT) }
            let prefix = path + "/"
            return files.keys.filter { $0.hasPrefix(prefix) && !$0.dropFirst(prefix.count).contains("/") }
                .map { String($0.dropFirst(prefix.count)) }.sorted()
        }
    }

    public func fileExists(_ path: String) -> Bool {
        monitor.withLock { files[path] != nil || directories.contains(path) }
    }

    /// Directories are durable at once (the tests are about files).
    public func createDirectory(_ path: String) throws {
        try monitor.withLock {
            try tick("mkdir", path)
            var p = path
            while !p.isEmpty && p != "/" {
                directories.insert(p)
                p = parentDirectory(p)
            }
        }
    }

    public func openFile(_ path: String, create: Bool) throws -> any WALFile {
        try monitor.withLock {
            if create {
                try tick("create", path)
                guard files[path] == nil else { throw WALError.io(op: "open", path: path, errno: EEXIST) }
                guard directories.contains(parentDirectory(path)) else { throw WALError.io(op: "open", path: path, errno: ENOENT) }
                let inode = makeInode()
                files[path] = inode
                pendingDirOps[parentDirectory(path), default: []].append(.link(path, inode))
                return FaultyFile(fs: self, inode: inode, path: path)
            }
            guard let inode = files[path] else { throw WALError.io(op: "open", path: path, errno: ENOENT) }
            return FaultyFile(fs: self, inode: inode, path: path)
        }
    }

    public func readFile(_ path: String) throws -> [UInt8] {
        try monitor.withLock {
            guard let inode = files[path] else { throw WALError.io(op: "open", path: path, errno: ENOENT) }
            return inode.current
        }
    }

    public func read(_ path: String, at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try monitor.withLock {
            guard let inode = files[path] else { throw WALError.io(op: "open", path: path, errno: ENOENT) }
            readCalls += 1
            let b = inode.current
            let lo = min(Int(offset), b.count), hi = min(lo + buffer.count, b.count)
            largestReadBytes = max(largestReadBytes, hi - lo)
            b.withUnsafeBytes { src in buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[lo..<hi])) }
            return hi - lo
        }
    }

    public func fileSize(_ path: String) throws -> UInt64 {
        try monitor.withLock {
            guard let inode = files[path] else { throw WALError.io(op: "stat", path: path, errno: ENOENT) }
            return UInt64(inode.current.count)
        }
    }

    public func rename(_ from: String, to: String) throws {
        try monitor.withLock {
            try tick("rename", from)
            guard let inode = files[from] else { throw WALError.io(op: "rename", path: from, errno: ENOENT) }
            files[from] = nil
            files[to] = inode
            pendingDirOps[parentDirectory(from), default: []].append(.unlink(from))
            pendingDirOps[parentDirectory(to), default: []].append(.link(to, inode))
        }
    }

    public func removeFile(_ path: String) throws {
        try monitor.withLock {
            try tick("unlink", path)
            guard files[path] != nil else { throw WALError.io(op: "unlink", path: path, errno: ENOENT) }
            files[path] = nil
            pendingDirOps[parentDirectory(path), default: []].append(.unlink(path))
        }
    }

    public func syncDirectory(_ path: String) throws {
        try monitor.withLock {
            try tick("fsync dir", path)
            for op in pendingDirOps[path] ?? [] { apply(op) }
            pendingDirOps[path] = nil
        }
    }

    private func apply(_ op: DirOp) {
        switch op {
        case .link(let p, let i): durableFiles[p] = i
        case .unlink(let p): durableFiles[p] = nil
        }
    }

    // MARK: file operations (called by FaultyFile)

    func write(_ inode: Inode, _ path: String, _ bytes: [UInt8], at offset: Int) throws {
        try monitor.withLock {
            try tick("pwrite", path)
            try checkSpace(growth: offset + bytes.count - inode.current.count, path: path)
            FaultyFileSystem.apply(.write(offset: offset, bytes: bytes), to: &inode.current)
            inode.pending.append(.write(offset: offset, bytes: bytes))
        }
    }

    func truncate(_ inode: Inode, _ path: String, to size: Int) throws {
        try monitor.withLock {
            try tick("ftruncate", path)
            FaultyFileSystem.apply(.truncate(size), to: &inode.current)
            inode.pending.append(.truncate(size))
        }
    }

    func preallocate(_ inode: Inode, _ path: String, _ size: Int) throws {
        try monitor.withLock {
            try tick("fallocate", path)
            try checkSpace(growth: size - inode.current.count, path: path)
            FaultyFileSystem.apply(.preallocate(size), to: &inode.current)
            inode.pending.append(.preallocate(size))
        }
    }

    func sync(_ inode: Inode, _ path: String) throws {
        try monitor.withLock {
            try tick("fdatasync", path)
            syncCalls += 1
            if syncDelayMicros > 0 { usleep(syncDelayMicros) }
            if syncCalls == failSyncNumber {
                // Linux marks the pages clean after a failed writeback: the
                // data may never reach disk, and the next fsync reports success.
                inode.pending = []
                throw WALError.io(op: "fdatasync", path: path, errno: EIO)
            }
            inode.durable = inode.current
            inode.pending = []
        }
    }

    static func apply(_ op: Op, to b: inout [UInt8]) {
        switch op {
        case .write(let offset, let bytes):
            if b.count < offset + bytes.count { b.append(contentsOf: repeatElement(0, count: offset + bytes.count - b.count)) }
            b.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        case .truncate(let size):
            if size < b.count { b.removeLast(b.count - size) } else { b.append(contentsOf: repeatElement(0, count: size - b.count)) }
        case .preallocate(let size):
            if size > b.count { b.append(contentsOf: repeatElement(0, count: size - b.count)) }
        }
    }

    // MARK: crash

    /// Power loss: keeps only durable state plus a random part of the
    /// unsynced state (see the type comment), then "reboots" so the file
    /// system can be used again.
    public func crash(seed: UInt64) {
        monitor.withLock {
            var rng = SplitMix64(seed: seed)
            for (dir, ops) in pendingDirOps.sorted(by: { $0.key < $1.key }) {
                _ = dir
                let keep = Int(rng.next() % UInt64(ops.count + 1))
                for op in ops.prefix(keep) { apply(op) }
            }
            pendingDirOps = [:]
            var seen = Set<ObjectIdentifier>()
            let all = (Array(files.values) + Array(durableFiles.values)).sorted { $0.id < $1.id }
            for inode in all where seen.insert(ObjectIdentifier(inode)).inserted {
                let keep = Int(rng.next() % UInt64(inode.pending.count + 1))
                for op in inode.pending.prefix(keep) { FaultyFileSystem.apply(op, to: &inode.durable) }
                if keep < inode.pending.count, rng.next() % 2 == 0,
                   case .write(let offset, let bytes) = inode.pending[keep] {
                    // Torn write: only the sectors before some boundary landed.
                    let firstBoundary = (offset / 512 + 1) * 512
                    let boundaries = Array(stride(from: firstBoundary, to: offset + bytes.count, by: 512))
                    if !boundaries.isEmpty {
                        let cut = boundaries[Int(rng.next() % UInt64(boundaries.count))]
                        FaultyFileSystem.apply(.write(offset: offset, bytes: Array(bytes[0..<cut - offset])), to: &inode.durable)
                    }
                }
                inode.current = inode.durable
                inode.pending = []
            }
            files = durableFiles
            crashed = false
            crashAfterOps = nil
            failSyncNumber = nil
        }
    }

    /// Test helpers: direct access to a file's current bytes.
    public func contents(_ path: String) -> [UInt8]? { monitor.withLock { files[path]?.current } }

    public func setContents(_ path: String, _ bytes: [UInt8]) {
        monitor.withLock {
            let inode = files[path] ?? makeInode()
            inode.current = bytes
            inode.durable = bytes
            inode.pending = []
            files[path] = inode
            durableFiles[path] = inode
        }
    }
}

final class FaultyFile: WALFile {
    let fs: FaultyFileSystem
    let inode: FaultyFileSystem.Inode
    let path: String

    init(fs: FaultyFileSystem, inode: FaultyFileSystem.Inode, path: String) {
        self.fs = fs
        self.inode = inode
        self.path = path
    }

    func write(_ bytes: [UInt8], at offset: UInt64) throws { try fs.write(inode, path, bytes, at: Int(offset)) }
    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        fs.monitor.withLock {
            let b = inode.current
            let lo = min(Int(offset), b.count), hi = min(Int(offset) + count, b.count)
            return Array(b[lo..<hi])
        }
    }
    func size() throws -> UInt64 { fs.monitor.withLock { UInt64(inode.current.count) } }
    func sync() throws { try fs.sync(inode, path) }
    func truncate(to size: UInt64) throws { try fs.truncate(inode, path, to: Int(size)) }
    func preallocate(_ size: UInt64) throws { try fs.preallocate(inode, path, Int(size)) }
    func close() throws {}
}

