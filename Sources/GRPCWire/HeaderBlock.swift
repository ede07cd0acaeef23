import CNGHTTP2

/// nghttp2 header arrays. The constant blocks live for the whole process
/// (NO_COPY flags); dynamic ones are copied by nghttp2 inside `submit`.
enum HeaderBlock {
    private static func makeStatic(_ pairs: [(String, String)]) -> UnsafeMutablePointer<nghttp2_nv> {
        let nva = UnsafeMutablePointer<nghttp2_nv>.allocate(capacity: pairs.count)
        for (i, (name, value)) in pairs.enumerated() {
            let n = strdupBytes(name), v = strdupBytes(value)
            nva[i] = nghttp2_nv(name: n.0, value: v.0, namelen: n.1, valuelen: v.1,
                                flags: UInt8(NGHTTP2_NV_FLAG_NO_COPY_NAME.rawValue | NGHTTP2_NV_FLAG_NO_COPY_VALUE.rawValue))
        }
        return nva
    }

    private static func strdupBytes(_ s: String) -> (UnsafeMutablePointer<UInt8>, Int) {
        let bytes = Array(s.utf8)
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        p.initialize(from: bytes, count: bytes.count)
        return (p, bytes.count)
    }

    /// `:status 200`, `content-type application/grpc`.
    nonisolated(unsafe) static let responseHeaders = makeStatic([(":status", "200"), ("content-type", "application/grpc")])
    static let responseHeadersCount = 2
    /// `grpc-status 0`.
    nonisolated(unsafe) static let trailersOK = makeStatic([("grpc-status", "0")])

    /// Calls `body` with an nghttp2 array for `pairs` (valid only inside `body`).
    static func with<R>(_ pairs: [(String, String)], _ body: (UnsafePointer<nghttp2_nv>, Int) -> R) -> R {
        var storage: [UInt8] = []
        storage.reserveCapacity(pairs.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count })
        var offsets: [(Int, Int, Int, Int)] = []
        offsets.reserveCapacity(pairs.count)
        for (name, value) in pairs {
            let n = storage.count
            storage.append(contentsOf: name.utf8)
            let v = storage.count
            storage.append(contentsOf: value.utf8)
            offsets.append((n, name.utf8.count, v, value.utf8.count))
        }
        if storage.isEmpty { storage.append(0) }
        return storage.withUnsafeMutableBufferPointer { buf in
            let base = buf.baseAddress!
            var nva = offsets.map { o in
                nghttp2_nv(name: base + o.0, value: base + o.2, namelen: o.1, valuelen: o.3,
                           flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            return nva.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
        }
    }

    /// Trailers (or a trailers-only tail) for a status.
    static func statusFields(_ status: GRPCStatus) -> [(String, String)] {
        var fields = [("grpc-status", String(status.code.rawValue))]
        if !status.message.isEmpty {
            fields.append(("grpc-message", GRPCStatus.percentEncode(status.message)))
        }
        return fields
    }
}
