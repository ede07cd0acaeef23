import CLMDB
import Foundation

// mvcc-corrupt <db-dir>: a TEST-ONLY tool that silently corrupts a stopped
// member's store, for the corruption-check integration tests. It flips the
// last byte of the newest revision record that has a value (rev db layout:
// 36-byte header ‖ key ‖ value, see MVCC/Storage/Codec.swift), keeping the
// revision, so the member's HashKV differs from its peers' at the same
// revision while everything else looks healthy.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("mvcc-corrupt: \(message)\n".utf8))
    exit(1)
}

guard CommandLine.arguments.count == 2 else { fail("usage: mvcc-corrupt <member/snap/db directory>") }
let path = CommandLine.arguments[1]
var envPtr: OpaquePointer?
guard mdb_env_create(&envPtr) == 0, let env = envPtr else { fail("env_create") }
_ = mdb_env_set_maxdbs(env, 4)
_ = mdb_env_set_mapsize(env, 1 << 30)
guard mdb_env_open(env, path, 0, 0o644) == 0 else { fail("cannot open \(path)") }
var txnPtr: OpaquePointer?
guard mdb_txn_begin(env, nil, 0, &txnPtr) == 0, let txn = txnPtr else { fail("txn_begin") }
var dbi: MDB_dbi = 0
guard mdb_dbi_open(txn, "rev", 0, &dbi) == 0 else { fail("no rev db in \(path)") }
var cursorPtr: OpaquePointer?
guard mdb_cursor_open(txn, dbi, &cursorPtr) == 0, let cursor = cursorPtr else { fail("cursor_open") }
var key = MDB_val(), value = MDB_val()
var rc = mdb_cursor_get(cursor, &key, &value, MDB_LAST)
var done = false
while rc == 0 && !done {
    // The key length is the little-endian UInt32 at header offset 32; a
    // record has a value when it is longer than header + key.
    let bytes = Array(UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
    let keyLength = bytes.count >= 36 ? Int(bytes[32]) | Int(bytes[33]) << 8 | Int(bytes[34]) << 16 | Int(bytes[35]) << 24 : Int.max
    if bytes.count > 36 + keyLength {
        var changed = bytes
        changed[changed.count - 1] ^= 0x01
        let keyBytes = Array(UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size))
        mdb_cursor_close(cursor)
        rc = keyBytes.withUnsafeBytes { k in
            changed.withUnsafeBytes { v in
                var kv = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
                var vv = MDB_val(mv_size: v.count, mv_data: UnsafeMutableRawPointer(mutating: v.baseAddress))
                return mdb_put(txn, dbi, &kv, &vv, 0)
            }
        }
        guard rc == 0 else { fail("put failed: \(rc)") }
        done = true
        break
    }
    rc = mdb_cursor_get(cursor, &key, &value, MDB_PREV)
}
guard done else { fail("no record with a value to corrupt") }
guard mdb_txn_commit(txn) == 0 else { fail("commit failed") }
mdb_env_close(env)
print("corrupted the newest value in \(path)")
