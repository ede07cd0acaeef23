import Yams

/// Reads etcd's `--config-file` YAML into flag values.
///
/// Keys are the flag names (etcd's `embed.Config` json tags). As etcd does:
/// URL lists are comma-separated strings, `log-outputs` and `cipher-suites`
/// are YAML lists, durations are integers in nanoseconds (a Go duration
/// string such as `5s` is also accepted), TLS settings live under
/// `client-transport-security` / `peer-transport-security`. Null values keep
/// the default. Unknown keys are ignored by etcd; we warn about them.
public enum ConfigFile {
    public struct Loaded: Sendable, Equatable {
        public var values: [String: FlagValue] = [:]
        public var warnings: [String] = []
    }

    /// `client-transport-security` / `peer-transport-security` sub-keys → flag names.
    static let clientSecurity: [String: String] = [
        "cert-file": "cert-file", "key-file": "key-file", "client-cert-file": "client-cert-file",
        "client-key-file": "client-key-file", "client-cert-auth": "client-cert-auth",
        "trusted-ca-file": "trusted-ca-file", "auto-tls": "auto-tls", "crl-file": "client-crl-file",
        "allowed-hostname": "client-cert-allowed-hostname",
    ]
    static let peerSecurity: [String: String] = [
        "cert-file": "peer-cert-file", "key-file": "peer-key-file", "client-cert-file": "peer-client-cert-file",
        "client-key-file": "peer-client-key-file", "client-cert-auth": "peer-client-cert-auth",
        "trusted-ca-file": "peer-trusted-ca-file", "auto-tls": "peer-auto-tls", "crl-file": "peer-crl-file",
        "allowed-cn": "peer-cert-allowed-cn", "allowed-hostname": "peer-cert-allowed-hostname",
        "skip-client-san-verification": "experimental-peer-skip-client-san-verification",
    ]
    /// Flags that are not config-file keys.
    static let notKeys: Set<String> = ["config-file", "version"]

    public static func parse(_ text: String, path: String) throws(CommandLineError) -> Loaded {
        func fail(_ message: String) -> CommandLineError {
            .usage("swift-etcd: invalid --config-file \(path): \(message)")
        }
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch { throw fail("\(error)") }
        var out = Loaded()
        guard let root else { return out }  // empty file: all defaults
        guard let mapping = root.mapping else { throw fail("expected a mapping of etcd configuration keys") }

        for (keyNode, valueNode) in mapping {
            guard let key = keyNode.scalar?.string else { throw fail("keys must be strings") }
            if key == "client-transport-security" || key == "peer-transport-security" {
                let table = key == "client-transport-security" ? clientSecurity : peerSecurity
                if isNull(valueNode) { continue }
                guard let sub = valueNode.mapping else { throw fail("\(key) must be a mapping") }
                for (subKeyNode, subValue) in sub {
                    let subKey = subKeyNode.scalar?.string ?? ""
                    guard let flagName = table[subKey], let spec = EtcdServerFlags.byName[flagName] else {
                        out.warnings.append("unknown key \(key).\(subKey) in \(path) ignored")
                        continue
                    }
                    if let v = try value(subValue, spec: spec, key: "\(key).\(subKey)", fail: fail) {
                        out.values[flagName] = v
                    }
                }
                continue
            }
            guard let spec = EtcdServerFlags.byName[key], !notKeys.contains(key), spec.group != .hidden else {
                out.warnings.append("unknown key \(key) in \(path) ignored")
                continue
            }
            if let v = try value(valueNode, spec: spec, key: key, fail: fail) {
                out.values[key] = v
            }
        }
        return out
    }

    private static func isNull(_ node: Node) -> Bool {
        guard let s = node.scalar else { return false }
        return s.tag == Tag(.null) || (s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string))
    }

    /// One YAML node as a value of `spec.type`; nil for YAML null.
    private static func value(
        _ node: Node, spec: FlagSpec, key: String, fail: (String) -> CommandLineError
    ) throws(CommandLineError) -> FlagValue? {
        if isNull(node) { return nil }
        if let seq = node.sequence {
            let items = seq.compactMap { $0.scalar?.string }
            switch spec.type {
            case .stringList: return .strings(items)
            case .urlList:
                var urls: [EtcdURL] = []
                for item in items {
                    do { urls += try EtcdURL.parseList(item) } catch { throw fail("\(key): \(error.message)") }
                }
                return .urls(urls)
            default: throw fail("\(key): expected a single value, got a list")
            }
        }
        guard let scalar = node.scalar else { throw fail("\(key): expected a value, got a mapping") }
        let text = scalar.string
        // etcd skips "" URL lists and selective strings ('' cluster state is "new").
        if text.isEmpty { if case .choice = spec.type { return nil }; if spec.type == .urlList { return nil } }
        do throws(FlagValueError) {
            switch spec.type {
            case .bool:
                switch text {
                case "yes", "Yes", "YES", "on", "On", "ON", "y", "Y": return .bool(true)
                case "no", "No", "NO", "off", "Off", "OFF", "n", "N": return .bool(false)
                default:
                    guard let b = parseGoBool(text) else { throw FlagValueError("expected true or false, got \"\(text)\"") }
                    return .bool(b)
                }
            case .duration:
                // etcd decodes time.Duration from JSON numbers: nanoseconds.
                if let ns = parseGoSigned(text) { return .duration(.nanoseconds(ns)) }
                return try FlagValue.parse(text, as: .duration)
            case .uint, .size, .uint32:
                guard let v = parseGoUnsigned(text) else {
                    throw FlagValueError("expected a non-negative integer, got \"\(text)\"")
                }
                if spec.type == .uint32, v > UInt64(UInt32.max) { throw FlagValueError("value out of range") }
                return .uint(v)
            case .int:
                guard let v = parseGoSigned(text) else { throw FlagValueError("expected an integer, got \"\(text)\"") }
                return .int(v)
            default:
                return try FlagValue.parse(text, as: spec.type)
            }
        } catch {
            throw fail("\(key): \(error.message)")
        }
    }
}
