import NIOCore

/// Parses a `grpc-timeout` header value as grpc-go 1.38 (etcd 3.5.1) does:
/// at most 9 bytes, a number Go's strconv.ParseInt takes (so an optional
/// sign: "+1S" is 1 s, "-1S" a deadline already past), then a unit
/// (H hours, M minutes, S seconds, m millis, u micros, n nanos). Amounts
/// past Int64 nanoseconds are capped, as grpc-go clamps hours.
/// Returns nil for a malformed value (the call is then rejected as gRPC does).
func parseGRPCTimeout(_ value: String) -> TimeAmount? {
    var utf8 = Array(value.utf8)
    guard utf8.count >= 2, utf8.count <= 9 else { return nil }
    var negative = false
    if utf8[0] == UInt8(ascii: "+") || utf8[0] == UInt8(ascii: "-") {
        negative = utf8[0] == UInt8(ascii: "-")
        utf8.removeFirst()
        guard utf8.count >= 2 else { return nil }
    }
    var amount: Int64 = 0  // at most 8 digits: no overflow
    for byte in utf8.dropLast() {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        amount = amount * 10 + Int64(byte - UInt8(ascii: "0"))
    }
    if negative { amount = -amount }
    switch utf8.last! {
    case UInt8(ascii: "H"): return .hours(amount)
    case UInt8(ascii: "M"): return .minutes(amount)
    case UInt8(ascii: "S"): return .seconds(amount)
    case UInt8(ascii: "m"): return .milliseconds(amount)
    case UInt8(ascii: "u"): return .microseconds(amount)
    case UInt8(ascii: "n"): return .nanoseconds(amount)
    default: return nil
    }
}

extension TimeAmount {
    /// `self + other`, clamped to TimeAmount's range instead of trapping:
    /// a client's `grpc-timeout` reaches Int64.max nanoseconds (`2562048H`
    /// and above parse to the cap, as grpc-go clamps them).
    func saturatingPlus(_ other: TimeAmount) -> TimeAmount {
        let (sum, overflow) = nanoseconds.addingReportingOverflow(other.nanoseconds)
        if overflow { return .nanoseconds(other.nanoseconds > 0 ? .max : .min) }
        return .nanoseconds(sum)
    }
}
