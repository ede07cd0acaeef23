import Support

/// How a user key becomes a key of the `index` db.
///
/// LMDB keys are at most 511 bytes, but etcd keys may be as long as a
/// request. A key of at most `maxInlineBytes` is stored as it is. A longer
/// key is stored as its first `maxInlineBytes` bytes ‖ the first `hashBytes`
/// of its SHA-256, so it still sorts after every key that is a prefix of it
/// and before every key that differs within the inline part. Long keys that
/// share their inline part form one contiguous run in hash order; readers
/// re-sort such a run by the full key, which the record of the key's
/// latest revision (in the `rev` db) carries.
///
/// Any index key longer than `maxInlineBytes` is a hashed one.
enum IndexKey {
    static let maxInlineBytes = 495
    static let hashBytes = 16
    static let hashedBytes = maxInlineBytes + hashBytes

    @inline(__always)
    static func isHashed(_ indexKey: UnsafeRawBufferPointer) -> Bool { indexKey.count > maxInlineBytes }

    /// Calls `body` with the index key of `userKey`.
    @inline(__always)
    static func with<R>(_ userKey: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if userKey.count <= maxInlineBytes { return try body(userKey) }
        return try hashed(userKey).withUnsafeBytes(body)
    }

    static func with<R>(_ userKey: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try userKey.withUnsafeBytes { try with($0, body) }
    }

    /// The key an index cursor seeks to so that it lands on or before every
    /// key ≥ `userKey` (a long key's inline part sorts before it).
    static func seekKey(_ userKey: [UInt8]) -> [UInt8] {
        userKey.count <= maxInlineBytes ? userKey : Array(userKey.prefix(maxInlineBytes))
    }

    /// Whether two hashed index keys belong to the same run.
    static func sameRun(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        isHashed(a) && isHashed(b)
            && Bytes.compare(UnsafeRawBufferPointer(rebasing: a[0..<maxInlineBytes]),
                             UnsafeRawBufferPointer(rebasing: b[0..<maxInlineBytes])) == 0
    }

    private static func hashed(_ userKey: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: userKey[0..<maxInlineBytes]))
        var h = SHA256()
        h.update(userKey)
        out += h.finalize().prefix(hashBytes)
        return out
    }
}
