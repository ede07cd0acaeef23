/// Prometheus text exposition (format 0.0.4), written the way Go's
/// client_golang writes it so scrapers and diff tools see etcd's shape:
/// one `# HELP` / `# TYPE` per family, families sorted by name, labels
/// sorted by name, series sorted by label values, numbers in Go's `%g`
/// shortest form (`2.7271168e+07`, `0.001`, `+Inf`).
struct MetricsText {
    enum Kind: String { case counter, gauge, histogram }
    typealias Labels = [(String, String)]

    private var families: [String: String] = [:]

    var text: String { families.keys.sorted().map { families[$0]! }.joined() }

    mutating func gauge(_ name: String, _ help: String, _ value: Double, labels: Labels = []) {
        family(name, help, .gauge, [(labels, value)])
    }

    mutating func counter(_ name: String, _ help: String, _ value: Double, labels: Labels = []) {
        family(name, help, .counter, [(labels, value)])
    }

    /// A counter or gauge family with several labelled series.
    mutating func family(_ name: String, _ help: String, _ kind: Kind, _ series: [(Labels, Double)]) {
        var out = Self.header(name, help, kind)
        for (labels, value) in Self.sorted(series) {
            out += name + Self.render(labels) + " " + Self.goFloat(value) + "\n"
        }
        families[name] = out
    }

    /// A histogram family: `_bucket{le=…}` (cumulative), `_sum`, `_count` per series.
    mutating func histogram(_ name: String, _ help: String, bounds: [Double],
                            _ series: [(Labels, MetricHistogram.Snapshot)]) {
        var out = Self.header(name, help, .histogram)
        for (labels, snap) in Self.sorted(series) {
            for (i, count) in snap.cumulative.enumerated() {
                let le = i < bounds.count ? Self.goFloat(bounds[i]) : "+Inf"
                out += name + "_bucket" + Self.render(labels + [("le", le)]) + " " + String(count) + "\n"
            }
            out += name + "_sum" + Self.render(labels) + " " + Self.goFloat(snap.sumSeconds) + "\n"
            out += name + "_count" + Self.render(labels) + " " + String(snap.count) + "\n"
        }
        families[name] = out
    }

    private static func header(_ name: String, _ help: String, _ kind: Kind) -> String {
        "# HELP \(name) \(help)\n# TYPE \(name) \(kind.rawValue)\n"
    }

    /// Series ordered by their label values in label-name order, as Go does.
    private static func sorted<T>(_ series: [(Labels, T)]) -> [(Labels, T)] {
        series.map { (labels, value) in (labels.sorted { $0.0 < $1.0 }, value) }
            .sorted { a, b in a.0.map(\.1).lexicographicallyPrecedes(b.0.map(\.1)) }
    }

    /// `{a="x",le="0.1"}` with `le` kept last (labels are already sorted,
    /// `le` is appended to them), or "" for no labels.
    static func render(_ labels: Labels) -> String {
        guard !labels.isEmpty else { return "" }
        return "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    static func escape(_ s: String) -> String {
        guard s.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return s }
        return s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// Go's `strconv.FormatFloat(v, 'g', -1, 64)`, which client_golang
    /// uses: the shortest digits that round-trip, in exponent form when the
    /// decimal exponent is < -4 or ≥ 6 (so 20480 stays plain while 27271168
    /// becomes 2.7271168e+07, as in etcd's /metrics).
    static func goFloat(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == 0 { return "0" }
        var (digits, pointPos) = shortestDigits(abs(v))
        let sign = v < 0 ? "-" : ""
        let exp = pointPos - 1
        if exp < -4 || exp >= 6 {
            let mantissa = digits.count > 1 ? String(digits.first!) + "." + digits.dropFirst() : digits
            let e = abs(exp) < 10 ? "0\(abs(exp))" : "\(abs(exp))"
            return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + e
        }
        if pointPos <= 0 { return sign + "0." + String(repeating: "0", count: -pointPos) + digits }
        if pointPos >= digits.count { digits += String(repeating: "0", count: pointPos - digits.count); return sign + digits }
        let i = digits.index(digits.startIndex, offsetBy: pointPos)
        return sign + digits[..<i] + "." + digits[i...]
    }

    /// The shortest round-trip decimal digits of `v` (> 0, finite), without
    /// leading or trailing zeros, and where the decimal point goes.
    private static func shortestDigits(_ v: Double) -> (String, Int) {
        var s = v.description
        var exp10 = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exp10 = Int(s[s.index(after: e)...]) ?? 0
            s = String(s[..<e])
        }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = String(parts[0]), frac = parts.count > 1 ? String(parts[1]) : ""
        var digits = intPart + frac
        var pointPos = intPart.count + exp10
        while digits.count > 1 && digits.first == "0" { digits.removeFirst(); pointPos -= 1 }
        while digits.count > 1 && digits.last == "0" { digits.removeLast() }
        return (digits, pointPos)
    }
}
