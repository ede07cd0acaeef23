import Testing
import Proto

/// Nesting past the parser's own bound: within Go's encoding/json limit
/// (10000) the error is marked so the gateway can answer as etcd does after
/// decoding (a txn: "too many operations"); past Go's limit it is Go's scanner error.
@Suite struct JSONDepthTests {
    static func nested(_ depth: Int) -> [UInt8] {
        Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8)
    }

    static func error(_ bytes: [UInt8]) -> ProtoJSONError? {
        do {
            _ = try JSONValue.parseFirst(bytes)
            return nil
        } catch {
            return error
        }
    }

    @Test func withinTheParserLimitParses() {
        #expect(Self.error(Self.nested(300)) == nil)
    }

    @Test func beyondTheParserButWithinGoIsMarked() {
        let e = Self.error(Self.nested(5_000))
        #expect(e?.nestedBeyondParser == true)
        #expect(e?.message.contains("exceeded max depth") == true)
    }

    @Test func beyondGoIsGoScannerError() {
        let e = Self.error(Self.nested(10_001))
        #expect(e?.nestedBeyondParser == false)
        #expect(e?.message == "invalid character '[' exceeded max depth")
        // Brackets inside strings do not count.
        let quoted = Array(("[\"" + String(repeating: "[", count: 20_000) + "\"," + String(repeating: "[", count: 600)
                            + String(repeating: "]", count: 601)).utf8)
        #expect(Self.error(quoted)?.nestedBeyondParser == true)
    }
}
