import Foundation
import GRPCWire
import MVCC
import Proto

/// etcd's concurrency recipes (mutex, election), run inside the server for
/// the v3lock and v3election services as etcd runs them through an
/// in-process client. Keys are `<name>/<lease ID in hex>`; the owner or
/// leader is the key with the oldest create revision; a waiter watches the
/// newest older key until it is deleted.
struct Recipes {
    let kv: KVService
    let lease: LeaseService
    let watchable: WatchBackend
    /// The Lock or Election call's context: the recipe's KV requests are
    /// checked (and proposed) as its caller's, as etcd's in-process client does.
    let context: GRPCRequestContext

    /// What etcd's NewSession does with a lease: 0 grants a fresh 60 s lease
    /// (never kept alive: the session is orphaned at once).
    static let defaultSessionTTLSeconds: Int64 = 60

    static let notLeader = GRPCStatus(.unknown, "election: not leader")
    static let noLeader = GRPCStatus(.unknown, "election: no leader")
    static let missingLeaderKey = GRPCStatus(.unknown, "\"leader\" field must be provided")

    func sessionLease(_ lease: Int64) async throws -> Int64 {
        if lease != 0 { return lease }
        var grant = Etcdserverpb.LeaseGrantRequest()
        grant.ttl = Self.defaultSessionTTLSeconds
        return try await self.lease.grant(grant, context).id
    }

    /// The KV answers always carry a header; this only keeps the recipes total.
    private func orCurrent(_ header: Etcdserverpb.ResponseHeader?) -> Etcdserverpb.ResponseHeader {
        header ?? watchable.currentHeader
    }

    static func ownKey(_ prefix: [UInt8], lease: Int64) -> [UInt8] {
        prefix + Array(String(lease, radix: 16).utf8)
    }

    // MARK: mutex

    /// Acquires the lock `name` for `lease`; returns the header and own key.
    func lock(name: [UInt8], lease requested: Int64) async throws -> (Etcdserverpb.ResponseHeader, [UInt8]) {
        let lease = try await sessionLease(requested)
        let prefix = name + [UInt8(ascii: "/")]
        let key = Self.ownKey(prefix, lease: lease)
        let txn = KeyOps.txn(if: KeyOps.createRevision(of: key, is: 0),
                             then: [KeyOps.put(key, [], lease: lease), KeyOps.range(KeyOps.firstCreated(prefix))],
                             else: [KeyOps.range(KeyOps.get(key)), KeyOps.range(KeyOps.firstCreated(prefix))])
        let resp = try await kv.txn(txn, context)
        var header = orCurrent(resp.header)
        let myRevision = resp.succeeded ? header.revision : (KeyOps.rangeKVs(resp, 0).first?.createRevision ?? header.revision)
        let owner = KeyOps.rangeKVs(resp, 1)
        if let first = owner.first, first.createRevision != myRevision {
            do {
                header = try await waitDeletes(prefix, olderThan: myRevision)
            } catch {
                release(key)
                throw error
            }
        }
        return (header, key)
    }

    func unlock(key: [UInt8]) async throws -> Etcdserverpb.ResponseHeader {
        let resp = try await kv.deleteRange(KeyOps.deleteRequest(key), context)
        return orCurrent(resp.header)
    }

    /// Deletes `key` even if the calling task was cancelled (a waiter that
    /// gave up must not keep its place in the queue).
    private func release(_ key: [UInt8]) {
        let kv = self.kv, context = self.context
        Task.detached { _ = try? await kv.deleteRange(KeyOps.deleteRequest(key), context) }
    }

    /// Waits until no key under `prefix` created before `revision` remains.
    func waitDeletes(_ prefix: [UInt8], olderThan revision: Int64) async throws -> Etcdserverpb.ResponseHeader {
        while true {
            let r = try await kv.range(KeyOps.lastCreated(prefix, atOrBefore: revision - 1), context)
            let header = orCurrent(r.header)
            guard let last = r.kvs.first else { return header }
            let watch = InProcessWatch(hub: watchable.watchHub, spec: WatchSpec(key: last.key, startRevision: header.revision))
            try await watch.waitForDelete()
        }
    }

    // MARK: election

