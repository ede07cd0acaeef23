import NIOCore

/// Parses a `grpc-timeout` header value: 1 to 8 ASCII digits then a unit
/// (H hours, M minutes, S seconds, m millis, u micros, n nanos).
/// Returns nil for a malformed value (the call is then rejected as gRPC does).
func parseGRPCTimeout(_ value: String) -> TimeAmount? {
    let utf8 = Array(value.utf8)
    guard utf8.count >= 2, utf8.count <= 9 else { return nil }
    var amount: Int64 = 0
    for byte in utf8.dropLast() {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        amount = amount * 10 + Int64(byte - UInt8(ascii: "0"))
    }
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
