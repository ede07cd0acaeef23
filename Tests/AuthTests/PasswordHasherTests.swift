import Testing
@testable import Auth

/// Hashes Go's bcrypt (golang.org/x/crypto, as etcd) produced, and ours
/// checked the other way in the integration tests (bcryptcheck).
@Suite struct PasswordHasherTests {
    static let goHashes: [(String, String)] = [
        ("rootpw", "$2a$04$u8PhIhIlDxruaRlU5QUDEeO1TcgYVPyv7Hsto740kGiPhCOMQy9D6"),
        ("", "$2a$04$tXUupCyJRpUNiKXGyu0IJui77wY3hdjgI/Ki.21DzCbxPEzhue6eq"),
        ("pässwörd✓", "$2a$04$MjjCaQcsAxh9HRT3pb4SHeq/oKegtEGVUOWfAS5XuzIP3ko2lBUT6"),
        (String(repeating: "x", count: 72), "$2a$04$UPrBqeONmqgMcnl5DevZmuy4L3lco/nG0CsNgRsg1w540TK.TbN3S"),
    ]

    @Test func goHashesVerify() {
        for (password, hash) in Self.goHashes {
            #expect(PasswordHasher.verify(password, hash: Array(hash.utf8)), "\(password)")
            #expect(!PasswordHasher.verify(password + "!", hash: Array(hash.utf8)) || password.utf8.count >= 72)
        }
        // Go reads only the first 72 bytes.
        #expect(PasswordHasher.verify(String(repeating: "x", count: 100), hash: Array(Self.goHashes[3].1.utf8)))
    }

    @Test func oursAreGoFormatted() {
        let h = PasswordHasher.hash("secret", cost: 4)
        #expect(h.starts(with: Array("$2a$04$".utf8)) && h.count == 60)
        #expect(PasswordHasher.verify("secret", hash: h))
        #expect(!PasswordHasher.verify("Secret", hash: h))
        let long = String(repeating: "é", count: 200)
        #expect(PasswordHasher.verify(long, hash: PasswordHasher.hash(long, cost: 4)))
    }

    /// A password with a NUL inside is never hashed short: it cannot be
    /// hashed (the C bcrypt would stop at the NUL) and never verifies, even
    /// against the hash of its prefix.
    @Test func passwordsHoldingNULNeverVerify() {
        #expect(!PasswordHasher.canHash("p\u{0}q") && !PasswordHasher.canHash("\u{0}") && PasswordHasher.canHash("pq"))
        let prefix = PasswordHasher.hash("p", cost: 4)
        #expect(PasswordHasher.verify("p", hash: prefix))
        #expect(!PasswordHasher.verify("p\u{0}q", hash: prefix) && !PasswordHasher.verify("p\u{0}", hash: prefix))
    }

    @Test func malformedHashesNeverMatch() {
        for bad in ["", "$2a$", "plain", "$2a$04$short", String(repeating: "$", count: 500)] {
            #expect(!PasswordHasher.verify("x", hash: Array(bad.utf8)))
            #expect(!PasswordHasher.verify("x\u{0}", hash: Array(bad.utf8)))
        }
        #expect(PasswordHasher.validCost(3) == 10 && PasswordHasher.validCost(32) == 10 && PasswordHasher.validCost(12) == 12)
    }
}
