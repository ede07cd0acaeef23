import Proto
import Support
import Testing

/// A seeded generator so every fuzz run is reproducible.
typealias SeededRandom = SplitMix64

enum Fuzz {
    static func randomBytes(_ rng: inout SeededRandom) -> [UInt8] {
        let count = Int.random(in: 0...48, using: &rng)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        while bytes.count < count {
            withUnsafeBytes(of: rng.next()) { bytes += $0 }
        }
        return Array(bytes.prefix(count))
    }

    /// A valid encoding with a few random edits: flipped bits, replaced, inserted,
    /// deleted or duplicated ranges, truncation.
    static func mutate(_ input: [UInt8], _ rng: inout SeededRandom) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where !bytes.isEmpty:
                bytes[position] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            case 1 where !bytes.isEmpty:
                bytes[position] = [0x00, 0x7f, 0x80, 0xff, 0x0a, 0x12][Int.random(in: 0..<6, using: &rng)]
            case 2:
                bytes.insert(UInt8.random(in: 0...255, using: &rng), at: position)
            case 3 where !bytes.isEmpty:
                bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...8, using: &rng)))
            case 4 where !bytes.isEmpty:
                let end = min(bytes.count, position + Int.random(in: 1...16, using: &rng))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            default:
                bytes.removeLast(bytes.isEmpty ? 0 : Int.random(in: 0...min(bytes.count, 4), using: &rng))
            }
        }
        return bytes
    }

    /// Decodes `bytes` as `type`; when that succeeds, the result must survive
    /// encode → decode unchanged. Returns whether the input was accepted.
    static func check(_ type: any ProtoMessage.Type, _ bytes: [UInt8]) -> Bool {
        guard let message = try? type.init(serializedBytes: bytes) else { return false }
        let encoded = message.serializedBytes()
        let again = try? type.init(serializedBytes: encoded)
        if again?.serializedBytes() != encoded {
            Issue.record("re-decode of \(type.protoMessageName) from \(hex(bytes)) changed it")
        }
        return true
    }
}

@Suite struct FuzzTests {
    static let seed: UInt64 = 0x5eed_e7cd

    /// Every request type of every service gets random and mutated-valid inputs.
    @Test func requestTypes() {
        var types: [String: any ProtoMessage.Type] = [:]
        for service in ProtoServices.all {
            for method in service.methods { types[method.requestType.protoMessageName] = method.requestType }
        }
        types[Swiftetcd.InternalRaftRequest.protoMessageName] = Swiftetcd.InternalRaftRequest.self
        var rng = SeededRandom(seed: Self.seed)
        let corpus = Samples.corpus
        var accepted = 0
        var total = 0
        for name in types.keys.sorted() {
            let type = types[name]!
            for _ in 0..<600 {
                if Fuzz.check(type, Fuzz.randomBytes(&rng)) { accepted += 1 }
                if Fuzz.check(type, Fuzz.mutate(corpus.randomElement(using: &rng)!, &rng)) { accepted += 1 }
                total += 2
            }
        }
        print("fuzz seed=\(Self.seed): \(total) inputs over \(types.count) request types, \(accepted) accepted")
        #expect(accepted > 0 && accepted < total)
    }

    /// All message types (responses, storage types) with mutated inputs.
    @Test func allMessageTypes() {
        var rng = SeededRandom(seed: Self.seed ^ 1)
        let corpus = Samples.corpus
        for type in ProtoMessageTypes.all {
            for _ in 0..<100 {
                _ = Fuzz.check(type, Fuzz.mutate(corpus.randomElement(using: &rng)!, &rng))
            }
        }
    }
}
