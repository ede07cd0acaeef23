import CProtobuf

/// The link between a generated Swift message and its protobuf-c struct.
/// Implemented by the generated code; `CCodec` does the packing and unpacking.
protocol CProtoBridged: ProtoMessage {
    associatedtype CMessage
    static func cInit(_ c: UnsafeMutablePointer<CMessage>)
    static func cPackedSize(_ c: UnsafePointer<CMessage>) -> Int
    static func cPack(_ c: UnsafePointer<CMessage>, _ out: UnsafeMutablePointer<UInt8>) -> Int
    /// protobuf-c's unpack: nil for any invalid input. `CCodec` passes an arena
    /// allocator, so the result dies with the arena (no free_unpacked).
    static func cUnpack(_ bytes: UnsafeRawBufferPointer, _ allocator: UnsafeMutablePointer<ProtobufCAllocator>?) -> UnsafeMutablePointer<CMessage>?
    /// Row of `NestingTable` for messages whose schema allows unbounded nesting, else nil.
    static var nestingNode: Int? { get }

    /// Writes self into an initialised C struct; pointers go into `arena`.
    func fill(_ c: UnsafeMutablePointer<CMessage>, _ arena: inout PackArena)
    /// Copies a C struct (from protobuf-c's unpack) into a Swift value.
    init(c: UnsafePointer<CMessage>) throws(ProtoDecodeError)
}

/// Packing and unpacking shared by all generated messages. Generic over the
/// message only, so each generated caller gets a specialised copy.
enum CCodec {
    /// Bytes of stack given to the pack arena before it mallocs.
    static let packStackBytes = 2048
    /// Bytes of stack given to protobuf-c's unpack before the arena mallocs.
    static let unpackStackBytes = 4096

    /// Runs `body` with the thread's scratch buffer (`swiftetcd_scratch_take`),
    /// or, when a pack or unpack on this thread already holds it, with a
    /// temporary buffer of `bytes`. `body` must not suspend or keep the buffer.
    @inline(__always)
    static func withScratch<R>(_ bytes: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        if let scratch = swiftetcd_scratch_take() {
            defer { swiftetcd_scratch_give(scratch) }
            return try body(UnsafeMutableRawBufferPointer(start: scratch, count: Int(SWIFTETCD_SCRATCH_BYTES)))
        }
        return try withUnsafeTemporaryAllocation(byteCount: bytes, alignment: PackArena.alignment, body)
    }

    static func pack<M: CProtoBridged>(
        _ message: M,
        _ body: (_ size: Int, _ write: (UnsafeMutableRawBufferPointer) -> Void) throws -> Void
    ) rethrows {
        try withScratch(packStackBytes) { stack in
            var arena = PackArena(initial: stack)
            let c = arena.message(message)
            let size = M.cPackedSize(c)
            try body(size) { out in
                precondition(out.count >= size, "buffer smaller than the packed size")
                let written = M.cPack(c, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
                assert(written == size)
            }
        }
    }

    static func serializedBytes<M: CProtoBridged>(_ message: M, headroom: Int) -> [UInt8] {
        precondition(headroom >= 0)
        return withScratch(packStackBytes) { stack in
            var arena = PackArena(initial: stack)
            let c = arena.message(message)
            let size = M.cPackedSize(c)
            return [UInt8](unsafeUninitializedCapacity: headroom + size) { buffer, count in
                let base = buffer.baseAddress!
                if headroom > 0 { base.initialize(repeating: 0, count: headroom) }
                let written = M.cPack(c, base + headroom)
                assert(written == size)
                count = headroom + size
            }
        }
    }

    static func decode<M: CProtoBridged>(_ bytes: UnsafeRawBufferPointer) throws(ProtoDecodeError) -> M {
        if let node = M.nestingNode {
            try NestingTable.check(bytes, node: node, depth: 1)
        }
        let result = withScratch(unpackStackBytes) { stack in
            var arena = SwiftEtcdUnpackArena()
            swiftetcd_unpack_arena_init(&arena, stack.baseAddress, stack.count)
            defer { swiftetcd_unpack_arena_destroy(&arena) }
            return withUnsafeMutablePointer(to: &arena.allocator) { allocator in
                Result { () throws(ProtoDecodeError) -> M in
                    // protobuf-c wants a non-null pointer even for an empty message.
                    let input = bytes.count == 0 ? UnsafeRawBufferPointer(start: stack.baseAddress, count: 0) : bytes
                    guard let unpacked = M.cUnpack(input, allocator) else { throw .malformed }
                    // protobuf-c reads a bool sent with any wire type; etcd refuses that input.
                    let descriptor = UnsafeRawPointer(unpacked).assumingMemoryBound(to: ProtobufCMessage.self).pointee.descriptor
                    guard swiftetcd_wire_types_valid(descriptor, input.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                                     input.count) else { throw .malformed }
                    return try M(c: unpacked)
                }
            }
        }
        return try result.get()
    }
}

// MARK: readers used by the generated `init(c:)`

@inline(__always)
func protoBytes(_ data: ProtobufCBinaryData) -> [UInt8] {
    guard data.len > 0, let base = data.data else { return [] }
    return [UInt8](UnsafeBufferPointer(start: base, count: data.len))
}

/// A `string` field: protobuf-c sees string fields as `bytes` (see
/// scripts/gen-protos.sh), so every byte survives, an embedded NUL included;
/// the UTF-8 check proto3 asks of strings happens here.
@inline(__always)
func protoString(_ data: ProtobufCBinaryData) throws(ProtoDecodeError) -> String {
    guard data.len > 0, let base = data.data else { return "" }
    guard let string = String(validating: UnsafeBufferPointer(start: base, count: data.len), as: UTF8.self) else {
        throw .invalidUTF8
    }
    return string
}

@inline(__always)
func protoArray<C, T>(_ count: Int, _ pointer: UnsafePointer<C>?, _ convert: (C) -> T) -> [T] {
    guard count > 0, let pointer else { return [] }
    return UnsafeBufferPointer(start: pointer, count: count).map(convert)
}

func protoStrings(_ count: Int, _ pointer: UnsafePointer<ProtobufCBinaryData>?) throws(ProtoDecodeError) -> [String] {
    guard count > 0, let pointer else { return [] }
    var result: [String] = []
    result.reserveCapacity(count)
    for index in 0..<count { result.append(try protoString(pointer[index])) }
    return result
}

func protoMessages<M: CProtoBridged>(
    _ count: Int, _ pointer: UnsafePointer<UnsafeMutablePointer<M.CMessage>?>?
) throws(ProtoDecodeError) -> [M] {
    guard count > 0, let pointer else { return [] }
    var result: [M] = []
    result.reserveCapacity(count)
    for index in 0..<count {
        guard let item = pointer[index] else { throw .malformed }
        result.append(try M(c: item))
    }
    return result
}

/// A C enum (imported as a RawRepresentable struct) from a proto enum value.
@inline(__always)
func cEnum<E: RawRepresentable>(_ value: Int32) -> E where E.RawValue: FixedWidthInteger {
    E(rawValue: E.RawValue(truncatingIfNeeded: value))!
}

/// A proto enum value from a C enum.
@inline(__always)
func protoEnumValue<E: RawRepresentable>(_ value: E) -> Int32 where E.RawValue: FixedWidthInteger {
    Int32(truncatingIfNeeded: value.rawValue)
}
