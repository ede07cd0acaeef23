import Foundation
@testable import MVCC
@testable import Server

/// A store in a temporary directory plus a watch hub fed by every write, as
/// the applier feeds it.
final class WatchFixture {
    let dir: String
    let store: MVCCStore
    let hub: WatchHub
    private var nextIndex: UInt64 = 1

    init(limits: WatchHub.Limits = WatchHub.Limits(), sharedBudget: SharedByteBudget? = nil) throws {
        dir = NSTemporaryDirectory() + "watch-test-" + UUID().uuidString
        var o = MVCCStore.Options()
        o.mapSizeBytes = 1 << 30
        store = try MVCCStore(path: dir, options: o)
        hub = WatchHub(store: store, limits: limits, sharedBudget: sharedBudget)
    }

    deinit {
        store.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Applies writes in one commit, then notifies the hub.
    @discardableResult
    func write(_ requests: [WriteRequest], notify: Bool = true) -> BatchResult {
        let batch = requests.map { r -> (index: UInt64, request: WriteRequest) in
            defer { nextIndex += 1 }
            return (nextIndex, r)
        }
        let result = store.apply(batch: batch, leaseExists: { _ in true })
        if notify { hub.notify(events: result.events, revision: store.currentRevision) }
        return result
    }

    func put(_ key: String, _ value: String = "v", notify: Bool = true) {
        write([.put(PutRequest(key: Array(key.utf8), value: Array(value.utf8)))], notify: notify)
    }

    func delete(_ key: String) {
        write([.deleteRange(DeleteRangeRequest(key: Array(key.utf8)))])
    }

    func stream() -> WatchStream { hub.openStream(wake: {}) }
}

extension WatchOutput {
    /// (watch ID, revisions of the events) for event outputs.
    var eventRevisions: (Int64, [Int64])? {
        if case .events(let id, let evs, _) = self { return (id, evs.map(\.kv.modRevision)) }
        return nil
    }
}

func spec(_ key: String, end: String? = nil, start: Int64 = 0, id: Int64 = 0) -> WatchSpec {
    var s = WatchSpec(key: Array(key.utf8))
    if let end { s.rangeEnd = Array(end.utf8) }
    s.startRevision = start
    s.watchID = id
    return s
}
