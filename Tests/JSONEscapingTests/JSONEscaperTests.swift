import JSONEscaping
import Testing

/// Expected strings are what Go 1.19's encoding/json (json.Marshal) and zap's
/// JSON encoder printed for the same input (the same rules as Go 1.16, which
/// built etcd 3.5.1).
@Suite struct JSONEscaperTests {
    func go(_ s: String) -> String { JSONEscaper.quoted(s, dialect: .encodingJSON) }
    func zap(_ s: String) -> String { JSONEscaper.quoted(s, dialect: .zap) }
    func bytes(_ b: [UInt8], _ dialect: JSONEscaper.Dialect) -> String {
        var out: [UInt8] = []
        JSONEscaper.append(utf8: b, to: &out, dialect: dialect)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func plainTextIsQuotedAsIs() {
        #expect(go("plain") == "\"plain\"")
        #expect(zap("") == "\"\"")
    }

    @Test func quoteAndBackslashAreEscapedByBoth() {
        #expect(go("a\"b\\c") == #""a\"b\\c""#)
        #expect(zap("a\"b\\c") == #""a\"b\\c""#)
    }

    @Test func controlCharactersUseShortFormsOnlyForNewlineReturnTab() {
        let s = "\n\r\t\u{8}\u{c}\u{0}\u{1}\u{1f}\u{7f}"
        let want = #""\n\r\t\u0008\u000c\u0000\u0001\u001f"# + "\u{7f}\""
        #expect(go(s) == want)
        #expect(zap(s) == want)
    }

    @Test func encodingJSONIsHTMLSafeButZapIsNot() {
        let s = "<a href=\"x\">&amp;</a>"
        #expect(go(s) == #""\u003ca href=\"x\"\u003e\u0026amp;\u003c/a\u003e""#)
        #expect(zap(s) == #""<a href=\"x\">&amp;</a>""#)
    }

    @Test func lineAndParagraphSeparatorsAreEscapedOnlyByEncodingJSON() {
        #expect(go("x\u{2028}y\u{2029}") == #""x\u2028y\u2029""#)
        #expect(zap("x\u{2028}y\u{2029}") == "\"x\u{2028}y\u{2029}\"")
        // U+2027 and U+202A share the first two bytes and stay as they are.
        #expect(go("\u{2027}\u{202A}") == "\"\u{2027}\u{202A}\"")
    }

    @Test func nonASCIIIsWrittenAsUTF8() {
        let s = "héllo 世界 🎉 \u{FFFD}"
        #expect(go(s) == "\"\(s)\"")
        #expect(zap(s) == "\"\(s)\"")
    }

    @Test func invalidUTF8BecomesOneReplacementEscapePerBadByte() {
        for dialect in [JSONEscaper.Dialect.encodingJSON, .zap] {
            #expect(bytes([0xFF], dialect) == #""\ufffd""#)
            #expect(bytes([0x61, 0xC0, 0x80, 0x62], dialect) == #""a\ufffd\ufffdb""#)  // overlong
            #expect(bytes([0xED, 0xA0, 0x80], dialect) == #""\ufffd\ufffd\ufffd""#)  // surrogate
            #expect(bytes([0xF4, 0x90, 0x80, 0x80], dialect) == #""\ufffd\ufffd\ufffd\ufffd""#)  // > U+10FFFF
            #expect(bytes([0xE2, 0x82], dialect) == #""\ufffd\ufffd""#)  // truncated
            #expect(bytes(Array("ok é\"".utf8), dialect) == "\"ok é\\\"\"")
        }
        #expect(bytes([0x78, 0xE2, 0x80, 0xA8, 0x79, 0xEF, 0xBF, 0xBD], .encodingJSON) == "\"x\\u2028y\u{FFFD}\"")
    }

    @Test func appendLeavesWhatIsAlreadyThere() {
        var out = Array("{\"k\":".utf8)
        JSONEscaper.append("v<", to: &out, dialect: .encodingJSON)
        #expect(String(decoding: out, as: UTF8.self) == #"{"k":"v\u003c""#)
    }
}
