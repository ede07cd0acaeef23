/// Bulk-loads one B+tree (a bucket) from entries given in ascending key
/// order, writing each page as soon as it is full: memory holds one page per
/// tree level (plus one element, however large), never the tree.
///
/// Pages are numbered in the order they are finished, from `firstPage` up;
/// a leaf is finished before the branch page that points at it, so the
/// caller writes pages out in id order. Every page is filled up to
/// `pageSize` (an element that does not fit starts the next page; a page
/// with one element larger than a page becomes an overflow page).
///
/// Two modes run the same decisions: `planning` only counts (it needs key
/// bytes but only the size of each value), `writing` also produces the page
/// bytes. Planning first tells where each bucket's root lands, which the
/// meta and root bucket pages at the front of the file must name before any
/// data page is written.
struct BoltTreeBuilder {
    let pageSize: Int
    let writing: Bool
    /// The id the next finished page gets.
    private(set) var nextPage: UInt64
    /// levels[0] holds leaf elements; levels[k] the branch elements pointing
    /// at pages of level k-1.
    private var levels: [PendingPage]
    /// Pages finished per level.
    private var finished: [Int]

    init(pageSize: Int, firstPage: UInt64, writing: Bool) {
        self.pageSize = pageSize
        self.writing = writing
        nextPage = firstPage
        levels = [PendingPage(isLeaf: true)]
        finished = [0]
    }

    /// Adds a leaf entry. `value` is nil when planning; `valueBytes` is its size.
    mutating func add(flags: UInt32, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?, valueBytes: Int,
                      out: inout [UInt8]) throws {
        try add(level: 0, flags: flags, key: key, value: value, valueBytes: valueBytes, child: 0, out: &out)
    }

    /// Finishes every level; returns the root page id.
    mutating func finish(out: inout [UInt8]) throws -> UInt64 {
        if levels[0].count > 0 || finished[0] == 0 { try close(level: 0, out: &out) }
        var k = 1
        while true {
            // levels[k] exists: closing level k-1 pushed an element into it.
            if finished[k] == 0 && levels[k].count == 1 { return levels[k].onlyChild }
            try close(level: k, out: &out)
            k += 1
        }
    }

    private mutating func add(level k: Int, flags: UInt32, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?,
                              valueBytes: Int, child: UInt64, out: inout [UInt8]) throws {
        let need = BoltFormat.elementBytes + key.count + (k == 0 ? valueBytes : 0)
        if levels[k].count > 0 && (levels[k].contentBytes + need > pageSize || levels[k].count == Int(UInt16.max)) {
            try close(level: k, out: &out)
        }
        guard key.count <= UInt32.max, valueBytes <= UInt32.max else { throw BoltWriteError.elementTooLarge(key.count + valueBytes) }
        levels[k].append(flags: flags, key: key, value: value, valueBytes: valueBytes, child: child, keepData: writing)
    }

    /// Writes out level k's pending page and hands its first key to level k+1.
    private mutating func close(level k: Int, out: inout [UInt8]) throws {
        let pages = (levels[k].contentBytes + pageSize - 1) / pageSize
        guard pages - 1 <= Int(UInt32.max) else { throw BoltWriteError.elementTooLarge(levels[k].contentBytes) }
        let id = nextPage
        nextPage += UInt64(pages)
        if writing { levels[k].write(id: id, pages: pages, pageSize: pageSize, out: &out) }
        let firstKey = levels[k].firstKey
        levels[k].reset()
        finished[k] += 1
        if levels.count == k + 1 {
            levels.append(PendingPage(isLeaf: false))
            finished.append(0)
        }
        try firstKey.withUnsafeBytes { fk in
            try add(level: k + 1, flags: 0, key: fk, value: nil, valueBytes: 0, child: id, out: &out)
        }
    }
}

/// Why a file could not be written.
public enum BoltWriteError: Error, Equatable, CustomStringConvertible {
    /// An element (key + value) too large for bbolt's 32-bit sizes.
    case elementTooLarge(Int)
    /// The second pass laid out other pages than the first: the data changed.
    case layoutChanged(bucket: String)
    /// Buckets were not given in the order the writer was set up with.
    case bucketOrder(String)

    public var description: String {
        switch self {
        case .elementTooLarge(let n): return "bolt: an element of \(n) bytes is too large for a page"
        case .layoutChanged(let b): return "bolt: bucket \(b) changed between the planning and the writing pass"
        case .bucketOrder(let b): return "bolt: bucket \(b) given out of order"
        }
    }
}

/// The elements of the page being filled at one level, and their bytes.
struct PendingPage {
    struct Element {
        var flags: UInt32
        var keySize: UInt32
        var valueSize: UInt32
        var child: UInt64
    }

    let isLeaf: Bool
    private(set) var elements: [Element] = []
    /// Keys (and values) in order; filled only when writing.
    private var data: [UInt8] = []
    private(set) var firstKey: [UInt8] = []
    /// Header + elements + key/value bytes so far.
    private(set) var contentBytes = BoltFormat.pageHeaderBytes

    init(isLeaf: Bool) { self.isLeaf = isLeaf }

    var count: Int { elements.count }
    var onlyChild: UInt64 { elements[0].child }

    mutating func append(flags: UInt32, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?, valueBytes: Int,
                         child: UInt64, keepData: Bool) {
        if elements.isEmpty { firstKey = Array(key) }
        elements.append(Element(flags: flags, keySize: UInt32(key.count), valueSize: UInt32(valueBytes), child: child))
        if keepData {
            data.append(contentsOf: key)
            if let value { data.append(contentsOf: value) }
        }
        contentBytes += BoltFormat.elementBytes + key.count + (isLeaf ? valueBytes : 0)
    }

    mutating func reset() {
        elements.removeAll(keepingCapacity: true)
        data.removeAll(keepingCapacity: true)
        contentBytes = BoltFormat.pageHeaderBytes
    }

    /// Appends the page (`pages` × `pageSize` bytes, zero padded) to `out`.
    func write(id: UInt64, pages: Int, pageSize: Int, out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: pages * pageSize))
        out.withUnsafeMutableBytes { all in
            let page = UnsafeMutableRawBufferPointer(rebasing: all[start..<(start + pages * pageSize)])
            BoltPageHeader(id: id, flags: isLeaf ? BoltFormat.leafPageFlag : BoltFormat.branchPageFlag,
                           count: UInt16(elements.count), overflow: UInt32(pages - 1)).write(to: page)
            var dataOffset = BoltFormat.pageHeaderBytes + elements.count * BoltFormat.elementBytes
            for (i, e) in elements.enumerated() {
                let at = BoltFormat.pageHeaderBytes + i * BoltFormat.elementBytes
                let pos = UInt32(dataOffset - at)
                if isLeaf {
                    page.storeLE(e.flags, at: at)
                    page.storeLE(pos, at: at + 4)
                    page.storeLE(e.keySize, at: at + 8)
                    page.storeLE(e.valueSize, at: at + 12)
                    dataOffset += Int(e.keySize) + Int(e.valueSize)
                } else {
                    page.storeLE(pos, at: at)
                    page.storeLE(e.keySize, at: at + 4)
                    page.storeLE(e.child, at: at + 8)
                    dataOffset += Int(e.keySize)
                }
            }
            data.withUnsafeBytes { d in
                if d.count > 0 {
                    let from = BoltFormat.pageHeaderBytes + elements.count * BoltFormat.elementBytes
                    UnsafeMutableRawBufferPointer(rebasing: page[from..<(from + d.count)]).copyMemory(from: d)
                }
            }
        }
    }
}
