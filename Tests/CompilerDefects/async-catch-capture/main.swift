// Swift 6.3.1, `swiftc -O -wmo`: a task's closure that returns a captured
// value next to the result of a `try await` inside do/catch returns 0 (or
// stale bytes) for the captured value on the success path. See README.md.
struct Failure: Error {}

func hash(_ peer: UInt64, revision: Int64) async throws -> UInt32 {
    if revision < 0 { throw Failure() }
    return UInt32(truncatingIfNeeded: peer)
}

@inline(never)
func ask(_ id: UInt64, revision: Int64) async -> (UInt64, UInt32?) {
    await Task {
        do { return (id, try await hash(id, revision: revision)) } catch { return (id, nil) }
    }.value
}

let asked: UInt64 = 0x1111_2222_3333_4444
let (id, answer) = await ask(asked, revision: 7)
if id == asked {
    print("ok")
} else {
    print("WRONG: asked peer \(String(asked, radix: 16)), the result names peer \(String(id, radix: 16)) (answer \(answer.map { String($0, radix: 16) } ?? "nil"))")
}
