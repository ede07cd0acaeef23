/// Writes a whole bbolt file front to back, as a stream of bytes, from
/// buckets given in name order with their entries in key order.
///
/// The meta pages and the root bucket come first in the file but name the
/// buckets' root pages and the page count, known only once everything is
/// laid out. So the writer runs twice over the same data: a planning pass
/// (`BoltFileWriter(planning:)`, sizes only, no bytes) yields a
/// `BoltFileLayout`; the writing pass (`BoltFileWriter(writing:)`) takes it
/// and produces bytes. Both passes must see identical entries (e.g. from
/// one read transaction); the writer checks that every bucket's root and the
/// page count came out as planned and throws `layoutChanged` otherwise.
///
/// The file: pages 0 and 1 are meta pages (transaction ids 2 and 1), no
/// freelist page (the meta says `noFreelist`, as etcd's own files do;
/// bbolt rebuilds the list on open), the root bucket's pages from page 2,
/// then each bucket's pages. No page is free, no bucket is inline.
public struct BoltFileWriter {
    public let pageSize: Int
    public let bucketNames: [[UInt8]]
    private let layout: BoltFileLayout?
    private var bucketRoots: [UInt64] = []
    private var current: BoltTreeBuilder?
    private var nextPage: UInt64
    /// Pages of the root bucket (same in both passes: it depends on the names only).
    private let rootBucketPages: UInt64

    /// The planning pass. `bucketNames` are sorted here; add buckets in that order.
    public init(planning bucketNames: [[UInt8]], pageSize: Int = BoltFormat.defaultPageSize) throws {
        self.pageSize = pageSize
        self.bucketNames = bucketNames.sorted { $0.lexicographicallyPrecedes($1) }
        layout = nil
        var scratch: [UInt8] = []
        rootBucketPages = try Self.rootBucket(names: self.bucketNames, roots: nil, pageSize: pageSize, out: &scratch)
        nextPage = 2 + rootBucketPages
    }

    /// The writing pass: appends the meta pages and the root bucket to `out` at once.
    public init(writing layout: BoltFileLayout, out: inout [UInt8]) throws {
        pageSize = layout.pageSize
        bucketNames = layout.bucketNames
        self.layout = layout
        Self.writeMetaPages(layout, out: &out)
        rootBucketPages = try Self.rootBucket(names: bucketNames, roots: layout.bucketRoots, pageSize: pageSize, out: &out)
        nextPage = 2 + rootBucketPages
    }

    /// Starts the next bucket; its name must be the next of `bucketNames`.
    public mutating func beginBucket(_ name: [UInt8]) throws {
        guard current == nil, bucketRoots.count < bucketNames.count, bucketNames[bucketRoots.count] == name else {
            throw BoltWriteError.bucketOrder(String(decoding: name, as: UTF8.self))
        }
        current = BoltTreeBuilder(pageSize: pageSize, firstPage: nextPage, writing: layout != nil)
    }

    /// Adds an entry to the current bucket (keys ascending). When planning,
    /// `value` may be nil: only `valueBytes` counts.
    public mutating func add(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?, valueBytes: Int,
                             out: inout [UInt8]) throws {
        precondition(current != nil, "add outside a bucket")
        precondition(layout == nil || value?.count == valueBytes, "writing needs the value")
        try current!.add(flags: 0, key: key, value: value, valueBytes: valueBytes, out: &out)
    }

    public mutating func add(key: [UInt8], value: [UInt8], out: inout [UInt8]) throws {
        try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try add(key: k, value: v, valueBytes: v.count, out: &out) } }
    }

    public mutating func endBucket(out: inout [UInt8]) throws {
        precondition(current != nil, "endBucket outside a bucket")
        let root = try current!.finish(out: &out)
        nextPage = current!.nextPage
        current = nil
        if let layout, layout.bucketRoots[bucketRoots.count] != root {
            throw BoltWriteError.layoutChanged(bucket: String(decoding: bucketNames[bucketRoots.count], as: UTF8.self))
        }
        bucketRoots.append(root)
    }

    /// After the last bucket: the layout (planning) or the final check (writing).
    public func finish() throws -> BoltFileLayout {
        precondition(current == nil && bucketRoots.count == bucketNames.count, "finish before every bucket was written")
        let result = BoltFileLayout(pageSize: pageSize, bucketNames: bucketNames, bucketRoots: bucketRoots,
                                    rootPage: layout?.rootPage ?? (2 + rootBucketPages - 1), pageCount: nextPage)
        if let layout, layout != result { throw BoltWriteError.layoutChanged(bucket: "") }
        return result
    }

    /// Meta 0 (txid 2) and meta 1 (txid 1), so meta 0 is the current one.
    private static func writeMetaPages(_ layout: BoltFileLayout, out: inout [UInt8]) {
        let pageSize = layout.pageSize
        for id in [UInt64(0), 1] {
            let meta = BoltMeta(pageSize: UInt32(pageSize), rootPage: layout.rootPage, freelistPage: BoltFormat.noFreelist,
                                pageCount: layout.pageCount, txid: 2 - id)
            let start = out.count
            out.append(contentsOf: repeatElement(0, count: pageSize))
            out.withUnsafeMutableBytes { all in
                let page = UnsafeMutableRawBufferPointer(rebasing: all[start..<(start + pageSize)])
                BoltPageHeader(id: id, flags: BoltFormat.metaPageFlag, count: 0, overflow: 0).write(to: page)
                meta.encoded().withUnsafeBytes {
                    UnsafeMutableRawBufferPointer(rebasing: page[BoltFormat.pageHeaderBytes...]).copyMemory(from: $0)
                }
            }
        }
    }

    /// Lays out (and, with `roots`, writes) the root bucket from page 2;
    /// returns its page count. Its root is its last page.
    private static func rootBucket(names: [[UInt8]], roots: [UInt64]?, pageSize: Int, out: inout [UInt8]) throws -> UInt64 {
        var tree = BoltTreeBuilder(pageSize: pageSize, firstPage: 2, writing: roots != nil)
        for (i, name) in names.enumerated() {
            var header = [UInt8](repeating: 0, count: BoltFormat.bucketHeaderBytes)
            header.withUnsafeMutableBytes { $0.storeLE(roots?[i] ?? 0, at: 0) }
            try name.withUnsafeBytes { k in
                try header.withUnsafeBytes { v in
                    try tree.add(flags: BoltFormat.bucketLeafFlag, key: k, value: roots == nil ? nil : v, valueBytes: v.count,
                                 out: &out)
                }
            }
        }
        let root = try tree.finish(out: &out)
        precondition(root == tree.nextPage - 1, "the root bucket's root is its last page")
        return tree.nextPage - 2
    }
}

/// Where a planned file puts things: each bucket's root page and the total.
public struct BoltFileLayout: Equatable, Sendable {
    public let pageSize: Int
    public let bucketNames: [[UInt8]]
    public let bucketRoots: [UInt64]
    public let rootPage: UInt64
    /// Pages in the file; its size is pageCount × pageSize bytes.
    public let pageCount: UInt64

    public var sizeBytes: Int64 { Int64(pageCount) * Int64(pageSize) }
}
