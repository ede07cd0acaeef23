import Crypto

/// SHA-256 (swift-crypto: the CPU's SHA extensions where present). The
/// snapshot paths hash every byte of the store: etcd's trailing digest on
/// `Maintenance.Snapshot` and `snapshot restore`, snapshot transfer between
/// members, and long-key index names.
public struct SHA256 {
    public static let digestBytes = 32
    private var hasher = Crypto.SHA256()

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest of everything written so far.
    public func finalize() -> [UInt8] { Array(hasher.finalize()) }

    public static func digest(_ bytes: [UInt8]) -> [UInt8] { Array(Crypto.SHA256.hash(data: bytes)) }
}

/// SHA-1, only where etcd derives IDs with it (member and cluster IDs).
public enum SHA1 {
    public static func digest(_ bytes: [UInt8]) -> [UInt8] { Array(Insecure.SHA1.hash(data: bytes)) }
}
