import CLMDB
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The three databases of a store.
struct Databases {
    let rev: MDB_dbi
    let index: MDB_dbi
    let meta: MDB_dbi
}

/// Which keys a request covers, from etcd's (key, range_end) pair.
enum KeyBounds: Hashable {
    /// range_end empty: just `key`.
    case single([UInt8])
    /// range_end "\0": every key ≥ `key`.
    case from([UInt8])
    /// [key, end).
    case range([UInt8], [UInt8])

    init(key: [UInt8], rangeEnd: [UInt8]) {
        if rangeEnd.isEmpty {
            self = .single(key)
        } else if rangeEnd.count == 1 && rangeEnd[0] == 0 {
            self = .from(key)
        } else {
            self = .range(key, rangeEnd)
        }
    }

    /// Whether every key ≥ `k` is outside the bounds.
    func isPastEnd(_ k: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .single(let key): return key.withUnsafeBytes { Bytes.compare(k, $0) > 0 }
        case .from: return false
        case .range(_, let end): return end.withUnsafeBytes { Bytes.compare(k, $0) >= 0 }
        }
    }

    /// Whether `k` is inside the bounds.
    func contains(_ k: UnsafeRawBufferPointer) -> Bool {
        switch self {
        case .single(let key): return key.withUnsafeBytes { Bytes.compare(k, $0) == 0 }
        case .from(let key): return key.withUnsafeBytes { Bytes.compare(k, $0) >= 0 }
        case .range(let key, let end):
            return key.withUnsafeBytes { Bytes.compare(k, $0) >= 0 } && end.withUnsafeBytes { Bytes.compare(k, $0) < 0 }
        }
    }
}

enum Bytes {
    /// Lexicographic comparison as Go's bytes.Compare.
    @inline(__always)
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let n = min(a.count, b.count)
        if n > 0 {
            let c = memcmp(a.baseAddress!, b.baseAddress!, n)
            if c != 0 { return c < 0 ? -1 : 1 }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in compare(pa, pb) } }
    }
}

/// Reads the index and records inside one LMDB txn (read or write). All
/// results are copies; nothing returned points into LMDB memory.
struct KVReader {
    let txn: OpaquePointer
    let dbs: Databases

    /// Calls `body(key, entry)` for every key in `bounds` whose latest change
    /// at or below `atRev` is a put, in key order, until `body` returns false.
    /// `latest` says `atRev` is at least the txn's newest revision, which
    /// allows a cheaper lookup. `key` is valid only during the call.
    func visitLive(_ bounds: KeyBounds, atRev: Int64, latest: Bool,
                   _ body: (UnsafeRawBufferPointer, IndexEntry) throws -> Bool) throws {
        let cursor = try Cursor(txn, dbs.index)
        defer { cursor.close() }
        var k = MDB_val(), d = MDB_val()
        if case .single(let key) = bounds {
            guard !key.isEmpty else { return }
            let found = try IndexKey.with(key) { ik in
                k = MDB_val(mv_size: ik.count, mv_data: UnsafeMutableRawPointer(mutating: ik.baseAddress))
                return try cursor.op(MDB_SET_KEY, key: &k, value: &d)
            }
            if found, let entry = try entryAt(cursor, key: &k, atRev: atRev, latest: latest), !entry.isTombstone {
                _ = try key.withUnsafeBytes { try body($0, entry) }
            }
            return
        }
        let startKey: [UInt8]
        switch bounds {
        case .single(let key), .from(let key), .range(let key, _): startKey = key
        }
        var more: Bool = try IndexKey.seekKey(startKey).withUnsafeBytes { sk in
            k = MDB_val(mv_size: sk.count, mv_data: UnsafeMutableRawPointer(mutating: sk.baseAddress))
            if sk.isEmpty { return try cursor.op(MDB_FIRST, key: &k, value: &d) }
            return try cursor.op(MDB_SET_RANGE, key: &k, value: &d)
        }
        while more {
            if IndexKey.isHashed(LMDB.bytes(k)) {
                var run: [([UInt8], IndexEntry)] = []
                (run, more) = try liveRun(cursor, key: &k, atRev: atRev, latest: latest)
                for (key, entry) in run {
                    let verdict = try key.withUnsafeBytes { kb -> Bool? in
                        if bounds.isPastEnd(kb) { return nil }
                        return bounds.contains(kb) ? try body(kb, entry) : true
                    }
                    guard let goOn = verdict else { return }
                    if !goOn { return }
                }
                continue
            }
            let key = LMDB.bytes(k)
            if bounds.isPastEnd(key) { return }
            if bounds.contains(key), let entry = try entryAt(cursor, key: &k, atRev: atRev, latest: latest),
               !entry.isTombstone {
                if try !body(LMDB.bytes(k), entry) { return }
            }
            more = try cursor.op(MDB_NEXT_NODUP, key: &k, value: &d)
        }
    }

