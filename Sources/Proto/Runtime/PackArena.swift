import CProtobuf

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Bump allocator for the C structs, arrays, strings and byte copies built while
/// packing one message. Nothing is freed individually: everything goes when the
/// arena is deinitialised, right after `protobuf_c_message_pack`.
///
/// Starts on a caller-provided (stack) buffer and falls back to malloc'd chunks,
/// so small messages pack without any heap allocation for the C side.
struct PackArena: ~Copyable {
    private var cursor: UnsafeMutableRawPointer
    private var remaining: Int
    /// malloc'd chunks owned by the arena, freed in `deinit`.
    private var chunks: [UnsafeMutableRawPointer] = []

    static let chunkBytes = 16 * 1024
    static let alignment = 16

    init(initial: UnsafeMutableRawBufferPointer) {
        cursor = initial.baseAddress!
        remaining = initial.count
    }

    deinit {
        for chunk in chunks { free(chunk) }
    }

    /// Uninitialised, 16-byte aligned memory for `bytes` bytes, valid until the arena dies.
    mutating func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        let misalign = Int(bitPattern: cursor) & (Self.alignment - 1)
        let padding = misalign == 0 ? 0 : Self.alignment - misalign
        if padding + bytes <= remaining {
            let result = cursor + padding
            cursor = result + bytes
            remaining -= padding + bytes
            return result
        }
        if bytes > Self.chunkBytes / 4 {
            // A large block (a big value): give it its own chunk, keep the current one.
            let block = malloc(max(bytes, 1))!
            chunks.append(block)
            return block
        }
        let chunk = malloc(Self.chunkBytes)!
        chunks.append(chunk)
        cursor = chunk + bytes
        remaining = Self.chunkBytes - bytes
        return chunk
    }

    mutating func allocate<T>(_: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        precondition(MemoryLayout<T>.alignment <= Self.alignment)
        return allocate(bytes: MemoryLayout<T>.stride * count).bindMemory(to: T.self, capacity: count)
    }

    // MARK: field helpers used by the generated code

    /// Copies `bytes` into the arena; empty gives protobuf-c's empty value.
    mutating func binary(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        if bytes.isEmpty { return ProtobufCBinaryData(len: 0, data: nil) }
        let memory = allocate(bytes: bytes.count)
        bytes.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return ProtobufCBinaryData(len: bytes.count, data: memory.assumingMemoryBound(to: UInt8.self))
    }

    /// A copy of `string`'s UTF-8 with its length (string fields are `bytes` to
    /// protobuf-c, so an embedded NUL is kept); empty gives protobuf-c's empty value.
    mutating func utf8(_ string: String) -> ProtobufCBinaryData {
        var string = string
        return string.withUTF8 { utf8 in
            if utf8.isEmpty { return ProtobufCBinaryData(len: 0, data: nil) }
            let memory = allocate(bytes: utf8.count)
            memory.copyMemory(from: utf8.baseAddress!, byteCount: utf8.count)
            return ProtobufCBinaryData(len: utf8.count, data: memory.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// A copy of `values` converted by `convert`; nil when empty.
    mutating func array<S, T>(_ values: [S], _ convert: (S) -> T) -> UnsafeMutablePointer<T>? {
        if values.isEmpty { return nil }
        let memory = allocate(T.self, count: values.count)
        for (index, value) in values.enumerated() { (memory + index).initialize(to: convert(value)) }
        return memory
    }

    mutating func array<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        array(values) { $0 }
    }

    mutating func binaries(_ values: [[UInt8]]) -> UnsafeMutablePointer<ProtobufCBinaryData>? {
        if values.isEmpty { return nil }
        let memory = allocate(ProtobufCBinaryData.self, count: values.count)
        for (index, value) in values.enumerated() { (memory + index).initialize(to: binary(value)) }
        return memory
    }

    mutating func utf8s(_ values: [String]) -> UnsafeMutablePointer<ProtobufCBinaryData>? {
        if values.isEmpty { return nil }
        let memory = allocate(ProtobufCBinaryData.self, count: values.count)
        for (index, value) in values.enumerated() { (memory + index).initialize(to: utf8(value)) }
        return memory
    }

    /// The C struct of a sub-message, initialised and filled.
    mutating func message<M: CProtoBridged>(_ value: M) -> UnsafeMutablePointer<M.CMessage> {
        let memory = allocate(M.CMessage.self, count: 1)
        M.cInit(memory)
        value.fill(memory, &self)
        return memory
    }

    /// The pointer array of a repeated message field; nil when empty.
    mutating func messages<M: CProtoBridged>(_ values: [M]) -> UnsafeMutablePointer<UnsafeMutablePointer<M.CMessage>?>? {
        if values.isEmpty { return nil }
        let pointers = allocate(UnsafeMutablePointer<M.CMessage>?.self, count: values.count)
        let structs = allocate(M.CMessage.self, count: values.count)
        for (index, value) in values.enumerated() {
            let item = structs + index
            M.cInit(item)
            value.fill(item, &self)
            (pointers + index).initialize(to: item)
        }
        return pointers
    }
}
