import Testing
import Foundation
import Support

@Suite struct DigestTests {
    private func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined() }

    @Test func knownVectors() {
        #expect(hex(SHA256.digest([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex(SHA256.digest(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(hex(SHA256.digest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func streamingInOddChunksEqualsOneShot() {
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var s = SHA256()
        var i = 0
        for size in [1, 63, 64, 65, 1000, 7, 32768].cycled(until: data.count) {
            let end = min(i + size, data.count)
            s.update(Array(data[i..<end]))
            i = end
            if i == data.count { break }
        }
        #expect(s.finalize() == SHA256.digest(data))
        // One million 'a's (FIPS 180-2 test vector).
        var m = SHA256()
        let block = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { m.update(block) }
        #expect(hex(m.finalize()) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func sha1KnownVectors() {
        #expect(hex(SHA1.digest(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(SHA1.digest([])) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(hex(SHA1.digest(Array(String(repeating: "a", count: 1000).utf8))) == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
    }
}

private extension Array where Element == Int {
    /// The sizes repeated until they add up to at least `total`.
    func cycled(until total: Int) -> [Int] {
        var out: [Int] = [], sum = 0
        while sum < total { for s in self { out.append(s); sum += s } }
        return out
    }
}
