import Bolt
import Support

extension SnapshotFileStatus {
    /// etcdutl's `snapshot status` of an etcd backend file: CRC-32C over
    /// each bucket's name and then its keys and values (a nested bucket's
    /// key only), the revision of the `key` bucket's last change, the number
    /// of entries in all buckets, and the size of the pages in use. Reading
    /// checks the whole file's structure; a `key` bucket entry that is not a
    /// revision key is an error (etcdutl would crash on it).
    public static func etcdBackend(_ reader: BoltReader) throws -> SnapshotFileStatus {
        var crc: UInt32 = 0
        var status = SnapshotFileStatus(hash: 0, revision: 0, totalKey: 0, totalSize: Int64(reader.meta.pageCount) * Int64(reader.pageSize))
        for bucket in try reader.buckets() {
            crc = CRC32C.update(crc, bucket.name)
            let isKey = bucket.name == EtcdSchema.keyBucket
            try reader.forEach(bucket) { k, v, flags, offset in
                crc = CRC32C.update(crc, k)
                if flags & BoltFormat.bucketLeafFlag == 0 { crc = CRC32C.update(crc, v) }
                if isKey {
                    guard k.count >= EtcdSchema.revisionKeyBytes else {
                        throw BoltReadError(file: reader.source.name, offset: offset,
                                            reason: "the key bucket holds \(BoltReader.show(k)), not a revision key")
                    }
                    status.revision = Int64(bigEndian: k.loadUnaligned(as: Int64.self))
                }
                status.totalKey += 1
            }
        }
        status.hash = crc
        return status
    }
}
