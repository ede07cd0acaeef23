extension EtcdWALEntry {
    /// The member a v1 conf change entry removes (`raftpb.ConfChange`: Type is
    /// field 2, NodeID field 3; ConfChangeRemoveNode = 1); nil for anything
    /// else or for data that does not decode. etcd 3.5 proposes member
    /// changes as v1 conf changes.
    public var removedNodeID: UInt64? {
        guard type == 1 else { return nil }
        var r = ProtoFields(data)
        var changeType: UInt64 = 0, node: UInt64 = 0
        do {
            while let field = try r.next() {
                switch field {
                case .varint(2, let v): changeType = v
                case .varint(3, let v): node = v
                default: break
                }
            }
        } catch {
            return nil
        }
        return changeType == 1 && node != 0 ? node : nil
    }
}
