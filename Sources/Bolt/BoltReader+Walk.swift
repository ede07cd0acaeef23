/// The tree walk: depth first over branch pages, leaves in key order.
extension BoltReader {
    /// A page read and checked, with where it sits in the file.
    struct Page {
        var bytes: [UInt8]
        var header: BoltPageHeader
        /// File offset of its first byte (for inline pages: of the bucket header).
        var offset: Int64
    }

    /// Reads page `id` (with its overflow pages) and checks its header.
    func readPage(_ id: UInt64, from parentOffset: Int64) throws -> Page {
        guard id >= 2, id < meta.pageCount else {
            throw error(parentOffset, "points at page \(id), outside pages 2..<\(meta.pageCount)")
        }
        let offset = Int64(id) * Int64(pageSize)
        var bytes = [UInt8](repeating: 0, count: pageSize)
        try bytes.withUnsafeMutableBytes { try source.read(into: $0, at: offset) }
        let header = bytes.withUnsafeBytes { BoltPageHeader($0) }
        if header.id != id { throw error(offset, "page \(id) says it is page \(header.id)") }
        if header.overflow > 0 {
            let last = id.addingReportingOverflow(UInt64(header.overflow))
            guard !last.overflow, last.partialValue < meta.pageCount else {
                throw error(offset, "page \(id) claims \(header.overflow) overflow pages, past the \(meta.pageCount) pages in use")
            }
            bytes = [UInt8](repeating: 0, count: (Int(header.overflow) + 1) * pageSize)
            try bytes.withUnsafeMutableBytes { try source.read(into: $0, at: offset) }
        }
        try markReached(id, overflow: header.overflow, offset: offset)
        return Page(bytes: bytes, header: header, offset: offset)
    }

    /// Calls `body` for each leaf entry under `root` (or in the inline
    /// page) in key order, checking that keys ascend strictly.
    func walk(root: UInt64, inlinePage: [UInt8]?, inlineOffset: Int64 = 0, bucketName: String,
              _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer, UInt32, Int64) throws -> Void) throws {
        seen = [UInt64](repeating: 0, count: seen.count)
        seen[0] |= 0b11  // the meta pages
        var previous: [UInt8]?
        func leaf(_ page: Page) throws {
            try page.bytes.withUnsafeBytes { b in
                try elements(page, b, elementBytes: BoltFormat.elementBytes) { at in
                    let flags = b.le(UInt32.self, at: at)
                    let (start, end) = try span(page, at: at, pos: b.le(UInt32.self, at: at + 4),
                                                b.le(UInt32.self, at: at + 8), b.le(UInt32.self, at: at + 12), in: b.count)
                    let keyEnd = start + Int(b.le(UInt32.self, at: at + 8))
                    let key = UnsafeRawBufferPointer(rebasing: b[start..<keyEnd])
                    if let prev = previous, !prev.lexicographicallyPrecedes(key) {
                        throw error(page.offset + Int64(at), "keys out of order in bucket \(bucketName): \(Self.show(key)) after \(prev.withUnsafeBytes { Self.show($0) })")
                    }
                    previous = Array(key)
                    try body(key, UnsafeRawBufferPointer(rebasing: b[keyEnd..<end]), flags, page.offset + Int64(at))
                }
            }
        }
        if let inlinePage {
            guard inlinePage.count >= BoltFormat.pageHeaderBytes else {
                throw error(inlineOffset, "inline bucket \(bucketName) is \(inlinePage.count) bytes, too small for a page")
            }
            let header = inlinePage.withUnsafeBytes { BoltPageHeader($0) }
            guard header.flags == BoltFormat.leafPageFlag else {
                throw error(inlineOffset, "inline bucket \(bucketName) is not a leaf page (flags 0x\(String(header.flags, radix: 16)))")
            }
            return try leaf(Page(bytes: inlinePage, header: header, offset: inlineOffset))
        }
        // Depth-first: each stack entry is a branch page and the next child to visit.
        var stack: [(page: Page, next: Int)] = []
        var pending: (id: UInt64, from: Int64)? = (root, 0)
        while true {
            if let (id, from) = pending {
                pending = nil
                let page = try readPage(id, from: from)
                switch page.header.flags {
                case BoltFormat.leafPageFlag:
                    try leaf(page)
                case BoltFormat.branchPageFlag:
                    if stack.count >= Self.maxDepth { throw error(page.offset, "bucket \(bucketName) is deeper than \(Self.maxDepth) levels") }
                    try checkBranch(page)
                    stack.append((page, 0))
                default:
                    throw error(page.offset, "page \(id) of bucket \(bucketName) has flags 0x\(String(page.header.flags, radix: 16)), not a branch or leaf page")
                }
            }
            guard let top = stack.last else { return }
            if top.next >= Int(top.page.header.count) {
                stack.removeLast()
                continue
            }
            let at = BoltFormat.pageHeaderBytes + top.next * BoltFormat.elementBytes
            let child = top.page.bytes.withUnsafeBytes { $0.le(UInt64.self, at: at + 8) }
            stack[stack.count - 1].next += 1
            pending = (child, top.page.offset + Int64(at))
        }
    }

    /// Checks a branch page's element table and key bounds.
    private func checkBranch(_ page: Page) throws {
        try page.bytes.withUnsafeBytes { b in
            if page.header.count == 0 { throw error(page.offset, "branch page \(page.header.id) is empty") }
            var prev: UnsafeRawBufferPointer?
            try elements(page, b, elementBytes: BoltFormat.elementBytes) { at in
                let (start, end) = try span(page, at: at, pos: b.le(UInt32.self, at: at), b.le(UInt32.self, at: at + 4), 0, in: b.count)
                let key = UnsafeRawBufferPointer(rebasing: b[start..<end])
                if let p = prev, !p.lexicographicallyPrecedes(key) {
                    throw error(page.offset + Int64(at), "branch keys out of order on page \(page.header.id)")
                }
                prev = key
            }
        }
    }

    /// Checks that `count` elements fit the page and calls `body` with each one's offset.
    private func elements(_ page: Page, _ b: UnsafeRawBufferPointer, elementBytes: Int, _ body: (Int) throws -> Void) throws {
        let count = Int(page.header.count)
        guard BoltFormat.pageHeaderBytes + count * elementBytes <= b.count else {
            throw error(page.offset, "page \(page.header.id) claims \(count) elements, more than its \(b.count) bytes hold")
        }
        for i in 0..<count { try body(BoltFormat.pageHeaderBytes + i * elementBytes) }
    }

    /// The byte range an element's data covers (from its `pos`), checked to lie in the page.
    private func span(_ page: Page, at: Int, pos: UInt32, _ size1: UInt32, _ size2: UInt32, in pageBytes: Int) throws -> (Int, Int) {
        let start = at + Int(pos)
        let end = start + Int(size1) + Int(size2)  // at most 3 × 2^32 past `at`: no overflow in Int
        guard end <= pageBytes else {
            throw error(page.offset + Int64(at), "an element of page \(page.header.id) points past the page (bytes \(start)..<\(end) of \(pageBytes))")
        }
        return (start, end)
    }
}
