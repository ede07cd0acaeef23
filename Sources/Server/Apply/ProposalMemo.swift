import Foundation
import Proto

/// This member's own KV proposals, kept decoded from proposal to apply, so
/// the apply does not decode what the proposer encoded moments before
/// (unpacking a one-put Txn entry cost more instructions than applying it).
///
/// An entry is taken from the memo only when its bytes are the very bytes
/// proposed under its ID: the message is then what decoding would give
/// (the proposer's message is a decoded request, and encoding then decoding
/// one gives it back), so the apply is the same on every member, and a
/// follower, which decodes, applies the same request. Only proposals the
/// proposer has checked against the decoder's limits (`Validation`: txn
/// depth) may be remembered, so that the entry would decode.
///
/// A cache, not a ledger: a proposal that never commits is forgotten when
/// its request fails, and the memo empties itself when full.
final class ProposalMemo: @unchecked Sendable {
    /// Proposals held at most; beyond it the memo starts again empty (each
    /// slot holds a whole `InternalRaftRequest`, ~700 bytes).
    static let capacity = 4096

    private let lock = NSLock()
    private var held: [UInt64: (data: [UInt8], message: Swiftetcd.InternalRaftRequest)] = [:]  // guarded by `lock`

    /// Remembers `message`, proposed as `data` under `id` (`message.id`).
    func remember(id: UInt64, data: [UInt8], message: Swiftetcd.InternalRaftRequest) {
        lock.lock()
        if held.count >= Self.capacity { held.removeAll(keepingCapacity: true) }
        held[id] = (data, message)
        lock.unlock()
    }

    /// Drops a proposal whose request failed (it may still commit; it is
    /// then decoded).
    func forget(id: UInt64) {
        lock.lock()
        held.removeValue(forKey: id)
        lock.unlock()
    }

    /// The decoded message of `data`, an entry's bytes, when they are exactly
    /// a remembered proposal's; removes it. Nil for anything else.
    func take(_ data: [UInt8]) -> Swiftetcd.InternalRaftRequest? {
        guard let id = Self.leadingID(data) else { return nil }
        lock.lock()
        guard let found = held.removeValue(forKey: id) else {
            lock.unlock()
            return nil
        }
        lock.unlock()
        return Self.same(found.data, data) ? found.message : nil
    }

    var count: Int { lock.withLock { held.count } }

    /// Field 1 (the ID) when the entry starts with it, as every encoded
    /// `InternalRaftRequest` with an ID does (fields go out in number order).
    static func leadingID(_ data: [UInt8]) -> UInt64? {
        data.withUnsafeBufferPointer { bytes -> UInt64? in
            guard bytes.count > 1, bytes[0] == 0x08 else { return nil }
            var value: UInt64 = 0
            var shift: UInt64 = 0
            for i in 1..<min(bytes.count, 11) {
                let byte = bytes[i]
                value |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
    }

    private static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in x.baseAddress == y.baseAddress || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
        }
    }
}
