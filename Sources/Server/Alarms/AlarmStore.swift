import Atomics
import Foundation
import Proto
import Support

/// The cluster's active alarms (etcd's v3alarm store): (member, type) pairs,
/// changed only by applied Raft entries, so every member agrees. Persisted to
/// `<data-dir>/member/alarms` (one "memberID type" line each, written
/// atomically) before the entry's batch reaches the store, so a restart keeps
/// a NOSPACE alarm raised; re-applying an entry after a crash is harmless.
final class AlarmStore: @unchecked Sendable {
    struct Alarm: Hashable, Comparable {
        var memberID: UInt64
        var type: Int32
        static func < (a: Alarm, b: Alarm) -> Bool { (a.memberID, a.type) < (b.memberID, b.type) }
    }

    private let path: String
    private let lock = NSLock()
    private var active: Set<Alarm> = []  // guarded by `lock`
    /// Mirrors of `active` read by the apply chain's guards for every entry
    /// (no lock on that path); written under `lock` with `active`.
    private let corrupt = ManagedAtomic(false)
    private let noSpace = ManagedAtomic(false)

    init(path: String) {
        self.path = path
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ")
                if parts.count == 2, let m = UInt64(parts[0]), let t = Int32(parts[1]) { active.insert(Alarm(memberID: m, type: t)) }
            }
        }
        updateFlags()
    }

    var hasCorrupt: Bool { corrupt.load(ordering: .relaxed) }

    var hasNoSpace: Bool { noSpace.load(ordering: .relaxed) }

    /// Call with `lock` held (or before the store is shared).
    private func updateFlags() {
        corrupt.store(active.contains { $0.type == Etcdserverpb.AlarmType.corrupt.rawValue }, ordering: .relaxed)
        noSpace.store(active.contains { $0.type == Etcdserverpb.AlarmType.nospace.rawValue }, ordering: .relaxed)
    }

    /// Active alarms of `type` (all of them for NONE), as etcd lists them.
    func get(_ type: Etcdserverpb.AlarmType) -> [Etcdserverpb.AlarmMember] {
        lock.withLock { active.sorted() }
            .filter { type == .none || $0.type == type.rawValue }
            .map { Self.member($0) }
    }

    /// Raises an alarm; returns it, or nil when it was already active.
    func activate(memberID: UInt64, type: Etcdserverpb.AlarmType) -> Etcdserverpb.AlarmMember? {
        change { $0.insert(Alarm(memberID: memberID, type: type.rawValue)).inserted ? Alarm(memberID: memberID, type: type.rawValue) : nil }
    }

    /// Clears an alarm; returns it, or nil when it was not active.
    func deactivate(memberID: UInt64, type: Etcdserverpb.AlarmType) -> Etcdserverpb.AlarmMember? {
        change { $0.remove(Alarm(memberID: memberID, type: type.rawValue)) }
    }

    /// Replaces every alarm (a snapshot from the leader was installed); persists.
    func replaceAll(_ alarms: [Etcdserverpb.AlarmMember]) {
        let all = alarms.map { Alarm(memberID: $0.memberID, type: $0.alarm.rawValue) }
        let snapshot = lock.withLock { () -> [Alarm] in
            active = Set(all)
            updateFlags()
            return active.sorted()
        }
        persist(snapshot)
    }

    private func change(_ body: (inout Set<Alarm>) -> Alarm?) -> Etcdserverpb.AlarmMember? {
        let (changed, snapshot) = lock.withLock { () -> (Alarm?, [Alarm]) in
            let c = body(&active)
            updateFlags()
            return (c, active.sorted())
        }
        guard let changed else { return nil }
        persist(snapshot)
        return Self.member(changed)
    }

    /// If the file cannot be written the alarm still holds in memory (as
    /// before); a failed fsync stops the process (`FileIO`'s policy).
    private func persist(_ alarms: [Alarm]) { try? Self.write(alarms, to: path) }

    /// Writes the alarms file durably (a restore seeds it from a snapshot).
    static func write(_ alarms: [Alarm], to path: String) throws {
        let text = alarms.sorted().map { "\($0.memberID) \($0.type)\n" }.joined()
        try DurableFile.write(Array(text.utf8), to: path)
    }

    private static func member(_ a: Alarm) -> Etcdserverpb.AlarmMember {
        var m = Etcdserverpb.AlarmMember()
        m.memberID = a.memberID
        m.alarm = Etcdserverpb.AlarmType(rawValue: a.type)
        return m
    }

    /// gogoproto's text form, which etcd puts in Status.errors:
    /// `memberID:10276657743932975437 alarm:NOSPACE `.
    static func describe(_ m: Etcdserverpb.AlarmMember) -> String {
        let name: String
        switch m.alarm {
        case .none: name = "NONE"
        case .nospace: name = "NOSPACE"
        case .corrupt: name = "CORRUPT"
        case .UNRECOGNIZED(let v): name = "\(v)"
        }
        return "memberID:\(m.memberID) alarm:\(name) "
    }
}
