/// A strict RFC 8259 parser over bytes. Depth is bounded by `maxDepth` so
/// hostile input cannot exhaust the stack.
struct JSONParser {
    /// Room for the deepest txn the server takes (`ProtoLimits.maxTxnDepth`):
    /// each level is three JSON values (`{"success":[{"request_txn":…`),
    /// plus a few for the innermost op. Go's encoding/json stops at 10000.
    static let maxDepth = 3 * ProtoLimits.maxTxnDepth + 8

    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The byte offset reached; after a throw, where the input went wrong.
    var position: Int { index }

    mutating func parseDocument() throws(ProtoJSONError) -> JSONValue {
        skipSpace()
        let value = try parseValue(context: "looking for beginning of value")
        skipSpace()
        if index < bytes.count {
            throw invalid(bytes[index], "after top-level value")
        }
        return value
    }

    /// The next value of a stream of values, nil at the end (only whitespace left).
    mutating func next() throws(ProtoJSONError) -> JSONValue? {
        skipSpace()
        if index >= bytes.count { return nil }
        return try parseValue(context: "looking for beginning of value")
    }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func invalid(_ byte: UInt8, _ context: String) -> ProtoJSONError {
        let shown: String
        if byte == UInt8(ascii: "'") {
            shown = "'\\''"
        } else if byte == UInt8(ascii: "\"") {
            shown = "'\"'"
        } else if byte < 0x20 || byte > 0x7E {
            shown = byte < 0x80 ? "'\\x\(String(byte, radix: 16, uppercase: false))'" : "'\\u00\(String(byte, radix: 16))'"
        } else {
            shown = "'\(Character(Unicode.Scalar(byte)))'"
        }
        return ProtoJSONError("invalid character \(shown) \(context)")
    }

    private static let unexpectedEnd = ProtoJSONError("unexpected end of JSON input")

    private mutating func parseValue(context: String) throws(ProtoJSONError) -> JSONValue {
        guard index < bytes.count else { throw Self.unexpectedEnd }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case let byte: throw invalid(byte, context)
        }
    }

    private mutating func literal(_ word: StaticString) throws(ProtoJSONError) {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for (offset, byte) in expected.enumerated() {
            guard index + offset < bytes.count else { throw Self.unexpectedEnd }
            if bytes[index + offset] != byte {
                throw invalid(bytes[index + offset], "in literal \(word) (expecting '\(Character(Unicode.Scalar(byte)))')")
            }
        }
        index += expected.count
    }

    /// Go's encoding/json nesting limit (scanner.go maxNestingDepth).
    static let goMaxDepth = 10_000

    private mutating func enter() throws(ProtoJSONError) {
        depth += 1
        guard depth > Self.maxDepth else { return }
        // Go checks the whole document's syntax before decoding: past its own
        // limit it answers as its scanner; within it, the request reaches etcd's
        // checks (a txn that deep: "too many operations"), which the caller gives.
        if let opener = Self.firstOpener(beyond: Self.goMaxDepth, in: bytes) {
            throw invalid(opener, "exceeded max depth")
        }
        var error = invalid(bytes[index], "exceeded max depth")
        error.nestedBeyondParser = true
        throw error
    }

    /// The `{` or `[` that opens level `limit + 1`, if the document nests that
    /// deep (outside strings); iterative, so any depth is safe to measure.
    static func firstOpener(beyond limit: Int, in bytes: [UInt8]) -> UInt8? {
        var level = 0, inString = false, escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                level += 1
                if level > limit { return byte }
            case UInt8(ascii: "}"), UInt8(ascii: "]"): level -= 1
            default: break
            }
        }
        return nil
    }

    private mutating func parseObject() throws(ProtoJSONError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var members: [JSONMember] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard index < bytes.count else { throw Self.unexpectedEnd }
            guard bytes[index] == UInt8(ascii: "\"") else {
                throw invalid(bytes[index], "looking for beginning of object key string")
            }
            let key = try parseString()
            skipSpace()
            guard index < bytes.count else { throw Self.unexpectedEnd }
            guard bytes[index] == UInt8(ascii: ":") else { throw invalid(bytes[index], "after object key") }
            index += 1
            skipSpace()
            members.append(JSONMember(key, try parseValue(context: "looking for beginning of value")))
            skipSpace()
            guard index < bytes.count else { throw Self.unexpectedEnd }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(members)
            case let byte: throw invalid(byte, "after object key:value pair")
            }
        }
    }

    private mutating func parseArray() throws(ProtoJSONError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var items: [JSONValue] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            skipSpace()
            items.append(try parseValue(context: "looking for beginning of value"))
            skipSpace()
            guard index < bytes.count else { throw Self.unexpectedEnd }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(items)
            case let byte: throw invalid(byte, "after array element")
            }
        }
    }

    private mutating func parseNumber() throws(ProtoJSONError) -> String {
        let start = index
        func digits(_ p: inout JSONParser) -> Int {
            let s = p.index
            while p.index < p.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(p.bytes[p.index]) { p.index += 1 }
            return p.index - s
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw Self.unexpectedEnd }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if digits(&self) == 0 {
            throw invalid(bytes[index], "in numeric literal")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count else { throw Self.unexpectedEnd }
            if digits(&self) == 0 { throw invalid(bytes[index], "in numeric literal") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count else { throw Self.unexpectedEnd }
            if digits(&self) == 0 { throw invalid(bytes[index], "in exponent of numeric literal") }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func parseString() throws(ProtoJSONError) -> String {
        index += 1
        var out: [UInt8] = []
        while true {
            guard index < bytes.count else { throw Self.unexpectedEnd }
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                // Invalid UTF-8 becomes U+FFFD, as Go does.
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw Self.unexpectedEnd }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), index + 1 < bytes.count,
                       bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                        let save = index
                        index += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            index = save
                        }
                    }
                    let char = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                    out.append(contentsOf: Array(String(Character(char)).utf8))
                default:
                    throw invalid(escape, "in string escape code")
                }
            case 0..<0x20:
                throw invalid(byte, "in string literal")
            default:
                out.append(byte)
            }
        }
    }

    private mutating func hex4() throws(ProtoJSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw Self.unexpectedEnd }
            let c = bytes[index]
            let digit: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw invalid(c, "in \\u hexadecimal character escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