    func campaign(name: [UInt8], lease requested: Int64, value: [UInt8]) async throws -> V3electionpb.CampaignResponse {
        let lease = try await sessionLease(requested)
        let prefix = name + [UInt8(ascii: "/")]
        let key = Self.ownKey(prefix, lease: lease)
        let txn = KeyOps.txn(if: KeyOps.createRevision(of: key, is: 0),
                             then: [KeyOps.put(key, value, lease: lease)],
                             else: [KeyOps.range(KeyOps.get(key))])
        let resp = try await kv.txn(txn, context)
        let header = orCurrent(resp.header)
        var leader = V3electionpb.LeaderKey()
        leader.name = name
        leader.key = key
        leader.rev = header.revision
        leader.lease = lease
        if !resp.succeeded, let existing = KeyOps.rangeKVs(resp, 0).first {
            leader.rev = existing.createRevision
            if existing.value != value {
                do {
                    _ = try await proclaim(leader, value: value)
                } catch {
                    _ = try? await resign(leader)
                    throw error
                }
            }
        }
        do {
            _ = try await waitDeletes(prefix, olderThan: leader.rev)
        } catch {
            if Task.isCancelled {
                let recipes = self, leaderKey = leader
                Task.detached { _ = try? await recipes.resign(leaderKey) }
            }
            throw error
        }
        var out = V3electionpb.CampaignResponse()
        out.header = header
        out.leader = leader
        return out
    }

    func proclaim(_ leader: V3electionpb.LeaderKey, value: [UInt8]) async throws -> Etcdserverpb.ResponseHeader {
        let lease = try await sessionLease(leader.lease)
        let txn = KeyOps.txn(if: KeyOps.createRevision(of: leader.key, is: leader.rev),
                             then: [KeyOps.put(leader.key, value, lease: lease)])
        let resp = try await kv.txn(txn, context)
        guard resp.succeeded else { throw Self.notLeader }
        return orCurrent(resp.header)
    }

    func resign(_ leader: V3electionpb.LeaderKey) async throws -> Etcdserverpb.ResponseHeader {
        let txn = KeyOps.txn(if: KeyOps.createRevision(of: leader.key, is: leader.rev), then: [KeyOps.delete(leader.key)])
        let resp = try await kv.txn(txn, context)
        return orCurrent(resp.header)
    }

    func leader(name: [UInt8]) async throws -> V3electionpb.LeaderResponse {
        let r = try await kv.range(KeyOps.firstCreated(name + [UInt8(ascii: "/")]), context)
        guard let kv = r.kvs.first else { throw Self.noLeader }
        var out = V3electionpb.LeaderResponse()
        out.header = r.header
        out.kv = kv
        return out
    }

    /// Sends the current leader, then every change of its value, then the
    /// next leader when it resigns, until the task is cancelled.
    func observe(name: [UInt8], send: (V3electionpb.LeaderResponse) async throws -> Void) async throws {
        let prefix = name + [UInt8(ascii: "/")]
        while true {
            let r = try await kv.range(KeyOps.firstCreated(prefix), context)
            var current = V3electionpb.LeaderResponse()
            if let kv = r.kvs.first {
                current.header = r.header
                current.kv = kv
            } else {
                let revision = r.header?.revision ?? watchable.currentRevision
                let watch = InProcessWatch(hub: watchable.watchHub, spec: WatchSpec(key: prefix, rangeEnd: KeyOps.prefixEnd(prefix),
                                                                                 startRevision: revision))
                while current.kv == nil {
                    for case .events(_, let events, _) in try await watch.next() {
                        if let put = events.first(where: { $0.type == .put }) {
                            current.kv = KVMapping.keyValue(put.kv)
                            current.header = watchable.header(revision: put.kv.modRevision)
                            break
                        }
                    }
                }
            }
            try await send(current)
            guard let leaderKV = current.kv, let since = current.header?.revision else { continue }
            let watch = InProcessWatch(hub: watchable.watchHub, spec: WatchSpec(key: leaderKV.key, startRevision: since + 1))
            var deleted = false
            while !deleted {
                for output in try await watch.next() {
                    guard case .events(_, let events, let revision) = output else {
                        if case .compacted = output { throw ServerError.compacted }
                        continue
                    }
                    for event in events {
                        if event.type == .delete { deleted = true; break }
                        var change = V3electionpb.LeaderResponse()
                        change.header = watchable.header(revision: revision)
                        change.kv = KVMapping.keyValue(event.kv)
                        try await send(change)
                    }
                    if deleted { break }
                }
            }
        }
    }
}
