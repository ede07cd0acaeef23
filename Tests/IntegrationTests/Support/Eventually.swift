import Foundation

/// Polls `condition` every 50 ms until it holds or `seconds` pass; returns
/// whether it held. The limit only bounds a hang: what a test waits for on a
/// loaded 2-core CI machine can take many times what it takes alone, so a
/// test waits for the condition itself, never for a fixed time.
@discardableResult
func eventually(seconds: Double = 90, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if try condition() { return true }
        if Date() >= deadline { return false }
        usleep(50_000)
    }
}
