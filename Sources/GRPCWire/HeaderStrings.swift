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

enum KnownHeader {
    case path, method, scheme, authority, contentType, grpcTimeout, te, userAgent, grpcAcceptEncoding, grpcEncoding
    case other

    init(_ name: UnsafeBufferPointer<UInt8>) {
        let eq = { (s: StaticString) in Self.equal(name, s) }
        switch name.count {
        case 2: self = eq("te") ? .te : .other
        case 5: self = eq(":path") ? .path : .other
        case 7: self = eq(":method") ? .method : eq(":scheme") ? .scheme : .other
        case 10: self = eq(":authority") ? .authority : eq("user-agent") ? .userAgent : .other
        case 12: self = eq("content-type") ? .contentType : eq("grpc-timeout") ? .grpcTimeout : .other
        case 13: self = eq("grpc-encoding") ? .grpcEncoding : .other
        case 20: self = eq("grpc-accept-encoding") ? .grpcAcceptEncoding : .other
        default: self = .other
        }
    }

    /// The four pseudo-headers a request may carry.
    var isRequestPseudoHeader: Bool {
        switch self {
        case .path, .method, .scheme, .authority: return true
        default: return false
        }
    }

    static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ s: StaticString) -> Bool {
        guard bytes.count == s.utf8CodeUnitCount, let base = bytes.baseAddress else { return bytes.isEmpty && s.utf8CodeUnitCount == 0 }
        return memcmp(base, s.utf8Start, bytes.count) == 0
    }
}
