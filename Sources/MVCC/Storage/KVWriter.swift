import CLMDB

/// Writes changes inside the apply loop's LMDB write txn, one etcd write
/// transaction (one main revision) at a time.
///
/// Invariant: `beginRev` is the store revision before the current request;
/// every change of the request gets main = beginRev + 1 and sub = the number
/// of changes before it, as etcd's storeTxnWrite.
struct KVWriter {
    let txn: OpaquePointer
    let dbs: Databases
    private(set) var beginRev: Int64
    private(set) var changes = 0
    /// Events of every request applied so far through this writer.
    var events: [Event] = []
    /// Live keys created minus live keys deleted by this writer so far.
    private(set) var liveKeyDelta: Int64 = 0
    /// A cursor on the index reused by every put of the txn (LMDB frees
    /// write-txn cursors when the txn ends). Nil for read-only txns.
    private let indexCursor: Cursor?

    init(txn: OpaquePointer, dbs: Databases, revision: Int64, readOnly: Bool = false) throws {
        self.txn = txn
        self.dbs = dbs
        self.beginRev = revision
        indexCursor = readOnly ? nil : try Cursor(txn, dbs.index)
    }

    var reader: KVReader { KVReader(txn: txn, dbs: dbs) }

    /// The revision reads inside the current request see: the new revision
    /// once the request changed something (reads see its own writes).
    var readRev: Int64 { changes > 0 ? beginRev + 1 : beginRev }

    /// Starts a request at the current revision.
    mutating func beginRequest() { changes = 0 }

    /// Ends the request; returns the store revision after it.
    @discardableResult
    mutating func endRequest() -> Int64 {
        if changes > 0 { beginRev += 1 }
        changes = 0
        return beginRev
    }

    /// Takes over the changes a nested-txn writer made for the current
    /// request (after its LMDB child txn committed into ours).
    mutating func adopt(_ child: KVWriter) {
        precondition(child.beginRev == beginRev)
        changes = child.changes
        events += child.events
        liveKeyDelta += child.liveKeyDelta
    }

    mutating func put(key: [UInt8], value: [UInt8], lease: Int64) throws {
        let rev = Revision(main: beginRev + 1, sub: Int64(changes))
        let prev = try key.withUnsafeBytes { try reader.latestEntry($0, cursor: indexCursor) }
        var create = rev.main
        var version: Int64 = 1
        if let prev, !prev.isTombstone {
            create = prev.createRevision
            version = prev.version + 1
        } else {
            liveKeyDelta += 1
        }
        try writeChange(rev: rev, key: key, value: value, create: create, version: version, lease: lease)
        events.append(Event(type: .put, kv: KeyValue(key: key, createRevision: create, modRevision: rev.main,
                                                     version: version, value: value, lease: lease)))
    }

    /// Writes a tombstone for every live key in `bounds`; returns how many.
    mutating func deleteRange(_ bounds: KeyBounds) throws -> Int64 {
        var keys: [[UInt8]] = []
        try reader.visitLive(bounds, atRev: readRev, latest: true) { key, _ in
            keys.append([UInt8](key))
            return true
        }
        for key in keys {
            let rev = Revision(main: beginRev + 1, sub: Int64(changes))
            try writeChange(rev: rev, key: key, value: [], create: 0, version: 0, lease: 0)
            events.append(Event(type: .delete, kv: KeyValue(key: key, modRevision: rev.main)))
        }
        liveKeyDelta -= Int64(keys.count)
        return Int64(keys.count)
    }

    private mutating func writeChange(rev: Revision, key: [UInt8], value: [UInt8],
                                      create: Int64, version: Int64, lease: Int64) throws {
        try key.withUnsafeBytes { k in
            try value.withUnsafeBytes { v in
                try rev.withKey { rk in
                    // Revisions only grow, so every record appends at the end of the db.
                    try LMDB.putReserved(txn, dbs.rev, rk, size: Record.size(key: k.count, value: v.count),
                                         flags: UInt32(MDB_APPEND)) { out in
                        Record.encode(into: out, key: k, value: v, createRevision: create,
                                      modRevision: rev.main, version: version, lease: lease)
                    }
                }
                try IndexEntry(revision: rev, createRevision: create, version: version).withBytes { e in
                    try IndexKey.with(k) { ik in try LMDB.put(txn, dbs.index, ik, e) }
                }
            }
        }
        changes += 1
    }

    func setMeta(_ key: MetaKey, _ value: Int64) throws {
        var name = key.rawValue
        try name.withUTF8 { n in
            try withUnsafeBytes(of: value.littleEndian) { v in
                try LMDB.put(txn, dbs.meta, UnsafeRawBufferPointer(n), v)
            }
        }
    }
}