    /// Reads the run of hashed index keys starting under the cursor (long
    /// keys sharing their inline part): the live ones at `atRev` with their
    /// full keys, sorted by key. Leaves the cursor on the first key after the
    /// run; `more` is false if there is none.
    private func liveRun(_ cursor: Cursor, key k: inout MDB_val, atRev: Int64,
                         latest: Bool) throws -> (run: [([UInt8], IndexEntry)], more: Bool) {
        let first = [UInt8](LMDB.bytes(k))
        var run: [([UInt8], IndexEntry)] = []
        var d = MDB_val()
        while true {
            if let entry = try entryAt(cursor, key: &k, atRev: atRev, latest: latest), !entry.isTombstone {
                run.append((try record(entry.revision, keysOnly: true).key, entry))
            }
            guard try cursor.op(MDB_NEXT_NODUP, key: &k, value: &d) else {
                run.sort { Bytes.compare($0.0, $1.0) < 0 }
                return (run, false)
            }
            let sameRun = first.withUnsafeBytes { IndexKey.sameRun($0, LMDB.bytes(k)) }
            if !sameRun { break }
        }
        run.sort { Bytes.compare($0.0, $1.0) < 0 }
        return (run, true)
    }

    /// Changes `entryAt` steps back over from a key's last one before it searches.
    static let stepsBeforeSeek = 8

    /// The latest change of the key under the cursor with main ≤ atRev. Leaves
    /// the cursor on that key.
    private func entryAt(_ cursor: Cursor, key: inout MDB_val, atRev: Int64, latest: Bool) throws -> IndexEntry? {
        var d = MDB_val()
        let savedKey = key
        guard try cursor.op(MDB_LAST_DUP, key: &key, value: &d) else { return nil }
        var last = IndexEntry(LMDB.bytes(d))
        if latest { return last }
        // Read just behind the current revision (a list's later pages), the
        // answer is the last change or one of the few before it: step back
        // over them, which keeps the cursor on the key (no search, no
        // repositioning); a longer history is searched below.
        for _ in 0..<Self.stepsBeforeSeek {
            if last.revision.main <= atRev { return last }
            guard try cursor.op(MDB_PREV_DUP, key: &key, value: &d) else { return nil }
            last = IndexEntry(LMDB.bytes(d))
        }
        if last.revision.main <= atRev { return last }
        key = savedKey
        return try IndexEntry.seek(main: atRev &+ 1).withBytes { target in
            d = MDB_val(mv_size: target.count, mv_data: UnsafeMutableRawPointer(mutating: target.baseAddress))
            var entry: IndexEntry?
            if try cursor.op(MDB_GET_BOTH_RANGE, key: &key, value: &d) {
                if try cursor.op(MDB_PREV_DUP, key: &key, value: &d) {
                    entry = IndexEntry(LMDB.bytes(d))
                }
            } else {
                key = savedKey
                var d2 = MDB_val()
                guard try cursor.op(MDB_SET_KEY, key: &key, value: &d2),
                      try cursor.op(MDB_LAST_DUP, key: &key, value: &d2) else { return nil }
                entry = IndexEntry(LMDB.bytes(d2))
            }
            // Reposition on the key so MDB_NEXT_NODUP continues from it.
            key = savedKey
            var d3 = MDB_val()
            _ = try cursor.op(MDB_SET_KEY, key: &key, value: &d3)
            return entry
        }
    }

    /// The latest change of `key` (at any revision), or nil if never written
    /// or compacted away.
    func latestEntry(_ key: UnsafeRawBufferPointer, cursor reused: Cursor? = nil) throws -> IndexEntry? {
        let cursor = try reused ?? Cursor(txn, dbs.index)
        defer { if reused == nil { cursor.close() } }
        return try IndexKey.with(key) { ik in
            var k = MDB_val(mv_size: ik.count, mv_data: UnsafeMutableRawPointer(mutating: ik.baseAddress))
            var d = MDB_val()
            guard try cursor.op(MDB_SET_KEY, key: &k, value: &d),
                  try cursor.op(MDB_LAST_DUP, key: &k, value: &d) else { return nil }
            return IndexEntry(LMDB.bytes(d))
        }
    }

