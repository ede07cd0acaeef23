import Foundation
import MVCC

/// The cluster's downgrade state (etcd 3.5's membership.DowngradeInfo):
/// set through Raft by `Maintenance.Downgrade` ENABLE and CANCEL and kept
/// where etcd keeps it, the `cluster` bucket's `downgrade` record, as the
/// same JSON. It lives in the store beside the keys, so snapshots, restore
/// and defrag carry it, and etcd-format snapshots hold it as etcd's do.
struct DowngradeInfo: Equatable, Sendable {
    var enabled: Bool
    /// "3.4.0" while enabled; "" once cancelled.
    var targetVersion: String

    static let bucket = "cluster"
    static let key = Array("downgrade".utf8)

    /// What etcd writes: `{"target-version":"3.4.0","enabled":true}`. Only
    /// `DowngradeTarget.versionString` or "" is ever written (no escaping needed).
    var json: [UInt8] {
        Array("{\"target-version\":\"\(targetVersion)\",\"enabled\":\(enabled)}".utf8)
    }

    var record: BucketRecord { BucketRecord(bucket: Self.bucket, key: Self.key, value: json) }

    init(enabled: Bool, targetVersion: String) {
        self.enabled = enabled
        self.targetVersion = targetVersion
    }

    /// The record's JSON; nil when it is not etcd's form.
    init?(json bytes: [UInt8]) {
        struct Wire: Decodable {
            var targetVersion: String?
            var enabled: Bool?
            enum CodingKeys: String, CodingKey {
                case targetVersion = "target-version"
                case enabled
            }
        }
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(bytes)) else { return nil }
        self.init(enabled: wire.enabled ?? false, targetVersion: wire.targetVersion ?? "")
    }

    /// The state as of the store's last applied entry (disabled when never set).
    static func load(from store: MVCCStore) throws -> DowngradeInfo {
        let records = try store.bucketRecords(bucket)
        guard let value = records.first(where: { $0.key == key })?.value else { return DowngradeInfo(enabled: false, targetVersion: "") }
        return DowngradeInfo(json: value) ?? DowngradeInfo(enabled: false, targetVersion: "")
    }

    /// etcd's mustDetectDowngrade at start-up: while a downgrade is enabled,
    /// only a server of the target's major.minor may run on this data.
    /// Returns etcd's refusal (its fatal log line's message and fields), or nil.
    func startRefusal(serverVersion: String) -> String? {
        guard enabled, !targetVersion.isEmpty else { return nil }
        let ours = DowngradeTarget(parsing: serverVersion)
        if let target = DowngradeTarget(parsing: targetVersion), target == ours { return nil }
        return "invalid downgrade; server version is not allowed to join when downgrade is enabled "
            + "(current-server-version \(serverVersion), target-cluster-version \(targetVersion))"
    }
}
