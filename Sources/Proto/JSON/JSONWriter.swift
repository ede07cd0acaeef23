import JSONEscaping

/// Writes JSON text the way etcd's gateway (golang/protobuf jsonpb with
/// `OrigName: true`, `EmitDefaults: false`) does: proto field names, zero
/// values left out, 64-bit integers as strings, bytes as base64, enums by name.
///
/// The `field` methods skip the proto3 default; `key` + `value` always write
/// (for oneof members, which jsonpb emits even when zero).
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// True right after `{` or `[`: the next member or element needs no comma.
    private var atStart = true

    public init() {}

    // MARK: structure

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        atStart = true
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        atStart = false
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        atStart = true
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        atStart = false
    }

    /// Writes `"name":`; the value written next needs no separator.
    public mutating func key(_ name: String) {
        separate()
        writeString(name)
        bytes.append(UInt8(ascii: ":"))
        atStart = true
    }

    /// A comma before a member or element that is not the first.
    private mutating func separate() {
        if !atStart { bytes.append(UInt8(ascii: ",")) }
        atStart = false
    }

    // MARK: values (always written)

    public mutating func value(_ v: Int32) { raw(String(v)) }
    public mutating func value(_ v: UInt32) { raw(String(v)) }
    public mutating func value(_ v: Int64) { raw("\"\(v)\"") }
    public mutating func value(_ v: UInt64) { raw("\"\(v)\"") }
    public mutating func value(_ v: Bool) { raw(v ? "true" : "false") }
    public mutating func value(_ v: Double) { raw(Self.format(v)) }
    public mutating func value(_ v: Float) { raw(Self.format(Double(v))) }
    public mutating func value(_ v: [UInt8]) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        Base64.encode(v, into: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }
    public mutating func value(_ v: String) {
        separate()
        writeString(v)
    }
    public mutating func value<E: ProtoJSONEnum>(_ v: E) {
        let number = v.rawValue
        if let name = E.protoNames.first(where: { $0.0 == number })?.1 {
            value(name)
        } else {
            value(number)
        }
    }
    public mutating func value<M: ProtoJSONMessage>(_ v: M) {
        v.writeJSON(to: &self)
    }

    // MARK: fields (skipped at the proto3 default)

    public mutating func field(_ name: String, _ v: Int32) { if v != 0 { key(name); value(v) } }
    public mutating func field(_ name: String, _ v: UInt32) { if v != 0 { key(name); value(v) } }
    public mutating func field(_ name: String, _ v: Int64) { if v != 0 { key(name); value(v) } }
    public mutating func field(_ name: String, _ v: UInt64) { if v != 0 { key(name); value(v) } }
    public mutating func field(_ name: String, _ v: Bool) { if v { key(name); value(v) } }
    public mutating func field(_ name: String, _ v: Double) { if v != 0 { key(name); value(v) } }
    public mutating func field(_ name: String, _ v: Float) { if v != 0 { key(name); value(v) } }
    public mutating func field(_ name: String, _ v: [UInt8]) { if !v.isEmpty { key(name); value(v) } }
    public mutating func field(_ name: String, _ v: String) { if !v.isEmpty { key(name); value(v) } }
    public mutating func field<E: ProtoJSONEnum>(_ name: String, _ v: E) { if v.rawValue != 0 { key(name); value(v) } }
    public mutating func field<M: ProtoJSONMessage>(_ name: String, _ v: M?) { if let v { key(name); value(v) } }

    /// A repeated field: `write` writes one element.
    public mutating func field<T>(_ name: String, _ items: [T], _ write: (inout JSONWriter, T) -> Void) {
        guard !items.isEmpty else { return }
        key(name)
        beginArray()
        for item in items { write(&self, item) }
        endArray()
    }

    // MARK: text

    private mutating func raw(_ text: String) {
        separate()
        bytes.append(contentsOf: text.utf8)
    }

    /// Go's encoding/json escaping, HTML-safe (<, >, & as \u00XX) as jsonpb writes strings.
    private mutating func writeString(_ s: String) {
        JSONEscaper.append(s, to: &bytes, dialect: .encodingJSON)
    }

    /// Integral values print without a fraction, as Go's strconv does; NaN and infinities as jsonpb's strings.
    static func format(_ v: Double) -> String {
        if v.isNaN { return "\"NaN\"" }
        if v.isInfinite { return v > 0 ? "\"Infinity\"" : "\"-Infinity\"" }
        if v == v.rounded(), abs(v) < 1e21 {
            if let i = Int64(exactly: v) { return String(i) }  // beyond Int64 the conversion would trap
            if let u = UInt64(exactly: v) { return String(u) }
        }
        return String(v)
    }
}
