import CLMDB

/// Thin helpers over the LMDB C API. Everything here is I/O; the pointers
/// LMDB returns (`MDB_val.mv_data`) are valid only until the next write in
/// the same txn or the txn's end, so callers copy what they keep.
enum LMDB {
    static func describe(_ rc: Int32) -> String { String(cString: mdb_strerror(rc)) }

    @inline(__always)
    static func check(_ rc: Int32, _ what: @autoclosure () -> String) throws {
        if rc != 0 { throw MVCCError.storage(what(), rc) }
    }

    /// Calls `body` with an MDB_val over `bytes` (no copy).
    @inline(__always)
    static func withVal<R>(_ bytes: UnsafeRawBufferPointer, _ body: (inout MDB_val) throws -> R) rethrows -> R {
        var v = MDB_val(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
        return try body(&v)
    }

    @inline(__always)
    static func bytes(_ v: MDB_val) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
    }

    /// Returns the value for `key` or nil; the buffer is LMDB's memory.
    static func get(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: UnsafeRawBufferPointer) throws -> UnsafeRawBufferPointer? {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var d = MDB_val()
        let rc = mdb_get(txn, dbi, &k, &d)
        if rc == MDB_NOTFOUND { return nil }
        try check(rc, "get")
        return bytes(d)
    }

    static func put(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: UnsafeRawBufferPointer,
                    _ value: UnsafeRawBufferPointer, flags: UInt32 = 0) throws {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var d = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(txn, dbi, &k, &d, flags), "put")
    }

    /// Reserves `size` bytes for `key` and lets `fill` write them in place.
    static func putReserved(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: UnsafeRawBufferPointer,
                            size: Int, flags: UInt32 = 0, fill: (UnsafeMutableRawBufferPointer) -> Void) throws {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var d = MDB_val(mv_size: size, mv_data: nil)
        try check(mdb_put(txn, dbi, &k, &d, UInt32(MDB_RESERVE) | flags), "put")
        fill(UnsafeMutableRawBufferPointer(start: d.mv_data, count: size))
    }

    /// Deletes `key` (and, for DUPSORT dbs, only the duplicate `value` when given).
    /// Returns false when it was absent.
    @discardableResult
    static func del(_ txn: OpaquePointer, _ dbi: MDB_dbi, _ key: UnsafeRawBufferPointer,
                    _ value: UnsafeRawBufferPointer? = nil) throws -> Bool {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let rc: Int32
        if let value {
            var d = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
            rc = mdb_del(txn, dbi, &k, &d)
        } else {
            rc = mdb_del(txn, dbi, &k, nil)
        }
        if rc == MDB_NOTFOUND { return false }
        try check(rc, "del")
        return true
    }
}

/// An open LMDB cursor, closed on deinit-free `close()` (cursors of write
/// txns must be closed before commit; read-txn cursors before reset).
struct Cursor {
    let ptr: OpaquePointer

    init(_ txn: OpaquePointer, _ dbi: MDB_dbi) throws {
        var c: OpaquePointer?
        try LMDB.check(mdb_cursor_open(txn, dbi, &c), "cursor_open")
        ptr = c!
    }

    func close() { mdb_cursor_close(ptr) }

    /// Runs a cursor op; returns (key, value) or nil on MDB_NOTFOUND.
    @inline(__always)
    func op(_ op: MDB_cursor_op, key: inout MDB_val, value: inout MDB_val) throws -> Bool {
        let rc = mdb_cursor_get(ptr, &key, &value, op)
        if rc == MDB_NOTFOUND { return false }
        try LMDB.check(rc, "cursor_get")
        return true
    }
}
