/// The syntax checks of Go's `url.Parse` (go1.16, which etcd 3.5.1 is built
/// with) that etcd's `types.NewURLs` relies on before its own scheme,
/// host:port and path rules: control characters, a scheme that starts with
/// ':', a colon in the first segment of a scheme-less URL, '%' escapes,
/// characters a host may not hold, a port that is not digits, an unclosed
/// IPv6 bracket, invalid userinfo. Peer URLs come from clients
/// (MemberAdd/MemberUpdate) and from flags; what Go refuses we refuse too.
enum GoURLSyntax {
    /// nil when Go's url.Parse accepts `text`, else Go's error text, e.g.
    /// `parse "http://[::1": missing ']' in host`.
    static func parseError(_ text: String) -> String? {
        guard let why = problem(Array(text.utf8)) else { return nil }
        return "parse \(goQuote(text)): \(why)"
    }

    private static func problem(_ url: [UInt8]) -> String? {
        if url.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return "net/url: invalid control character in URL" }
        var main = url[...]
        if let hash = url.firstIndex(of: ascii("#")) {
            if let bad = unescapeError(url[(hash + 1)...], .fragment) { return bad }
            main = url[..<hash]
        }
        let afterColon: ArraySlice<UInt8>?
        do { afterColon = try afterScheme(main) } catch { return "missing protocol scheme" }
        guard var rest = afterColon else {
            // No scheme: only a colon in the first path segment is an error.
            let segment = main.prefix { $0 != ascii("/") }
            if !main.starts(with: [ascii("/")]) && segment.contains(ascii(":")) {
                return "first path segment in URL cannot contain colon"
            }
            return unescapeError(main.prefix { $0 != ascii("?") }, .path)
        }
        if rest.last == ascii("?") && rest.filter({ $0 == ascii("?") }).count == 1 {
            rest = rest.dropLast()
        } else if let q = rest.firstIndex(of: ascii("?")) {
            rest = rest[..<q]
        }
        guard rest.starts(with: [ascii("/")]) else { return nil }  // opaque: nothing more to check
        var path = rest
        if rest.starts(with: [ascii("/"), ascii("/")]) {
            let afterSlashes = rest.dropFirst(2)
            let authority = afterSlashes.prefix { $0 != ascii("/") }
            path = afterSlashes[authority.endIndex...]
            if let bad = authorityError(authority) { return bad }
        }
        return unescapeError(path, .path)
    }

    /// What follows "scheme:" (nil: no scheme); throws for a leading ':'.
    private static func afterScheme(_ s: ArraySlice<UInt8>) throws -> ArraySlice<UInt8>? {
        for i in s.indices {
            let c = s[i]
            if isLetter(c) { continue }
            if isDigit(c) || c == ascii("+") || c == ascii("-") || c == ascii(".") {
                if i == s.startIndex { return nil }
                continue
            }
            if c == ascii(":") {
                if i == s.startIndex { throw SchemeError() }
                return s[(i + 1)...]
            }
            return nil
        }
        return nil
    }

    private struct SchemeError: Error {}

    private static func authorityError(_ authority: ArraySlice<UInt8>) -> String? {
        var host = authority
        if let at = authority.lastIndex(of: ascii("@")) {
            let userinfo = authority[..<at]
            if !userinfo.allSatisfy(isUserinfoByte) { return "net/url: invalid userinfo" }
            if let bad = unescapeError(userinfo, .userinfo) { return bad }
            host = authority[(at + 1)...]
        }
        return hostError(host)
    }

    private static func hostError(_ host: ArraySlice<UInt8>) -> String? {
        if host.first == ascii("[") {
            guard let close = host.lastIndex(of: ascii("]")) else { return "missing ']' in host" }
            let colonPort = host[(close + 1)...]
            if !validOptionalPort(colonPort) { return "invalid port \(goQuote(colonPort)) after host" }
            let zoneMarker: [UInt8] = Array("%25".utf8)
            if let zone = firstRange(of: zoneMarker, in: host[..<close]) {
                return unescapeError(host[..<zone], .host) ?? unescapeError(host[zone..<close], .zone)
                    ?? unescapeError(host[close...], .host)
            }
        } else if let colon = host.lastIndex(of: ascii(":")) {
            let colonPort = host[colon...]
            if !validOptionalPort(colonPort) { return "invalid port \(goQuote(colonPort)) after host" }
        }
        return unescapeError(host, .host)
    }

    private enum Mode { case host, zone, path, userinfo, fragment }

    /// Go's `unescape` errors: a '%' not followed by two hex digits; in a
    /// host, escapes of ASCII bytes other than %25 and bytes a host may not
    /// hold.
    private static func unescapeError(_ s: ArraySlice<UInt8>, _ mode: Mode) -> String? {
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == ascii("%") {
                guard i + 2 < s.endIndex, let hi = hexValue(s[i + 1]), let lo = hexValue(s[i + 2]) else {
                    return "invalid URL escape \(goQuote(s[i..<min(i + 3, s.endIndex)]))"
                }
                let escape = s[i..<(i + 3)]
                let isPercent = Array(escape) == Array("%25".utf8)
                if mode == .host && hi < 8 && !isPercent { return "invalid URL escape \(goQuote(escape))" }
                if mode == .zone {
                    let v = hi << 4 | lo
                    if !isPercent && v != ascii(" ") && hostMustEscape(v) { return "invalid URL escape \(goQuote(escape))" }
                }
                i += 3
                continue
            }
            if (mode == .host || mode == .zone) && c < 0x80 && hostMustEscape(c) {
                return "invalid character \(goQuote(s[i...i])) in host name"
            }
            i += 1
        }
        return nil
    }

    /// Go's shouldEscape(c, encodeHost) for ASCII bytes.
    private static func hostMustEscape(_ c: UInt8) -> Bool {
        if isLetter(c) || isDigit(c) { return false }
        return !"-_.~!$&'()*+,;=:[]<>\"".utf8.contains(c)
    }

    private static func isUserinfoByte(_ c: UInt8) -> Bool {
        isLetter(c) || isDigit(c) || "-._:~!$&'()*+,;=%@".utf8.contains(c)
    }

    /// Empty, or ':' and digits only.
    private static func validOptionalPort(_ s: ArraySlice<UInt8>) -> Bool {
        guard let first = s.first else { return true }
        return first == ascii(":") && s.dropFirst().allSatisfy(isDigit)
    }

    private static func firstRange(of needle: [UInt8], in s: ArraySlice<UInt8>) -> Int? {
        guard s.count >= needle.count else { return nil }
        for i in s.startIndex...(s.endIndex - needle.count) where s[i..<(i + needle.count)].elementsEqual(needle) {
            return i
        }
        return nil
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case ascii("0")...ascii("9"): return c - ascii("0")
        case ascii("a")...ascii("f"): return c - ascii("a") + 10
        case ascii("A")...ascii("F"): return c - ascii("A") + 10
        default: return nil
        }
    }

    private static func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= ascii("a") && (c | 0x20) <= ascii("z") }
    private static func isDigit(_ c: UInt8) -> Bool { c >= ascii("0") && c <= ascii("9") }
    private static func ascii(_ s: Unicode.Scalar) -> UInt8 { UInt8(ascii: s) }

    /// Go's strconv.Quote for the texts errors show (ASCII control bytes escaped).
    static func goQuote(_ text: some Sequence<UInt8>) -> String {
        var out = "\""
        var bytes: [UInt8] = []
        for c in text {
            switch c {
            case ascii("\""): bytes += Array("\\\"".utf8)
            case ascii("\\"): bytes += Array("\\\\".utf8)
            case ascii("\n"): bytes += Array("\\n".utf8)
            case ascii("\t"): bytes += Array("\\t".utf8)
            case ascii("\r"): bytes += Array("\\r".utf8)
            case 0..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                bytes += [ascii("\\"), ascii("x"), hex[Int(c >> 4)], hex[Int(c & 15)]]
            default: bytes.append(c)
            }
        }
        out += String(decoding: bytes, as: UTF8.self)
        return out + "\""
    }

    static func goQuote(_ text: String) -> String { goQuote(text.utf8) }
}
