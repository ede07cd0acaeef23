/// Standard base64 (RFC 4648 §4) for the JSON mapping of `bytes` fields.
/// Decoding is Go's StdEncoding, which etcd's gateway uses: padding
/// required, line breaks skipped, and the URL alphabet ('-', '_') refused
/// with "illegal base64 data" as etcd 3.5.1 answers it.
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let reverse: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
        return table
    }()

    public static func encode(_ input: [UInt8], into out: inout [UInt8]) {
        // Geometric growth: an exact reserve copies the whole of `out` per
        // call, quadratic for a JSON response holding many keys and values.
        let needed = out.count + (input.count + 2) / 3 * 4
        if needed > out.capacity { out.reserveCapacity(Swift.max(needed, 2 * out.capacity)) }
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)]); out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)]); out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = input.count - i
        if rest > 0 {
            let n = UInt32(input[i]) << 16 | (rest == 2 ? UInt32(input[i + 1]) << 8 : 0)
            out.append(alphabet[Int(n >> 18 & 63)]); out.append(alphabet[Int(n >> 12 & 63)])
            out.append(rest == 2 ? alphabet[Int(n >> 6 & 63)] : UInt8(ascii: "="))
            out.append(UInt8(ascii: "="))
        }
    }

    public static func encode(_ input: [UInt8]) -> String {
        var out: [UInt8] = []
        encode(input, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Throws Go's "illegal base64 data at input byte N" for a bad character
    /// or a missing padding (N is then where the last group starts).
    public static func decode(_ text: String) throws(ProtoJSONError) -> [UInt8] {
        let chars = text.utf8.filter { $0 != 0x0A && $0 != 0x0D }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 4 * 3)
        var i = 0
        while i < chars.count {
            var acc: UInt32 = 0, digits = 0
            for j in 0..<4 {
                guard i + j < chars.count else { throw illegal(i) }
                let c = chars[i + j]
                if c == UInt8(ascii: "=") {
                    // Padding: only in the last two places of the last group, and all the way.
                    if j < 2 { throw illegal(i + j) }
                    for k in j..<4 where i + k >= chars.count || chars[i + k] != UInt8(ascii: "=") {
                        throw illegal(min(i + k, chars.count))
                    }
                    if i + 4 < chars.count { throw illegal(i + 4) }
                    break
                }
                let v = reverse[Int(c)]
                if v < 0 { throw illegal(i + j) }
                acc = acc << 6 | UInt32(v)
                digits += 1
            }
            acc <<= UInt32(6 * (4 - digits))
            out.append(UInt8(acc >> 16 & 0xFF))
            if digits >= 3 { out.append(UInt8(acc >> 8 & 0xFF)) }
            if digits == 4 { out.append(UInt8(acc & 0xFF)) }
            i += 4
        }
        return out
    }

    private static func illegal(_ offset: Int) -> ProtoJSONError {
        ProtoJSONError("illegal base64 data at input byte \(offset)")
    }
}
