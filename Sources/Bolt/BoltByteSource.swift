/// Where a `BoltReader` gets its bytes: a file (`BoltFileSource`) or memory
/// (`BoltBytes`, for tests and fuzzing).
public protocol BoltByteSource {
    /// Named in every error (a file path).
    var name: String { get }
    /// Bytes available; the reader never asks beyond them.
    var sizeBytes: Int64 { get }
    /// Fills `buffer` with the bytes at `offset` (offset + buffer.count ≤ sizeBytes).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws
}

/// Bytes in memory, optionally only a prefix of them.
public struct BoltBytes: BoltByteSource {
    public let name: String
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8], name: String = "<memory>") {
        self.bytes = bytes
        self.name = name
    }

    public var sizeBytes: Int64 { Int64(bytes.count) }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws {
        bytes.withUnsafeBytes { all in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[Int(offset)..<(Int(offset) + buffer.count)]))
        }
    }
}

/// A corrupt or unreadable database: which file, where, and what is wrong.
public struct BoltReadError: Error, Equatable, CustomStringConvertible {
    public let file: String
    /// Byte offset in the file of the page or structure at fault.
    public let offset: Int64
    public let reason: String

    public init(file: String, offset: Int64, reason: String) {
        self.file = file
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "\(file): invalid bbolt database at offset \(offset): \(reason)" }
}
