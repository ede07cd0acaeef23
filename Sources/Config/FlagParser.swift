/// Go `flag` package syntax over a table of `FlagSpec`s, shared by the server
/// and by subcommands.
///
/// Accepted forms: `-flag`, `--flag` (bool only), `-flag=value`,
/// `--flag=value`, `-flag value`, `--flag value` (non-bool; the next argument
/// is taken even if it starts with `-`). Parsing stops at the first argument
/// that is not a flag or after `--`; those are returned in `remaining`.
/// A flag given twice keeps the last value. `-h`/`-help` are help requests
/// unless the table defines them.
public struct FlagParser: Sendable {
    public let flags: [String: FlagSpec]
    /// Short names for flags (`w` → `write-out`), as cobra commands have.
    public let aliases: [String: String]
    /// Cobra/pflag style: positional arguments may sit between flags
    /// (`snapshot restore FILE --data-dir D`); they are collected in
    /// `remaining` in order. Off for the server, as Go's `flag` stops.
    public let interspersed: Bool

    public init(_ specs: [FlagSpec], aliases: [String: String] = [:], interspersed: Bool = false) {
        flags = Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.aliases = aliases
        self.interspersed = interspersed
    }

    /// The flags found, by name; `remaining` are the arguments after them.
    public struct Parsed: Sendable, Equatable {
        public var values: [String: FlagValue] = [:]
        /// Names in the order first seen.
        public var order: [String] = []
        public var remaining: [String] = []
        public var helpRequested = false

        public init() {}
        public func isSet(_ name: String) -> Bool { values[name] != nil }
    }

    /// Parses `args` (without the program name). Errors carry Go's wording
    /// (`flag provided but not defined: -foo`) and exit status 2.
    public func parse(_ args: [String]) throws(CommandLineError) -> Parsed {
        var out = Parsed()
        var positional: [String] = []
        var i = 0
        while i < args.count {
            let arg = args[i]
            guard arg.count >= 2, arg.hasPrefix("-") else {
                guard interspersed else { break }
                positional.append(arg)
                i += 1
                continue
            }
            var body = Substring(arg).dropFirst()
            if body.hasPrefix("-") {
                body = body.dropFirst()
                if body.isEmpty { i += 1; break }  // "--" terminates flags
            }
            if body.isEmpty || body.hasPrefix("-") || body.hasPrefix("=") {
                throw CommandLineError.usage("bad flag syntax: \(arg)")
            }
            var name = String(body)
            var inlineValue: String?
            if let eq = body.firstIndex(of: "=") {
                name = String(body[..<eq])
                inlineValue = String(body[body.index(after: eq)...])
            }
            i += 1
            if let long = aliases[name] { name = long }
            guard let spec = flags[name] else {
                if name == "help" || name == "h" {
                    out.helpRequested = true
                    return out
                }
                throw CommandLineError.usage("flag provided but not defined: -\(name)")
            }
            let text: String
            if spec.type.isBool {
                guard let v = inlineValue else {
                    record(.bool(true), for: name, in: &out)
                    continue
                }
                guard let b = parseGoBool(v) else {
                    throw CommandLineError.usage("invalid boolean value \"\(v)\" for -\(name): parse error")
                }
                record(.bool(b), for: name, in: &out)
                continue
            } else if let v = inlineValue {
                text = v
            } else if i < args.count {
                text = args[i]
                i += 1
            } else {
                throw CommandLineError.usage("flag needs an argument: -\(name)")
            }
            do {
                record(try FlagValue.parse(text, as: spec.type), for: name, in: &out)
            } catch {
                throw CommandLineError.usage("invalid value \"\(text)\" for flag -\(name): \(error.message)")
            }
        }
        out.remaining = positional + args[i...]
        return out
    }

    private func record(_ value: FlagValue, for name: String, in out: inout Parsed) {
        if out.values[name] == nil { out.order.append(name) }
        out.values[name] = value
    }
}

/// A command-line failure: the message to print and the process exit status.
///
/// Status 2 is a usage error (unknown flag, value not valid for its type),
/// as Go's `flag` package exits; status 1 is a configuration etcd's
/// validation rejects, or a feature swift-etcd does not have yet.
public struct CommandLineError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let exitCode: Int32

    public init(message: String, exitCode: Int32) {
        self.message = message
        self.exitCode = exitCode
    }

    public static func usage(_ message: String) -> CommandLineError { .init(message: message, exitCode: 2) }
    public static func invalid(_ message: String) -> CommandLineError { .init(message: message, exitCode: 1) }

    public var description: String { message }
}
