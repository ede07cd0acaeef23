/// One client operation on a single key of a key-value store, as a history
/// recorder saw it: what was asked, what came back, and when.
///
/// Times are nanoseconds on one monotonic clock shared by every client of the
/// history (any origin). An operation whose outcome is `.unknown` (timeout,
/// connection error) may or may not have taken effect: the checker treats
/// its return time as infinite, whatever `returnNs` says.
public struct Operation: Sendable, Hashable {
    public var id: Int
    public var client: Int
    public var key: String
    public var call: Call
    public var outcome: Outcome
    public var invokeNs: Int64
    /// `nil` when the client never got an answer.
    public var returnNs: Int64?

    public init(id: Int, client: Int, key: String, call: Call, outcome: Outcome, invokeNs: Int64, returnNs: Int64?) {
        self.id = id
        self.client = client
        self.key = key
        self.call = call
        self.outcome = outcome
        self.invokeNs = invokeNs
        self.returnNs = returnNs
    }

    /// The request. Values are compared byte for byte; a missing key is `nil`.
    public enum Call: Sendable, Hashable {
        case put(value: String)
        case get
        /// etcd's `Txn(If(Value(key) == expected), Then(Put(key, new)))`.
        /// A missing key never compares equal (etcd's value compare on a
        /// missing key is false), so `expected` is never `nil`.
        case compareAndSet(expected: String, new: String)
    }

    /// The response, which must fit the call: `.ok` for a put, `.read` for a
    /// get, `.swapped` for a compare-and-set; `.unknown` for any of them.
    public enum Outcome: Sendable, Hashable {
        case ok
        /// The value a get returned (`nil`: key absent).
        case read(String?)
        /// Whether the compare-and-set's comparison held (and the put happened).
        case swapped(Bool)
        case unknown
    }

    /// Whether the outcome is definite and of the kind the call produces.
    public var isWellFormed: Bool {
        switch (call, outcome) {
        case (_, .unknown), (.put, .ok), (.get, .read), (.compareAndSet, .swapped): return true
        default: return false
        }
    }

    /// The value this operation may have written, if any.
    var writtenValue: String? {
        switch call {
        case .put(let v): return v
        case .compareAndSet(_, let new):
            if case .swapped(false) = outcome { return nil }
            return new
        case .get: return nil
        }
    }
}

extension Operation: CustomStringConvertible {
    /// `c2 #17 cas(k04, c1-9 → c2-17) = swapped  [1.204331s … 1.209870s]`
    public var description: String {
        let request: String
        switch call {
        case .put(let v): request = "put(\(key), \(v))"
        case .get: request = "get(\(key))"
        case .compareAndSet(let e, let n): request = "cas(\(key), \(e) → \(n))"
        }
        let response: String
        switch outcome {
        case .ok: response = "ok"
        case .read(let v): response = v ?? "<absent>"
        case .swapped(let s): response = s ? "swapped" : "not swapped"
        case .unknown: response = "unknown"
        }
        let end = returnNs.map(Self.seconds) ?? "∞"
        return "c\(client) #\(id) \(request) = \(response)  [\(Self.seconds(invokeNs)) … \(end)]"
    }

    private static func seconds(_ ns: Int64) -> String {
        let micros = ns / 1000
        let frac = String(micros % 1_000_000)
        return "\(micros / 1_000_000).\(String(repeating: "0", count: 6 - frac.count))\(frac)s"
    }
}
