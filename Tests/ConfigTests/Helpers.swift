import Testing
@testable import Config

struct Failure: Error {}

/// `parseCommandLine` with an in-memory file system.
func parse(_ args: [String], env: [String: String], files: [String: String]) -> CommandLineResult {
    parseCommandLine(args, environment: env, readFile: { path in
        guard let text = files[path] else { throw Failure() }
        return text
    })
}

/// Parses and expects `.run`.
func runConfig(
    _ args: [String], env: [String: String] = [:], files: [String: String] = [:],
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> EtcdConfig {
    let result = parse(args, env: env, files: files)
    guard case .run(let config) = result else {
        Issue.record("expected .run, got \(result)", sourceLocation: sourceLocation)
        throw Failure()
    }
    return config
}

/// Parses and expects `.error`; returns (message, exit code).
func runError(
    _ args: [String], env: [String: String] = [:], files: [String: String] = [:],
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> (message: String, code: Int32) {
    let result = parse(args, env: env, files: files)
    guard case .error(let message, let code) = result else {
        Issue.record("expected .error, got \(result)", sourceLocation: sourceLocation)
        throw Failure()
    }
    return (message, code)
}
