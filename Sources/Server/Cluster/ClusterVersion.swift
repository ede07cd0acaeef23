import MVCC

/// The cluster version as etcd 3.5.1 keeps it: set through Raft by the
/// leader once every member is known (`V2Request` `PUT /0/version`) and
/// written where etcd writes it, the `cluster` bucket's `clusterVersion`
/// ("3.5.0"), so etcd-format snapshots carry etcd's bytes. It lives in the
/// store beside the keys, so restarts, snapshots and defrag keep it.
enum ClusterVersion {
    static let bucket = DowngradeInfo.bucket
    static let key = Array("clusterVersion".utf8)

    static func record(_ version: String) -> BucketRecord {
        BucketRecord(bucket: bucket, key: key, value: Array(version.utf8))
    }

    /// The version the store's last applied entry left; nil before the
    /// leader set one (a new member, or data of a release that never did).
    static func load(from store: MVCCStore) -> String? {
        guard let records = try? store.bucketRecords(bucket),
              let value = records.first(where: { $0.key == key })?.value else { return nil }
        return String(decoding: value, as: UTF8.self)
    }

    /// "3.5.0" → "3.5", as etcd logs it.
    static func majorMinor(_ version: String) -> String {
        version.split(separator: ".").prefix(2).joined(separator: ".")
    }
}
