import Foundation

/// The JSON-lines history format written by `Tests/GoClients/linhistory`,
/// one operation per line:
///
/// ```
/// {"id":17,"client":2,"kind":"put","key":"k04","value":"c2-17","invoke":1204331,"return":1209870,"result":"ok"}
/// {"id":18,"client":2,"kind":"get","key":"k04","invoke":…,"return":…,"result":"ok","output":"c2-17"}
/// {"id":19,"client":2,"kind":"cas","key":"k04","expect":"c2-17","value":"c2-19","invoke":…,"return":…,"result":"succeeded"}
/// ```
///
/// `kind` is `put`, `get` or `cas`; `invoke` and `return` are nanoseconds on
/// one monotonic clock. `result` is `ok` (put, get), `succeeded` / `failed`
/// (cas) or `unknown` (any kind: timeout or error, the operation may or may
/// not have taken effect; `return` is then ignored and may be absent). A get's
/// `output` is the value read, `null` or absent when the key did not exist.
public enum History {
    public struct ParseError: Error, CustomStringConvertible {
        public let line: Int
        public let reason: String
        public var description: String { "history line \(line): \(reason)" }
    }

    /// Parses a whole JSON-lines history; blank lines are skipped.
    public static func parse(jsonLines text: String) throws -> [Operation] {
        var operations: [Operation] = []
        let decoder = JSONDecoder()
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.allSatisfy({ $0 == " " || $0 == "\r" }) else { continue }
            let record: Record
            do {
                record = try decoder.decode(Record.self, from: Data(line.utf8))
            } catch {
                throw ParseError(line: index + 1, reason: "\(error)")
            }
            do {
                operations.append(try record.operation())
            } catch let invalid as Invalid {
                throw ParseError(line: index + 1, reason: invalid.reason)
            }
        }
        return operations
    }

    /// One JSON line for `operation` (no trailing newline).
    public static func jsonLine(_ operation: Operation) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Record(operation))) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    private struct Invalid: Error { let reason: String }

    /// The wire shape of one line.
    private struct Record: Codable {
        var id: Int
        var client: Int
        var kind: String
        var key: String
        var value: String?
        var expect: String?
        var output: String?
        var invoke: Int64
        var `return`: Int64?
        var result: String

        init(_ op: Operation) {
            id = op.id
            client = op.client
            key = op.key
            invoke = op.invokeNs
            self.return = op.returnNs
            switch op.call {
            case .put(let v): kind = "put"; value = v
            case .get: kind = "get"
            case .compareAndSet(let e, let n): kind = "cas"; expect = e; value = n
            }
            switch op.outcome {
            case .ok: result = "ok"
            case .read(let v): result = "ok"; output = v
            case .swapped(let s): result = s ? "succeeded" : "failed"
            case .unknown: result = "unknown"
            }
        }

        /// Throws `Invalid` when the record does not describe a valid operation.
        func operation() throws -> Operation {
            let call: Operation.Call
            switch kind {
            case "put":
                guard let value else { throw Invalid(reason: "put without value") }
                call = .put(value: value)
            case "get":
                call = .get
            case "cas":
                guard let expect, let value else { throw Invalid(reason: "cas without expect/value") }
                call = .compareAndSet(expected: expect, new: value)
            default:
                throw Invalid(reason: "unknown kind \(kind)")
            }
            let outcome: Operation.Outcome
            switch (result, call) {
            case ("unknown", _): outcome = .unknown
            case ("ok", .put): outcome = .ok
            case ("ok", .get): outcome = .read(output)
            case ("succeeded", .compareAndSet): outcome = .swapped(true)
            case ("failed", .compareAndSet): outcome = .swapped(false)
            default: throw Invalid(reason: "result \(result) does not fit kind \(kind)")
            }
            if outcome != .unknown {
                guard let end = self.return else { throw Invalid(reason: "definite result without return time") }
                guard end >= invoke else { throw Invalid(reason: "returns before it is invoked") }
            }
            return Operation(id: id, client: client, key: key, call: call, outcome: outcome,
                             invokeNs: invoke, returnNs: outcome == .unknown ? nil : self.return)
        }
    }
}

