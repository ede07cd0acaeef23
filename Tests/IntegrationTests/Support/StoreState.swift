import Foundation
import Testing

/// What a member's store holds, read with etcdctl, to compare a member with
/// itself across a restart or with its peers.

/// Every key with its revisions, version, lease and value (JSON fields as
/// text), and the store revision.
func dump(_ endpoint: String, consistency: String = "l") throws -> (kvs: [[String: String]], revision: Int64) {
    let r = try etcdctl(endpoint, ["get", "", "--from-key", "-w", "json", "--consistency=\(consistency)"])
    #expect(r.exitCode == 0, "\(r.stderr)")
    let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    let header = json?["header"] as? [String: Any]
    let kvs = (json?["kvs"] as? [[String: Any]] ?? []).map { kv in kv.mapValues { "\($0)" } }
    return (kvs, (header?["revision"] as? NSNumber)?.int64Value ?? -1)
}

/// `etcdctl endpoint hashkv` at `rev` (0: the current revision).
func hashKV(_ endpoint: String, rev: Int64 = 0) throws -> (hash: UInt64, compact: Int64) {
    let r = try etcdctl(endpoint, ["endpoint", "hashkv", "--rev", "\(rev)", "-w", "json"])
    #expect(r.exitCode == 0, "\(r.stderr)")
    let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]]
    let body = json?.first?["HashKV"] as? [String: Any]
    return ((body?["hash"] as? NSNumber)?.uint64Value ?? 0, (body?["compact_revision"] as? NSNumber)?.int64Value ?? 0)
}

/// Runs the swift-etcd binary under test (subcommands, or a start that must fail).
func swiftEtcd(_ args: [String], timeoutSeconds: Double = 60) throws -> CommandResult {
    try ProcessRunner.run(try PackagePaths.serverBinary, args, timeoutSeconds: timeoutSeconds)
}
