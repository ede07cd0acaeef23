import HummingbirdBcrypt

/// bcrypt as etcd uses it (Go's golang.org/x/crypto/bcrypt), so a user
/// store moves between etcd and swift-etcd both ways.
///
/// Go writes `$2a$` hashes but computes them as OpenBSD's `$2b$` does: the
/// key is the password and a NUL, of which the key schedule reads the first
/// 72 bytes. The C code behind `Bcrypt` computes `$2b$` exactly so but
/// keeps the old `$2a$` byte-counter quirk (passwords of 255+ bytes wrap).
/// So hashes are computed as `$2b$` and labelled `$2a$`, and a stored
/// `$2a$`/`$2y$` hash is checked as its `$2b$` twin: the same answers as Go
/// for every password without a NUL byte. That C code takes C strings, so it
/// would hash "p\0q" as "p"; such passwords are refused (`canHash`) rather
/// than hashed short, and never verify: bcrypt stays the maintained
/// package's, not ours.
///
/// Each call costs 2^cost Blowfish key setups (≈ 50–100 ms at cost 10):
/// never run it on an event loop or the Raft thread (see `BlockingPool`).
public enum PasswordHasher {
    /// etcd's bcrypt bounds; an out-of-range --bcrypt-cost falls back to 10 as etcd.
    public static let minCost = 4
    public static let maxCost = 31
    public static let defaultCost = 10

    public static func validCost(_ cost: Int) -> Int { (minCost...maxCost).contains(cost) ? cost : defaultCost }

    /// Whether `password` can be hashed as Go hashes it (no NUL byte inside).
    public static func canHash(_ password: String) -> Bool { !password.utf8.contains(0) }

    /// A Go-compatible `$2a$` hash of `password` (callers check `canHash` first).
    public static func hash(_ password: String, cost: Int) -> [UInt8] {
        return relabel(Array(Bcrypt.hash(password, cost: UInt8(validCost(cost))).utf8), as: "a")
    }

    /// Whether `password` matches a stored hash (false for anything malformed).
    public static func verify(_ password: String, hash: [UInt8]) -> Bool {
        guard canHash(password), hash.count < 128, !hash.contains(0),
              let text = String(validating: relabel(hash, as: "b"), as: UTF8.self) else { return false }
        return Bcrypt.verify(password, hash: text)
    }

    /// `hash` with its minor version letter ("$2?$") set to `minor`.
    static func relabel(_ hash: [UInt8], as minor: Unicode.Scalar) -> [UInt8] {
        var bytes = hash
        guard bytes.count > 3, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"), bytes[3] == UInt8(ascii: "$"),
              [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "y")].contains(bytes[2]) else { return bytes }
        bytes[2] = UInt8(ascii: minor)
        return bytes
    }
}
