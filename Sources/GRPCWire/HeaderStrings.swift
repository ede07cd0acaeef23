import Glibc

/// Header names and values as Strings without a heap copy for the ones a
/// connection repeats on every call (`:path`, `content-type: application/grpc`).
///
/// A String keeps up to 15 UTF-8 bytes inline; a longer one is a malloc and
/// a free per header per call. Longer strings are looked up among the last
/// `capacity` long ones this connection sent and shared when the bytes match.
/// Bounded: a client sending ever-new values only turns the ring over.
struct HeaderStrings {
    static let capacity = 8
    /// Strings longer than this are not remembered (a path or a media type is short).
    static let maxRemembered = 128

    private var recent: [String] = []
    private var next = 0

    mutating func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        if bytes.count <= 15 || bytes.count > Self.maxRemembered { return String(decoding: bytes, as: UTF8.self) }
        for s in recent where Self.equal(s, bytes) { return s }
        let s = String(decoding: bytes, as: UTF8.self)
        if recent.count < Self.capacity {
            recent.append(s)
        } else {
            recent[next] = s
            next = (next + 1) % Self.capacity
        }
        return s
    }

    private static func equal(_ s: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard s.utf8.count == bytes.count, let base = bytes.baseAddress else { return false }
        if let same = s.utf8.withContiguousStorageIfAvailable({ memcmp($0.baseAddress!, base, bytes.count) == 0 }) {
            return same
        }
        return s.utf8.elementsEqual(bytes)
    }
}
