/// On-disk layouts (all in one LMDB environment):
///
/// - `rev` db: key = main revision (8 bytes BE) ‖ sub revision (8 bytes BE),
///   so a cursor walks history in revision order as etcd's bolt `key` bucket;
///   value = `RecordHeader` (36 bytes, little endian) ‖ key ‖ value. A
///   tombstone has version 0 and no value.
/// - `index` db (MDB_DUPSORT|MDB_DUPFIXED): key = user key (hashed past 495
///   bytes, see `IndexKey`); each duplicate is
///   an `IndexEntry` (32 bytes BE: main, sub, createRevision, version) so
///   duplicates sort by revision and the last one is the key's latest change.
///   version 0 marks a tombstone. This is etcd's in-memory keyIndex kept in
///   LMDB instead (see MVCCStore for why).
/// - `meta` db: small named Int64/UInt64 values (`MetaKey`).
enum Codec {
    static let recordHeaderSize = 36
}

/// A (main, sub) revision; ordered as etcd's `revision`.
struct Revision: Comparable, Hashable {
    var main: Int64
    var sub: Int64

    static func < (a: Revision, b: Revision) -> Bool {
        a.main != b.main ? a.main < b.main : a.sub < b.sub
    }

    /// Calls body with the 16-byte big-endian key of this revision.
    @inline(__always)
    func withKey<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: (main.bigEndian, sub.bigEndian)) { try body($0) }
    }

    init(main: Int64, sub: Int64) {
        self.main = main
        self.sub = sub
    }

    init(key: UnsafeRawBufferPointer) {
        main = Int64(bigEndian: key.loadUnaligned(fromByteOffset: 0, as: Int64.self))
        sub = Int64(bigEndian: key.loadUnaligned(fromByteOffset: 8, as: Int64.self))
    }
}

/// One duplicate of the index db: a change of a key.
struct IndexEntry: Equatable {
    static let size = 32
    var revision: Revision
    var createRevision: Int64
    /// 0 for a tombstone.
    var version: Int64

    var isTombstone: Bool { version == 0 }

    @inline(__always)
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: (revision.main.bigEndian, revision.sub.bigEndian,
                                 createRevision.bigEndian, version.bigEndian)) { try body($0) }
    }

    init(revision: Revision, createRevision: Int64, version: Int64) {
        self.revision = revision
        self.createRevision = createRevision
        self.version = version
    }

    init(_ b: UnsafeRawBufferPointer) {
        revision = Revision(key: b)
        createRevision = Int64(bigEndian: b.loadUnaligned(fromByteOffset: 16, as: Int64.self))
        version = Int64(bigEndian: b.loadUnaligned(fromByteOffset: 24, as: Int64.self))
    }

    /// The smallest entry at main revision `main`: a seek target for "first
    /// change at or after `main`".
    static func seek(main: Int64) -> IndexEntry {
        IndexEntry(revision: Revision(main: main, sub: 0), createRevision: 0, version: 0)
    }
}

/// Encoding of a `rev` db value.
enum Record {
    static func size(key: Int, value: Int) -> Int { Codec.recordHeaderSize + key + value }

    static func encode(into out: UnsafeMutableRawBufferPointer, key: UnsafeRawBufferPointer,
                       value: UnsafeRawBufferPointer, createRevision: Int64, modRevision: Int64,
                       version: Int64, lease: Int64) {
        out.storeBytes(of: createRevision.littleEndian, toByteOffset: 0, as: Int64.self)
        out.storeBytes(of: modRevision.littleEndian, toByteOffset: 8, as: Int64.self)
        out.storeBytes(of: version.littleEndian, toByteOffset: 16, as: Int64.self)
        out.storeBytes(of: lease.littleEndian, toByteOffset: 24, as: Int64.self)
        out.storeBytes(of: UInt32(key.count).littleEndian, toByteOffset: 32, as: UInt32.self)
        let base = out.baseAddress!
        if key.count > 0 { (base + 36).copyMemory(from: key.baseAddress!, byteCount: key.count) }
        if value.count > 0 { (base + 36 + key.count).copyMemory(from: value.baseAddress!, byteCount: value.count) }
    }

    /// Decodes a record; `keysOnly` skips copying the value.
    static func decode(_ b: UnsafeRawBufferPointer, keysOnly: Bool = false) -> KeyValue {
        let f = Fields(b)
        return KeyValue(key: [UInt8](f.key), createRevision: f.create, modRevision: f.mod, version: f.version,
                        value: keysOnly ? [] : [UInt8](f.value), lease: f.lease)
    }

    /// A record's fields, pointing into its bytes.
    struct Fields {
        let create: Int64, mod: Int64, version: Int64, lease: Int64
        let key: UnsafeRawBufferPointer
        let value: UnsafeRawBufferPointer

        @inline(__always)
        init(_ b: UnsafeRawBufferPointer) {
            create = Int64(littleEndian: b.loadUnaligned(fromByteOffset: 0, as: Int64.self))
            mod = Int64(littleEndian: b.loadUnaligned(fromByteOffset: 8, as: Int64.self))
            version = Int64(littleEndian: b.loadUnaligned(fromByteOffset: 16, as: Int64.self))
            lease = Int64(littleEndian: b.loadUnaligned(fromByteOffset: 24, as: Int64.self))
            let keyLen = Int(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 32, as: UInt32.self)))
            key = UnsafeRawBufferPointer(rebasing: b[Codec.recordHeaderSize ..< Codec.recordHeaderSize + keyLen])
            value = UnsafeRawBufferPointer(rebasing: b[(Codec.recordHeaderSize + keyLen)...])
        }
    }
}

/// Names of the values in the `meta` db.
enum MetaKey: String {
    /// Current (last committed) main revision.
    case revision
    /// Compaction revision reads are refused below (etcd's compactMainRev), set when a Compact applies.
    case scheduledCompact
    /// Compaction revision whose physical removal finished.
    case finishedCompact
    /// Index of the last applied Raft entry.
    case consistentIndex
    /// Keys alive at `revision` (etcd_debugging_mvcc_keys_total), kept in the
    /// same txn as every write; counted once at open when absent (a store
    /// written before it was kept, or an import).
    case liveKeys
}
