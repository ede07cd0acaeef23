import Foundation
import Logging
import MVCC
import Proto
import Raft
@testable import Server

/// One member's apply pipeline (decode → corruption and capped guards → backend →
/// MVCC store, lessor, watch hub) on a throwaway data dir, fed committed entries whose bytes come from a fuzzer.
/// Issue 18's rule: an entry that cannot be applied is answered with an error and the
/// member goes on, so any trap here is a finding.
final class ApplyHarness {
    let dir: String
    let store: MVCCStore
    let lessor: Lessor
    let hub: WatchHub
    let alarms: AlarmStore
    let waits = WaitRegistry<AppliedResult>()
    private var applier: ApplyPipeline!
    private(set) var index: UInt64 = 0

    init() throws {
        dir = NSTemporaryDirectory() + "apply-fuzz-" + UUID().uuidString
        let layout = DataDirLayout(dataDir: dir)
        try FileManager.default.createDirectory(atPath: layout.memberDir, withIntermediateDirectories: true)
        var options = MVCCStore.Options()
        options.mapSizeBytes = 1 << 30
        store = try MVCCStore(path: dir + "/db", options: options)
        lessor = Lessor(minTTLSeconds: 2)
        hub = WatchHub(store: store, limits: WatchHub.Limits())
        alarms = AlarmStore(path: layout.memberDir + "/alarms")
        var logger = Logger(label: "apply-fuzz")
        logger.logLevel = .critical
        applier = ApplyPipeline(store: store, lessor: lessor, hub: hub, alarms: alarms, waits: waits, logger: logger)
    }

    deinit {
        store.close()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Applies one committed normal entry holding `data` (InternalRaftRequest bytes, or not).
    func apply(_ data: [UInt8], term: UInt64 = 1) {
        index += 1
        applier.apply([Entry(term: term, index: index, data: data)], term: term)
    }

    /// Applies several entries as one Raft batch (runs of KV requests share a commit).
    func apply(batch: [[UInt8]], term: UInt64 = 1) {
        let entries = batch.map { data -> Entry in
            index += 1
            return Entry(term: term, index: index, data: data)
        }
        applier.apply(entries, term: term)
    }
}
