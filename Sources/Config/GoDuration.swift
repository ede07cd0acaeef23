/// Go's `time.ParseDuration` and `Duration.String`, for duration flags.
///
/// Syntax: an optional sign, then one or more `<decimal><unit>` pairs with
/// units ns, us (µs, μs), ms, s, m, h; a bare `0` is allowed. Negative
/// durations parse (Go accepts them); validation decides if they are allowed.
public enum GoDuration {
    static let unitNanoseconds: [(String, Double)] = [
        ("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6),
        ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

    public static func parse(_ text: String) throws(FlagValueError) -> Duration {
        let invalid = FlagValueError("time: invalid duration \"\(text)\"")
        var rest = Substring(text)
        var negative = false
        if let c = rest.first, c == "-" || c == "+" {
            negative = c == "-"
            rest.removeFirst()
        }
        if rest == "0" { return .zero }
        if rest.isEmpty { throw invalid }
        var totalNs: Double = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, number != ".", let value = Double(number) else { throw invalid }
            rest = rest.dropFirst(number.count)
            let unitText = rest.prefix { !($0.isNumber || $0 == ".") }
            guard !unitText.isEmpty else {
                throw FlagValueError("time: missing unit in duration \"\(text)\"")
            }
            guard let unit = unitNanoseconds.first(where: { $0.0 == unitText }) else {
                throw FlagValueError("time: unknown unit \"\(unitText)\" in duration \"\(text)\"")
            }
            rest = rest.dropFirst(unitText.count)
            totalNs += value * unit.1
        }
        // 2^63 itself does not fit an Int64 (Double(Int64.max) rounds up to it).
        guard totalNs < 9_223_372_036_854_775_808.0 else { throw invalid }
        let ns = Int64(totalNs.rounded())
        return .nanoseconds(negative ? -ns : ns)
    }

    /// Go's `Duration.String`: `2h0m0s`, `5s`, `100ms`, `0s`.
    public static func format(_ duration: Duration) -> String {
        let ns = nanoseconds(duration)
        if ns == 0 { return "0s" }
        let sign = ns < 0 ? "-" : ""
        let magnitude = ns.magnitude
        if magnitude < 1_000 { return "\(sign)\(magnitude)ns" }
        if magnitude < 1_000_000 { return sign + fraction(magnitude, 1_000) + "µs" }
        if magnitude < 1_000_000_000 { return sign + fraction(magnitude, 1_000_000) + "ms" }
        let totalSeconds = magnitude / 1_000_000_000
        let subNs = magnitude % 1_000_000_000
        let hours = totalSeconds / 3600
        let minutes = (totalSeconds % 3600) / 60
        let seconds = fraction((totalSeconds % 60) * 1_000_000_000 + subNs, 1_000_000_000) + "s"
        if hours > 0 { return "\(sign)\(hours)h\(minutes)m\(seconds)" }
        if minutes > 0 { return "\(sign)\(minutes)m\(seconds)" }
        return sign + seconds
    }

    /// Whole nanoseconds of a `Duration` (saturating).
    public static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, atto) = d.components
        let (mul, o1) = s.multipliedReportingOverflow(by: 1_000_000_000)
        let (sum, o2) = mul.addingReportingOverflow(atto / 1_000_000_000)
        if o1 || o2 { return s < 0 ? Int64.min : Int64.max }
        return sum
    }

    private static func fraction(_ value: UInt64, _ unit: UInt64) -> String {
        let whole = value / unit
        var rem = value % unit
        if rem == 0 { return "\(whole)" }
        var digits = ""
        var scale = unit / 10
        while rem > 0 && scale > 0 {
            digits.append(String(rem / scale))
            rem %= scale
            scale /= 10
        }
        return "\(whole).\(digits)"
    }
}
