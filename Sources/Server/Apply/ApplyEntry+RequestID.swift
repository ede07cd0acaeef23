extension ApplyEntry {
    /// The proposer's request ID (field 1 of `InternalRaftRequest`) read from
    /// the top-level fields of an entry that does not decode as a whole
    /// (e.g. nested deeper than the decoder takes); nil if it has none or
    /// its top level is not well formed.
    static func requestID(_ bytes: [UInt8]) -> UInt64? {
        var id: UInt64?
        let wellFormed = ProtoTopLevelFields.scan(bytes) { field, value in
            if field == 1, let value { id = value }
            return true
        }
        return wellFormed ? id : nil
    }
}
