import MVCC
import Proto
import Support

/// etcd's KV answers (`PutResponse`, `DeleteRangeResponse`, `TxnResponse`)
/// written as wire bytes straight from the store's response values: the
/// same bytes as `KVMapping`'s messages encoded through protobuf-c, without
/// building those messages (a Swift tree, then protobuf-c structs in an
/// arena) for every write.
///
/// The bytes follow protobuf-c's proto3 encoding: fields in number order,
/// zero scalars left out, a set message field (even an empty one) written,
/// and inner responses carry a header holding only their revision, as
/// `KVMapping.txnResponse` builds them. `KVResponseBytesTests` compares the
/// two on varied answers.
enum KVResponseBytes {
    static func put(_ r: MVCC.PutResponse, header: Etcdserverpb.ResponseHeader, headroom: Int) -> [UInt8] {
        let h = Header(header)
        var out = ProtoWireOut(headroom: headroom, size: Size.put(r, header: h.size))
        out.put(r, header: h)
        return out.finish()
    }

    static func deleteRange(_ r: MVCC.DeleteRangeResponse, header: Etcdserverpb.ResponseHeader, headroom: Int) -> [UInt8] {
        let h = Header(header)
        var out = ProtoWireOut(headroom: headroom, size: Size.deleteRange(r, header: h.size))
        out.deleteRange(r, header: h)
        return out.finish()
    }

    static func txn(_ r: MVCC.TxnResponse, header: Etcdserverpb.ResponseHeader, headroom: Int) -> [UInt8] {
        let h = Header(header)
        var out = ProtoWireOut(headroom: headroom, size: Size.txn(r, header: h.size))
        out.txn(r, header: h)
        return out.finish()
    }

    /// `etcdserverpb.ResponseHeader` (1 cluster_id, 2 member_id, 3 revision, 4 raft_term).
    struct Header {
        var clusterID: UInt64 = 0
        var memberID: UInt64 = 0
        var revision: Int64 = 0
        var raftTerm: UInt64 = 0

        init(_ h: Etcdserverpb.ResponseHeader) {
            (clusterID, memberID, revision, raftTerm) = (h.clusterID, h.memberID, h.revision, h.raftTerm)
        }

        /// The header of an op inside a txn: only the revision the op saw.
        init(revision: Int64) { self.revision = revision }

        var size: Int {
            Size.varintField(clusterID) + Size.varintField(memberID)
                + Size.varintField(UInt64(bitPattern: revision)) + Size.varintField(raftTerm)
        }
    }

    /// Encoded sizes of message bodies (without their own tag and length).
    enum Size {
        @inline(__always)
        static func varint(_ v: UInt64) -> Int { ProtoVarint.size(v) }

        /// A varint field with a one-byte tag, left out when zero.
        @inline(__always)
        static func varintField(_ v: UInt64) -> Int { v == 0 ? 0 : 1 + varint(v) }

        /// A length-delimited field with a one-byte tag around `n` bytes.
        @inline(__always)
        static func field(_ n: Int) -> Int { 1 + varint(UInt64(n)) + n }

        static func keyValue(_ kv: MVCC.KeyValue) -> Int {
            (kv.key.isEmpty ? 0 : field(kv.key.count))
                + varintField(UInt64(bitPattern: kv.createRevision)) + varintField(UInt64(bitPattern: kv.modRevision))
                + varintField(UInt64(bitPattern: kv.version))
                + (kv.value.isEmpty ? 0 : field(kv.value.count)) + varintField(UInt64(bitPattern: kv.lease))
        }

        static func range(_ r: MVCC.RangeResponse, header: Int) -> Int {
            var n = field(header)
            for kv in r.kvs { n += field(keyValue(kv)) }
            return n + (r.more ? 2 : 0) + varintField(UInt64(bitPattern: r.count))
        }

        static func put(_ r: MVCC.PutResponse, header: Int) -> Int {
            field(header) + (r.prevKV.map { field(keyValue($0)) } ?? 0)
        }

        static func deleteRange(_ r: MVCC.DeleteRangeResponse, header: Int) -> Int {
            var n = field(header) + varintField(UInt64(bitPattern: r.deleted))
            for kv in r.prevKVs { n += field(keyValue(kv)) }
            return n
        }

        static func txn(_ r: MVCC.TxnResponse, header: Int) -> Int {
            var n = field(header) + (r.succeeded ? 2 : 0)
            for op in r.responses { n += field(responseOp(op)) }
            return n
        }

        /// `etcdserverpb.ResponseOp`: its one oneof member.
        static func responseOp(_ op: MVCC.ResponseOp) -> Int { field(responseOpMember(op).size) }

