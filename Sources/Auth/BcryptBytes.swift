/// bcrypt over a password's bytes, as Go's golang.org/x/crypto/bcrypt
/// computes it (what etcd uses): the key is every byte of the password and
/// a trailing NUL, read cyclically for the 72 bytes of the key schedule; an
/// embedded NUL is just another byte. HummingbirdBcrypt's C code takes C
/// strings and would end such a password at its first NUL (so "p\0q" would
/// check as "p"); `PasswordHasher` sends passwords holding a NUL here.
///
/// Hash text: `$2a$` + two-digit cost + `$` + 22 characters of salt + 31 of
/// hash, in bcrypt's base64 alphabet.
enum BcryptBytes {
    static let alphabet = Array("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
    static let magic = Array("OrpheanBeholderScryDoubt".utf8)

    /// The `$2a$` hash of `password` with the 16-byte `salt`.
    static func hash(_ password: [UInt8], cost: Int, salt: [UInt8]) -> [UInt8] {
        precondition(salt.count == 16 && (4...31).contains(cost))
        let digest = compute(password, cost: cost, salt: salt)
        let costText = Array((cost < 10 ? "0\(cost)" : "\(cost)").utf8)
        return Array("$2a$".utf8) + costText + [UInt8(ascii: "$")] + encode(salt) + encode(Array(digest.prefix(23)))
    }

    /// A fresh random salt, then `hash`.
    static func hash(_ password: [UInt8], cost: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return hash(password, cost: cost, salt: (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// Whether `stored` (`$2?$NN$` + salt + hash) is the hash of `password`.
    static func verify(_ password: [UInt8], hash stored: [UInt8]) -> Bool {
        guard stored.count == 60, stored[0] == UInt8(ascii: "$"), stored[1] == UInt8(ascii: "2"),
              stored[3] == UInt8(ascii: "$"), stored[6] == UInt8(ascii: "$"),
              let tens = digit(stored[4]), let ones = digit(stored[5]), (4...31).contains(tens * 10 + ones),
              let salt = decode(Array(stored[7..<29])), salt.count == 16 else { return false }
        let digest = compute(password, cost: tens * 10 + ones, salt: salt)
        let expected = encode(Array(digest.prefix(23)))
        // Constant time over the hash part.
        var diff: UInt8 = 0
        for (a, b) in zip(expected, stored[29...]) { diff |= a ^ b }
        return diff == 0
    }

    private static func digit(_ c: UInt8) -> Int? { (0x30...0x39).contains(c) ? Int(c - 0x30) : nil }

    /// EksBlowfish setup (2^cost rounds of key and salt expansion), then
    /// "OrpheanBeholderScryDoubt" encrypted 64 times: 24 bytes.
    static func compute(_ password: [UInt8], cost: Int, salt: [UInt8]) -> [UInt8] {
        let key = password + [0]
        var state = BlowfishState()
        state.expand(key: key, salt: salt)
        for _ in 0..<(1 << cost) {
            state.expand(key: key, salt: nil)
            state.expand(key: salt, salt: nil)
        }
        var words = [UInt32](repeating: 0, count: 6)
        for (i, byte) in magic.enumerated() { words[i / 4] = words[i / 4] << 8 | UInt32(byte) }
        for block in stride(from: 0, to: 6, by: 2) {
            var (l, r) = (words[block], words[block + 1])
            for _ in 0..<64 { (l, r) = state.encrypt(l, r) }
            (words[block], words[block + 1]) = (l, r)
        }
        var out: [UInt8] = []
        for word in words {
            for shift in [24, 16, 8, 0] as [UInt32] { out.append(UInt8(truncatingIfNeeded: word >> shift)) }
        }
        return out
    }

    /// bcrypt's base64: standard bit order, its own alphabet, no padding.
    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            if i + 1 < bytes.count { out.append(alphabet[Int((b1 & 15) << 2 | b2 >> 6)]) }
            if i + 2 < bytes.count { out.append(alphabet[Int(b2 & 63)]) }
            i += 3
        }
        return out
    }

    static func decode(_ text: [UInt8]) -> [UInt8]? {
        var values: [UInt8] = []
        for c in text {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            values.append(UInt8(v))
        }
        var out: [UInt8] = []
        var i = 0
        while i + 1 < values.count {
            out.append(values[i] << 2 | values[i + 1] >> 4)
            if i + 2 < values.count { out.append(values[i + 1] << 4 | values[i + 2] >> 2) }
            if i + 3 < values.count { out.append(values[i + 2] << 6 | values[i + 3]) }
            i += 4
        }
        return out
    }
}

/// Blowfish's P-array and S-boxes (18 + 4 × 256 words), starting from π.
struct BlowfishState {
    private var w: [UInt32] = BlowfishPi.words

    @inline(__always)
    private func f(_ x: UInt32) -> UInt32 {
        w.withUnsafeBufferPointer { s in
            ((s[18 + Int(x >> 24)] &+ s[274 + Int(x >> 16 & 0xFF)]) ^ s[530 + Int(x >> 8 & 0xFF)]) &+ s[786 + Int(x & 0xFF)]
        }
    }

    func encrypt(_ left: UInt32, _ right: UInt32) -> (UInt32, UInt32) {
        var l = left ^ w[0], r = right
        var i = 1
        while i < 17 {
            r ^= f(l) ^ w[i]
            l ^= f(r) ^ w[i + 1]
            i += 2
        }
        return (r ^ w[17], l)
    }

    /// XORs `key` (cyclically) into the P-array, then re-encrypts every word
    /// of the state in pairs, XORing in `salt` (cyclically) first if given.
    mutating func expand(key: [UInt8], salt: [UInt8]?) {
        var j = 0
        for i in 0..<18 {
            var d: UInt32 = 0
            for _ in 0..<4 {
                d = d << 8 | UInt32(key[j])
                j = j + 1 == key.count ? 0 : j + 1
            }
            w[i] ^= d
        }
        var l: UInt32 = 0, r: UInt32 = 0
        var s = 0
        func saltWord() -> UInt32 {
            guard let salt else { return 0 }
            var d: UInt32 = 0
            for _ in 0..<4 {
                d = d << 8 | UInt32(salt[s])
                s = s + 1 == salt.count ? 0 : s + 1
            }
            return d
        }
        var i = 0
        while i < w.count {
            l ^= saltWord()
            r ^= saltWord()
            (l, r) = encrypt(l, r)
            w[i] = l
            w[i + 1] = r
            i += 2
        }
    }
}
