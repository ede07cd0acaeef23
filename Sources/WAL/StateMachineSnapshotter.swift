/// What the WAL/Raft layer needs from the state machine (the MVCC store) to
/// take and install snapshots.
///
/// The data is an in-memory byte array: simple, and the snapshot file and the
/// peer message carry it as-is. Stores far larger than memory would want a
/// file-based variant (stream the LMDB file into the snapshot directory); that
/// can be added beside this one without changing the snapshot file format,
/// since the data part is opaque.
public protocol StateMachineSnapshotter: AnyObject {
    /// A consistent image of the state machine with every entry up to and
    /// including `index` applied and none after it.
    func snapshotData(atApplied index: UInt64) throws -> [UInt8]
    /// Replaces the whole state with `data` (received from the leader or
    /// loaded at start-up).
    func installSnapshotData(_ data: [UInt8]) throws
}

/// A key-value map as a reference state machine for tests.
public final class InMemoryStateMachine: StateMachineSnapshotter, @unchecked Sendable {
    public private(set) var values: [String: [UInt8]] = [:]
    public private(set) var appliedIndex: UInt64 = 0

    public init() {}

    public func apply(index: UInt64, key: String, value: [UInt8]) {
        precondition(index > appliedIndex, "entries must be applied in order")
        values[key] = value
        appliedIndex = index
    }

    public func snapshotData(atApplied index: UInt64) throws -> [UInt8] {
        guard index == appliedIndex else { throw SnapshotterError.notAtIndex(requested: index, applied: appliedIndex) }
        var w = ByteWriter()
        w.u64(appliedIndex)
        w.u32(UInt32(values.count))
        for (k, v) in values.sorted(by: { $0.key < $1.key }) {
            let kb = Array(k.utf8)
            w.u32(UInt32(kb.count)); w.raw(kb)
            w.u32(UInt32(v.count)); w.raw(v)
        }
        return w.bytes
    }

    public func installSnapshotData(_ data: [UInt8]) throws {
        var r = ByteReader(data)
        do {
            let applied = try r.u64()
            let n = try r.u32()
            var m: [String: [UInt8]] = [:]
            for _ in 0..<n {
                let k = try r.raw(Int(try r.u32()))
                let v = try r.raw(Int(try r.u32()))
                m[String(decoding: k, as: UTF8.self)] = v
            }
            guard r.remaining == 0 else { throw SnapshotterError.malformed }
            values = m
            appliedIndex = applied
        } catch is ByteReader.Short {
            throw SnapshotterError.malformed
        }
    }
}

public enum SnapshotterError: Error, Equatable {
    case notAtIndex(requested: UInt64, applied: UInt64)
    case malformed
}
