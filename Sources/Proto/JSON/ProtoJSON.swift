/// A message with the protobuf JSON mapping etcd's gRPC gateway uses
/// (see `JSONWriter`). Generated for every message by scripts/gen-swift.py.
public protocol ProtoJSONMessage: ProtoMessage {
    /// Writes the message as one JSON object.
    func writeJSON(to writer: inout JSONWriter)
    /// Reads a JSON object: proto or lowerCamel field names, unknown fields
    /// ignored, `null` meaning unset (as etcd's gateway reads requests).
    init(json: JSONValue) throws(ProtoJSONError)
}

/// An enum with its proto value names, for the JSON mapping.
public protocol ProtoJSONEnum: ProtoEnum {
    /// (number, name) of every declared value.
    static var protoNames: [(Int32, String)] { get }
    /// The fully qualified enum name, e.g. `etcdserverpb.RangeRequest.SortOrder` (for errors).
    static var protoEnumName: String { get }
}

extension ProtoJSONMessage {
    /// The JSON text of the message.
    public func jsonBytes() -> [UInt8] {
        var writer = JSONWriter()
        writeJSON(to: &writer)
        return writer.bytes
    }

    public func jsonString() -> String {
        String(decoding: jsonBytes(), as: UTF8.self)
    }

    /// Parses the first JSON value of `bytes`, as Go's json.Decoder does for a
    /// request body: empty input (only whitespace) is an empty message, text
    /// after the first value is not read.
    public init(jsonBytes bytes: some Collection<UInt8>) throws(ProtoJSONError) {
        guard let value = try JSONValue.parseFirst(bytes) else {
            self.init()
            return
        }
        try self.init(json: value)
    }
}

// MARK: - reading field values

extension JSONValue {
    private func mismatch(_ type: String) -> ProtoJSONError {
        ProtoJSONError("json: cannot unmarshal \(kindName) into Go value of type \(type)")
    }

    /// The text of a number, or of a string holding one (jsonpb accepts both for integers).
    private func numberText(_ type: String) throws(ProtoJSONError) -> String {
        switch self {
        case .number(let text): return text
        case .string(let text):
            guard let first = text.utf8.first else { throw ProtoJSONError("unexpected end of JSON input") }
            if first != UInt8(ascii: "-"), !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) {
                throw ProtoJSONError("invalid character '\(text.first!)' looking for beginning of value")
            }
            return text
        default: throw mismatch(type)
        }
    }

    private func integer<T: FixedWidthInteger>(_ type: String) throws(ProtoJSONError) -> T {
        let text = try numberText(type)
        if let v = T(text) { return v }
        throw ProtoJSONError("json: cannot unmarshal number \(text) into Go value of type \(type)")
    }

    public func protoInt32() throws(ProtoJSONError) -> Int32 { try integer("int32") }
    public func protoInt64() throws(ProtoJSONError) -> Int64 { try integer("int64") }
    public func protoUInt32() throws(ProtoJSONError) -> UInt32 { try integer("uint32") }
    public func protoUInt64() throws(ProtoJSONError) -> UInt64 { try integer("uint64") }

    public func protoDouble() throws(ProtoJSONError) -> Double {
        switch self {
        case .string("NaN"): return .nan
        case .string("Infinity"): return .infinity
        case .string("-Infinity"): return -.infinity
        default:
            let text = try numberText("float64")
            guard let v = Double(text) else { throw mismatch("float64") }
            return v
        }
    }

    public func protoFloat() throws(ProtoJSONError) -> Float { Float(try protoDouble()) }

    public func protoBool() throws(ProtoJSONError) -> Bool {
        guard case .bool(let v) = self else { throw mismatch("bool") }
        return v
    }

    public func protoString() throws(ProtoJSONError) -> String {
        guard case .string(let v) = self else { throw mismatch("string") }
        return v
    }

    public func protoBytes() throws(ProtoJSONError) -> [UInt8] {
        guard case .string(let v) = self else { throw mismatch("[]uint8") }
        return try Base64.decode(v)
    }

    /// An enum by value name or number.
    public func protoEnum<E: ProtoJSONEnum>(_: E.Type) throws(ProtoJSONError) -> E {
        switch self {
        case .string(let name):
            guard let number = E.protoNames.first(where: { $0.1 == name })?.0 else {
                throw ProtoJSONError("unknown value \"\\\"\(name)\\\"\" for enum \(E.protoEnumName)")
            }
            return E(rawValue: number) ?? E()
        case .number:
            return E(rawValue: try protoInt32()) ?? E()
        default:
            throw mismatch("enum")
        }
    }

    public func protoMessage<M: ProtoJSONMessage>(_: M.Type) throws(ProtoJSONError) -> M {
        try M(json: self)
    }

    /// Elements of a repeated field (`null` is empty).
    public func protoArray<T>(_ element: (JSONValue) throws(ProtoJSONError) -> T) throws(ProtoJSONError) -> [T] {
        switch self {
        case .null: return []
        case .array(let items):
            var out: [T] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try element(item)) }
            return out
        default: throw mismatch("array")
        }
    }
}
