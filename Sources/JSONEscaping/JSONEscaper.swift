/// JSON string literals written the way etcd's Go code writes them, so our
/// JSON compares byte for byte with etcd 3.5.1's. One implementation for the
/// JSON gateway, the bbolt `members` bucket and the zap logs; no dependencies,
/// so every module may use it.
///
/// The two Go encoders etcd uses differ only in what they escape beyond the
/// JSON minimum (`"`, `\`, U+0000–U+001F):
/// - `encoding/json` (and jsonpb through it) is HTML-safe: `<`, `>`, `&` become
///   `\u003c`, `\u003e`, `\u0026`, and U+2028/U+2029 `\u2028`/`\u2029`
///   (JavaScript line terminators).
/// - zap's JSON encoder leaves those as they are.
///
/// Both write `\n`, `\r`, `\t` short; every other control character as
/// `\u00XX` with lower-case hex (Go 1.16, which built etcd 3.5.1: `\b` and `\f`
/// too, unlike Go ≥ 1.22); DEL (0x7F) and non-ASCII as their UTF-8 bytes. A
/// byte that does not start a valid UTF-8 sequence (Go's `utf8.DecodeRune`
/// rules: no overlongs, no surrogates, nothing above U+10FFFF) becomes
/// `\ufffd`, one per bad byte. A Swift `String` is always valid UTF-8, so only
/// the byte-array entry point can meet that case.
public enum JSONEscaper {
    public enum Dialect: Sendable {
        /// Go's `encoding/json` / jsonpb: HTML-safe.
        case encodingJSON
        /// go.uber.org/zap's JSON encoder.
        case zap
    }

    /// Appends `s` as a quoted JSON string.
    public static func append(_ s: String, to out: inout [UInt8], dialect: Dialect) {
        var s = s
        s.withUTF8 { append(utf8: $0, to: &out, dialect: dialect) }
    }

    /// Appends UTF-8 `bytes` (possibly invalid) as a quoted JSON string.
    public static func append(utf8 bytes: [UInt8], to out: inout [UInt8], dialect: Dialect) {
        bytes.withUnsafeBufferPointer { append(utf8: $0, to: &out, dialect: dialect) }
    }

    /// `s` as a quoted JSON string.
    public static func quoted(_ s: String, dialect: Dialect) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        append(s, to: &out, dialect: dialect)
        return String(decoding: out, as: UTF8.self)
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    private static func append(utf8 b: UnsafeBufferPointer<UInt8>, to out: inout [UInt8], dialect: Dialect) {
        let htmlSafe = dialect == .encodingJSON
        out.append(UInt8(ascii: "\""))
        var i = 0
        var run = 0  // start of the bytes not yet copied: copied in one go
        while i < b.count {
            let c = b[i]
            if c < 0x80 {
                if c >= 0x20, c != 0x22, c != 0x5C, !(htmlSafe && (c == 0x3C || c == 0x3E || c == 0x26)) {
                    i += 1
                    continue
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[run..<i]))
                switch c {
                case 0x22, 0x5C: out.append(contentsOf: [0x5C, c])
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                default: out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 0xF)]])
                }
                i += 1
                run = i
                continue
            }
            let n = sequenceLength(b, at: i)
            if n == 0 {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[run..<i]))
                out.append(contentsOf: Array("\\ufffd".utf8))
                i += 1
                run = i
            } else if htmlSafe, n == 3, c == 0xE2, b[i + 1] == 0x80, b[i + 2] == 0xA8 || b[i + 2] == 0xA9 {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[run..<i]))
                out.append(contentsOf: Array((b[i + 2] == 0xA8 ? "\\u2028" : "\\u2029").utf8))
                i += 3
                run = i
            } else {
                i += n
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: b[run..<b.count]))
        out.append(UInt8(ascii: "\""))
    }

    /// The length of the valid UTF-8 sequence starting at `i` (a byte ≥ 0x80),
    /// or 0 when it is not one (Go's accept ranges for the second byte).
    private static func sequenceLength(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        let c = b[i]
        let n: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: n = 2
        case 0xE0: n = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: n = 3
        case 0xED: n = 3; hi = 0x9F
        case 0xF0: n = 4; lo = 0x90
        case 0xF1...0xF3: n = 4
        case 0xF4: n = 4; hi = 0x8F
        default: return 0
        }
        guard b.count - i >= n, (lo...hi).contains(b[i + 1]) else { return 0 }
        for k in 2..<n where !(0x80...0xBF).contains(b[i + k]) { return 0 }
        return n
    }
}
