import Foundation
import Testing
@testable import MVCC
@testable import Server

/// A store in a fresh temporary directory, removed when the test ends.
final class TempStore {
    let dir: String
    var store: MVCCStore
    var nextIndex: UInt64 = 1
    var leases: Set<Int64> = []

    init(options: MVCCStore.Options = MVCCStore.Options()) throws {
        dir = NSTemporaryDirectory() + "mvcc-test-" + UUID().uuidString
        var o = options
        o.mapSizeBytes = 1 << 30
        store = try MVCCStore(path: dir, options: o)
    }

    deinit {
        store.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    func reopen() throws {
        store.close()
        var o = MVCCStore.Options()
        o.mapSizeBytes = 1 << 30
        store = try MVCCStore(path: dir, options: o)
    }

    /// Applies requests in one batch with fresh consecutive indexes.
    @discardableResult
    func apply(_ reqs: [WriteRequest]) -> BatchResult {
        let batch = reqs.map { r -> (index: UInt64, request: WriteRequest) in
            defer { nextIndex += 1 }
            return (nextIndex, r)
        }
        let leases = self.leases
        return store.apply(batch: batch, leaseExists: { leases.contains($0) })
    }

    func write(_ r: WriteRequest) throws -> WriteResponse {
        try apply([r]).results[0].get()
    }

    @discardableResult
    func put(_ k: String, _ v: String, lease: Int64 = 0, prevKV: Bool = false) throws -> PutResponse {
        guard case .put(let p) = try write(.put(PutRequest(key: b(k), value: b(v), lease: lease, prevKV: prevKV))) else {
            throw MVCCError(.internal, "not a put response")
        }
        return p
    }

    @discardableResult
    func delete(_ k: String, _ end: String = "", prevKV: Bool = false) throws -> DeleteRangeResponse {
        guard case .deleteRange(let d) = try write(.deleteRange(DeleteRangeRequest(key: b(k), rangeEnd: b(end), prevKV: prevKV))) else {
            throw MVCCError(.internal, "not a delete response")
        }
        return d
    }

    func txn(_ t: TxnRequest) throws -> TxnResponse {
        guard case .txn(let r) = try write(.txn(t)) else { throw MVCCError(.internal, "not a txn response") }
        return r
    }

    func get(_ k: String, _ end: String = "", rev: Int64 = 0) throws -> RangeResponse {
        try store.range(RangeRequest(key: b(k), rangeEnd: b(end), revision: rev))
    }

    func keys(_ r: RangeResponse) -> [String] { r.kvs.map { s($0.key) } }
}

func b(_ s: String) -> [UInt8] { Array(s.utf8) }
func s(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

/// The error a throwing call raised, as the RPC error etcd would answer
/// (the server's validation errors as they are, the store's mapped).
func kvError(_ body: () throws -> Void) -> ServerError? {
    do { try body(); return nil } catch let e as ServerError { return e } catch let e as MVCCError { return ServerError(e) } catch { return nil }
}
