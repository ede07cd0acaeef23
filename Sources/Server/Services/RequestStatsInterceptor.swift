import Foundation
import GRPCWire
import MVCC
import Proto

/// etcd's unary log interceptor: a call slower than
/// `--experimental-warning-unary-request-duration` is logged as
/// "request stats" at warn (every call at debug level), with its method,
/// remote address, sizes and a short rendering of the request.
enum RequestStatsInterceptor {
    static func wrapAll(_ router: GRPCRouter, warnings: SlowWarnings) {
        for path in router.paths {
            guard case .unary(let h)? = router.handler(for: path) else { continue }
            let callback = router.callbackHandler(for: path)
            router.unary(path) { bytes, context in
                let start = Date()
                let began = ContinuousClock.now
                let response: [UInt8]
                do {
                    response = try await h(bytes, context)
                } catch {
                    report(warnings, path: path, bytes: bytes, context: context, start: start, began: began, responseSize: 0)
                    throw error
                }
                report(warnings, path: path, bytes: bytes, context: context, start: start, began: began,
                       responseSize: response.count)
                return response
            }
            if let callback {
                router.unaryCallback(path) { bytes, context, reply in
                    let began = ContinuousClock.now
                    let taken: Bool
                    do {
                        taken = try callback(bytes, context, reply)
                    } catch {
                        report(warnings, path: path, bytes: bytes, context: context, began: began, responseSize: 0)
                        throw error
                    }
                    // False: the async handler takes the call and reports it.
                    if taken {
                        reply.onAnswer = { responseSize in
                            report(warnings, path: path, bytes: bytes, context: context, began: began, responseSize: responseSize)
                        }
                    }
                    return taken
                }
            }
            guard let inline = router.inlineHandler(for: path) else { continue }
            router.unaryInline(path) { bytes, context in
                let began = ContinuousClock.now
                let response: [UInt8]?
                do {
                    response = try inline(bytes, context)
                } catch {
                    report(warnings, path: path, bytes: bytes, context: context, began: began, responseSize: 0)
                    throw error
                }
                // Nil: the async handler takes the call and reports it.
                guard let response else { return nil }
                report(warnings, path: path, bytes: bytes, context: context, began: began,
                       responseSize: response.count - GRPCUnaryReply.headroom)
                return response
            }
        }
    }

    /// Out of line so the logging's temporaries stay on the thread's stack:
    /// inside the async wrapper they made its frame over 2 KiB, one more
    /// malloc per call for the task allocator.
    @inline(never)
    static func report(_ warnings: SlowWarnings, path: String, bytes: [UInt8], context: GRPCRequestContext,
                       start: Date? = nil, began: ContinuousClock.Instant, responseSize: Int) {
        let took = ContinuousClock.now - began
        guard warnings.logsUnary(took: took) else { return }
        // The inline path reads the wall clock only when it logs.
        let start = start ?? Date().addingTimeInterval(-Double(took.components.seconds)
                                                       - Double(took.components.attoseconds) / 1e18)
        warnings.unary(start: start, took: took, remote: context.remoteAddress.map { "\($0)" } ?? "No remote client info.",
                       method: path, requestSize: bytes.count, responseSize: responseSize,
                       requestContent: RequestText.describe(path: path, bytes: bytes))
    }
}

/// Short text forms of requests for the slow-request warnings, in the
/// spirit of etcd's loggable request strings (values are never printed,
/// only their sizes).
enum RequestText {
    static func describe(path: String, bytes: [UInt8]) -> String {
        switch path {
        case Etcdserverpb.KVService.range.path:
            guard let r = try? bytes.withUnsafeBytes({ try Etcdserverpb.RangeRequest(serializedBytes: $0) }) else { return "" }
            return range(r)
        case Etcdserverpb.KVService.put.path:
            guard let p = try? bytes.withUnsafeBytes({ try Etcdserverpb.PutRequest(serializedBytes: $0) }) else { return "" }
            return put(p)
        case Etcdserverpb.KVService.deleteRange.path:
            guard let d = try? bytes.withUnsafeBytes({ try Etcdserverpb.DeleteRangeRequest(serializedBytes: $0) }) else { return "" }
            return "key:\(quoted(d.key)) range_end:\(quoted(d.rangeEnd)) "
        default:
            return ""
        }
    }

    static func range(_ r: Etcdserverpb.RangeRequest) -> String {
        var text = "key:\(quoted(r.key)) "
        if !r.rangeEnd.isEmpty { text += "range_end:\(quoted(r.rangeEnd)) " }
        if r.limit != 0 { text += "limit:\(r.limit) " }
        if r.revision != 0 { text += "revision:\(r.revision) " }
        if r.serializable { text += "serializable:true " }
        if r.keysOnly { text += "keys_only:true " }
        if r.countOnly { text += "count_only:true " }
        return text
    }

    static func put(_ p: Etcdserverpb.PutRequest) -> String {
        var text = "key:\(quoted(p.key)) value_size:\(p.value.count) "
        if p.lease != 0 { text += "lease:\(p.lease) " }
        return text
    }

    /// Go's %q of bytes, roughly: printable ASCII as is, the rest escaped.
    static func quoted(_ bytes: [UInt8]) -> String {
        var out = "\""
        for b in bytes {
            switch b {
            case UInt8(ascii: "\""): out += "\\\""
            case UInt8(ascii: "\\"): out += "\\\\"
            case 0x20..<0x7f: out.unicodeScalars.append(Unicode.Scalar(b))
            default: out += String(format: "\\%03o", b)
            }
        }
        return out + "\""
    }
}

extension RequestText {
    /// An applied request, as etcd's apply warning names it.
    static func describe(_ request: WriteRequest) -> String {
        switch request {
        case .put(let p): return "put:<key:\(quoted(p.key)) value_size:\(p.value.count) >"
        case .deleteRange(let d): return "delete_range:<key:\(quoted(d.key)) range_end:\(quoted(d.rangeEnd)) >"
        case .txn(let t):
            return "txn:<compare_size:\(t.compare.count) success_size:\(t.success.count) failure_size:\(t.failure.count) >"
        case .compact(let c): return "compaction:<revision:\(c.revision) >"
        case .noop: return ""
        case .leaseGrant(let l): return "lease_grant:<ID:\(l.id) TTL:\(l.ttlSeconds) >"
        case .leaseRevoke(let id, _): return "lease_revoke:<ID:\(id) >"
        case .leaseCheckpoint(let leases): return "lease_checkpoint:<checkpoints_size:\(leases.count) >"
        case .bucketRecords: return "auth:<>"
        }
    }
}
