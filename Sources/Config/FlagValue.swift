/// A parsed flag value. Produced from command-line text, `ETCD_*` text or a
/// YAML node, so that all three sources end in the same typed form.
public enum FlagValue: Sendable, Equatable {
    case string(String)
    case uint(UInt64)
    case int(Int64)
    case bool(Bool)
    case duration(Duration)
    case urls([EtcdURL])
    case strings([String])

    /// Parses `text` as `type`. The error's text is what Go's `flag` package
    /// prints after `invalid value "…" for flag -name: `.
    public static func parse(_ text: String, as type: FlagValueType) throws(FlagValueError) -> FlagValue {
        switch type {
        case .string:
            return .string(text)
        case .uint, .size:
            guard let v = parseGoUnsigned(text) else {
                throw FlagValueError(text.hasPrefix("-") ? "parse error (must not be negative)" : "parse error")
            }
            return .uint(v)
        case .uint32:
            guard let v = parseGoUnsigned(text) else { throw FlagValueError("parse error") }
            guard v <= UInt64(UInt32.max) else { throw FlagValueError("value out of range") }
            return .uint(v)
        case .int:
            guard let v = parseGoSigned(text) else { throw FlagValueError("parse error") }
            return .int(v)
        case .bool:
            guard let v = parseGoBool(text) else { throw FlagValueError("parse error") }
            return .bool(v)
        case .duration:
            return .duration(try GoDuration.parse(text))
        case .urlList:
            // An explicit empty list is an error in etcd too (NewURLs on "").
            return .urls(try EtcdURL.parseList(text))
        case .stringList:
            return .strings(splitList(text))
        case .choice(let allowed):
            guard allowed.contains(text) else {
                throw FlagValueError("valid values are \(allowed.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
            return .string(text)
        }
    }

    /// etcd splits list flags on commas and drops empty items.
    static func splitList(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: true)
            .map { String($0).trimmingSpaces() }
            .filter { !$0.isEmpty }
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var uintValue: UInt64? { if case .uint(let v) = self { return v }; return nil }
    public var intValue: Int64? { if case .int(let v) = self { return v }; return nil }
    public var boolValue: Bool? { if case .bool(let v) = self { return v }; return nil }
    public var durationValue: Duration? { if case .duration(let v) = self { return v }; return nil }
    public var urlsValue: [EtcdURL]? { if case .urls(let v) = self { return v }; return nil }
    public var stringsValue: [String]? { if case .strings(let v) = self { return v }; return nil }
}

/// Why a value did not parse; `message` follows Go's wording where there is one.
public struct FlagValueError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Go `strconv.ParseBool`.
func parseGoBool(_ s: String) -> Bool? {
    switch s {
    case "1", "t", "T", "TRUE", "true", "True": return true
    case "0", "f", "F", "FALSE", "false", "False": return false
    default: return nil
    }
}

/// Go `strconv.ParseUint(s, 0, 64)`: decimal, `0x` hex, `0o`/leading-0 octal, `0b`
/// binary, `_` separators are not accepted (rare; kept out for clarity).
func parseGoUnsigned(_ s: String) -> UInt64? {
    guard !s.isEmpty, !s.hasPrefix("-"), !s.hasPrefix("+") else { return nil }
    let lower = s.lowercased()
    if lower.hasPrefix("0x") { return UInt64(lower.dropFirst(2), radix: 16) }
    if lower.hasPrefix("0b") { return UInt64(lower.dropFirst(2), radix: 2) }
    if lower.hasPrefix("0o") { return UInt64(lower.dropFirst(2), radix: 8) }
    if lower.count > 1, lower.hasPrefix("0") { return UInt64(lower.dropFirst(1), radix: 8) }
    return UInt64(lower, radix: 10)
}

/// Go `strconv.ParseInt(s, 0, 64)`.
func parseGoSigned(_ s: String) -> Int64? {
    if s.hasPrefix("-") {
        guard let magnitude = parseGoUnsigned(String(s.dropFirst())) else { return nil }
        if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return -Int64(magnitude)
    }
    let body = s.hasPrefix("+") ? String(s.dropFirst()) : s
    guard let magnitude = parseGoUnsigned(body), magnitude <= UInt64(Int64.max) else { return nil }
    return Int64(magnitude)
}

extension String {
    func trimmingSpaces() -> String {
        var sub = Substring(self)
        while let f = sub.first, f.isWhitespace { sub.removeFirst() }
        while let l = sub.last, l.isWhitespace { sub.removeLast() }
        return String(sub)
    }
}
