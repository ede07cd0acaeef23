import Foundation
import SwiftASN1

/// PEM blocks in a file, as Go's `pem.Decode` loop finds them: text outside
/// `-----BEGIN T-----` … `-----END T-----` is skipped, headers inside are
/// ignored, and a block whose body is not base64 ends the scan.
enum PEMBlocks {
    static func parse(_ bytes: [UInt8]) -> [PEMDocument] {
        let text = String(decoding: bytes, as: UTF8.self)
        var out: [PEMDocument] = []
        var rest = Substring(text)
        while let begin = rest.range(of: "-----BEGIN ") {
            let afterBegin = rest[begin.upperBound...]
            guard let typeEnd = afterBegin.range(of: "-----") else { break }
            let type = String(afterBegin[..<typeEnd.lowerBound])
            let body = afterBegin[typeEnd.upperBound...]
            guard let end = body.range(of: "-----END \(type)-----") else { break }
            let lines = body[..<end.lowerBound].split(whereSeparator: \.isNewline).filter { !$0.contains(":") }
            guard let der = Data(base64Encoded: lines.joined(), options: .ignoreUnknownCharacters) else { break }
            out.append(PEMDocument(type: type, derBytes: Array(der)))
            rest = body[end.upperBound...]
        }
        return out
    }
}