    /// The record written at `rev`.
    func record(_ rev: Revision, keysOnly: Bool = false) throws -> KeyValue {
        Record.decode(try recordBytes(rev), keysOnly: keysOnly)
    }

    /// The stored bytes of the record written at `rev`, valid while the txn is open.
    func recordBytes(_ rev: Revision) throws -> UnsafeRawBufferPointer {
        let bytes = try rev.withKey { try LMDB.get(txn, dbs.rev, $0) }
        guard let bytes else {
            throw MVCCError(.internal, "mvcc: missing record for revision \(rev.main)_\(rev.sub)")
        }
        return bytes
    }

    /// etcd's `rangeKeys` without the revision checks: the live KVs in
    /// `bounds` at `atRev`, at most `limit` of them (0 = all), and the number
    /// of all matching keys.
    func rangeKeys(_ bounds: KeyBounds, atRev: Int64, latest: Bool, limit: Int,
                   countOnly: Bool, keysOnly: Bool = false,
                   counts: RangeCounts? = nil) throws -> (kvs: [KeyValue], count: Int) {
        let (revs, count) = try liveRevisions(bounds, atRev: atRev, latest: latest, limit: limit, countOnly: countOnly,
                                              counts: counts)
        if countOnly { return ([], count) }
        var kvs: [KeyValue] = []
        kvs.reserveCapacity(revs.count)
        for r in revs { kvs.append(try record(r, keysOnly: keysOnly)) }
        return (kvs, count)
    }

    /// The revisions of the live keys in `bounds` at `atRev`, at most
    /// `limit` of them (0 = all; none when `countOnly`), and the number of
    /// all matching keys. With `counts` (only in a read txn: a write txn's
    /// uncommitted changes must not be remembered), a remembered count
    /// spares the walk past the `limit`th key, and a walked one is remembered.
    func liveRevisions(_ bounds: KeyBounds, atRev: Int64, latest: Bool, limit: Int,
                       countOnly: Bool, counts: RangeCounts? = nil) throws -> (revs: [Revision], count: Int) {
        let known = counts?.count(bounds, atRev: atRev).map { Int($0) }
        if let known, countOnly { return ([], known) }
        var count = 0
        var revs: [Revision] = []
        try visitLive(bounds, atRev: atRev, latest: latest) { _, entry in
            count += 1
            if !countOnly && (limit <= 0 || revs.count < limit) { revs.append(entry.revision) }
            return known == nil || limit <= 0 || revs.count < limit
        }
        if let known { return (revs, known) }
        counts?.remember(bounds, atRev: atRev, count: Int64(count))
        return (revs, count)
    }

    /// After a page of `limit` keys of `bounds` at `atRev` whose last key is
    /// `lastKey` (and more followed), remembers the next page's count:
    /// `count` (the whole range's) less the page.
    static func rememberNextPage(_ counts: RangeCounts?, _ bounds: KeyBounds, lastKey: UnsafeRawBufferPointer,
                                 atRev: Int64, count: Int, limit: Int) {
        guard let counts else { return }
        let next = [UInt8](lastKey) + [0]
        switch bounds {
        case .single: return
        case .from: counts.rememberNextPage(.from(next), atRev: atRev, count: Int64(count - limit))
        case .range(_, let end): counts.rememberNextPage(.range(next, end), atRev: atRev, count: Int64(count - limit))
        }
    }

    /// Keys whose latest change at or below `atRev` is a put: a walk of the
    /// whole key index, so only for when `MetaKey.liveKeys` is missing.
    func countLiveKeys(atRev: Int64) throws -> Int64 {
        var n: Int64 = 0
        try visitLive(KeyBounds(key: [0], rangeEnd: [0]), atRev: atRev, latest: true) { _, _ in
            n += 1
            return true
        }
        return n
    }

    func meta(_ key: MetaKey) throws -> Int64? {
        var name = key.rawValue
        return try name.withUTF8 { n in
            guard let v = try LMDB.get(txn, dbs.meta, UnsafeRawBufferPointer(n)), v.count == 8 else { return nil }
            return Int64(littleEndian: v.loadUnaligned(as: Int64.self))
        }
    }
}
