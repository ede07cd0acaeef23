/// A parsed JSON document, as the protobuf JSON mapping needs it: numbers keep
/// their source text (so int64/uint64 beyond 2^53 lose nothing) and objects
/// keep their members in order (duplicates too; the last one wins on decode).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number exactly as written, e.g. "-12", "1.5e3".
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// Parses one JSON value; anything but whitespace after it is an error.
    /// Errors read like Go's encoding/json ones, which etcd's gateway returns.
    public static func parse(_ bytes: some Collection<UInt8>) throws(ProtoJSONError) -> JSONValue {
        let input = Array(bytes)
        var parser = JSONParser(input)
        return try parser.parseDocument()
    }

    /// Where `bytes` stops being one valid JSON value (the byte offset of the
    /// error, the length for a value cut short), nil if it is valid.
    public static func syntaxErrorOffset(_ bytes: [UInt8]) -> Int? {
        var parser = JSONParser(bytes)
        do { _ = try parser.parseDocument() } catch { return parser.position }
        return nil
    }

    public static func parse(_ text: String) throws(ProtoJSONError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// The first value of `bytes`, nil if there is only whitespace; what follows it is not read.
    public static func parseFirst(_ bytes: some Collection<UInt8>) throws(ProtoJSONError) -> JSONValue? {
        var parser = JSONParser(Array(bytes))
        return try parser.next()
    }

    /// Every value of a stream of concatenated JSON values (e.g. `{...}{...}` or
    /// one per line), as Go's json.Decoder reads a streaming request body.
    public static func parseSequence(_ bytes: some Collection<UInt8>) throws(ProtoJSONError) -> [JSONValue] {
        var parser = JSONParser(Array(bytes))
        var values: [JSONValue] = []
        while let value = try parser.next() { values.append(value) }
        return values
    }

    /// Members of an object; `null` counts as an empty object (jsonpb treats it as unset).
    public func objectMembers() throws(ProtoJSONError) -> [JSONMember] {
        switch self {
        case .object(let members): return members
        case .null: return []
        default: throw ProtoJSONError("json: cannot unmarshal \(kindName) into Go value of type map[string]json.RawMessage")
        }
    }

    /// Go's name of the value's kind, for error messages.
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "bool"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// One `"key": value` of a JSON object.
public struct JSONMember: Sendable, Equatable {
    public var key: String
    public var value: JSONValue

    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// Why JSON could not be read or mapped onto a message; `message` is what
/// the gateway puts in its error answer.
public struct ProtoJSONError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// The document nests deeper than this parser goes (`JSONParser.maxDepth`)
    /// but within Go's limit: etcd would decode it and refuse it later, for
    /// a txn with "too many operations in txn request".
    public var nestedBeyondParser = false

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