        /// The oneof member of a `ResponseOp`: its field number and body size
        /// (the op's header holds only its revision).
        static func responseOpMember(_ op: MVCC.ResponseOp) -> (field: UInt8, size: Int) {
            let header = Header(revision: op.revision).size
            return switch op {
            case .range(let x): (1, range(x, header: header))
            case .put(let x): (2, put(x, header: header))
            case .deleteRange(let x): (3, deleteRange(x, header: header))
            case .txn(let x): (4, txn(x, header: header))
            }
        }
    }
}

/// The output buffer: `headroom` zero bytes, then the message, in one
/// allocation of the size computed first (`KVResponseBytes.Size`).
struct ProtoWireOut {
    private(set) var bytes: [UInt8]
    private let expected: Int

    init(headroom: Int, size: Int) {
        bytes = []
        expected = headroom + size
        bytes.reserveCapacity(expected)
        bytes.append(contentsOf: repeatElement(0, count: headroom))
    }

    func finish() -> [UInt8] {
        precondition(bytes.count == expected, "KVResponseBytes: size and encoding disagree")
        return bytes
    }

    @inline(__always)
    mutating func varint(_ v: UInt64) { ProtoVarint.append(v, to: &bytes) }

    /// Field numbers here are below 16: the tag is one byte.
    @inline(__always)
    mutating func varintField(_ field: UInt8, _ v: UInt64) {
        guard v != 0 else { return }
        bytes.append(field << 3)
        varint(v)
    }

    @inline(__always)
    mutating func lengthPrefix(_ field: UInt8, _ n: Int) {
        bytes.append(field << 3 | 2)
        varint(UInt64(n))
    }

    mutating func header(_ field: UInt8, _ h: KVResponseBytes.Header) {
        lengthPrefix(field, h.size)
        varintField(1, h.clusterID)
        varintField(2, h.memberID)
        varintField(3, UInt64(bitPattern: h.revision))
        varintField(4, h.raftTerm)
    }

    mutating func keyValue(_ field: UInt8, _ kv: MVCC.KeyValue) {
        lengthPrefix(field, KVResponseBytes.Size.keyValue(kv))
        if !kv.key.isEmpty {
            lengthPrefix(1, kv.key.count)
            bytes.append(contentsOf: kv.key)
        }
        varintField(2, UInt64(bitPattern: kv.createRevision))
        varintField(3, UInt64(bitPattern: kv.modRevision))
        varintField(4, UInt64(bitPattern: kv.version))
        if !kv.value.isEmpty {
            lengthPrefix(5, kv.value.count)
            bytes.append(contentsOf: kv.value)
        }
        varintField(6, UInt64(bitPattern: kv.lease))
    }

    // Message bodies (etcdserverpb field numbers).

    mutating func range(_ r: MVCC.RangeResponse, header h: KVResponseBytes.Header) {
        header(1, h)
        for kv in r.kvs { keyValue(2, kv) }
        varintField(3, r.more ? 1 : 0)
        varintField(4, UInt64(bitPattern: r.count))
    }

    mutating func put(_ r: MVCC.PutResponse, header h: KVResponseBytes.Header) {
        header(1, h)
        if let prev = r.prevKV { keyValue(2, prev) }
    }

    mutating func deleteRange(_ r: MVCC.DeleteRangeResponse, header h: KVResponseBytes.Header) {
        header(1, h)
        varintField(2, UInt64(bitPattern: r.deleted))
        for kv in r.prevKVs { keyValue(3, kv) }
    }

    mutating func txn(_ r: MVCC.TxnResponse, header h: KVResponseBytes.Header) {
        header(1, h)
        varintField(2, r.succeeded ? 1 : 0)
        for op in r.responses {
            // Sized once: the ResponseOp's length and its member's are both this.
            let member = KVResponseBytes.Size.responseOpMember(op)
            lengthPrefix(3, KVResponseBytes.Size.field(member.size))
            lengthPrefix(member.field, member.size)
            let inner = KVResponseBytes.Header(revision: op.revision)
            switch op {
            case .range(let x): range(x, header: inner)
            case .put(let x): put(x, header: inner)
            case .deleteRange(let x): deleteRange(x, header: inner)
            case .txn(let x): txn(x, header: inner)
            }
        }
    }
}

extension MVCC.ResponseOp {
    /// The revision its header carries.
    var revision: Int64 {
        switch self {
        case .range(let x): x.revision
        case .put(let x): x.revision
        case .deleteRange(let x): x.revision
        case .txn(let x): x.revision
        }
    }
}
