/// A Markdown summary of flag support, generated from the flag table so the
/// README cannot drift from the code (a test compares them).
public func flagSupportMarkdown() -> String {
    var out = "| Group | Supported | Accepted, not yet (non-default value refuses start-up) | No meaning here: only etcd's default accepted, another value refuses start-up (†); accepted, no effect |\n"
    out += "|---|---|---|---|\n"
    for group in HelpGroup.allCases where group != .hidden {
        let specs = EtcdServerFlags.all.filter { $0.group == group }
        var supported: [String] = []
        var notYet: [String: [String]] = [:]
        var notYetOrder: [String] = []
        var ignored: [String] = []
        for s in specs {
            switch s.support {
            case .supported: supported.append("`--\(s.name)`")
            case .notYet(let feature):
                if notYet[feature] == nil { notYetOrder.append(feature) }
                notYet[feature, default: []].append("`--\(s.name)`")
            case .defaultOnly: ignored.append("`--\(s.name)`†")
            case .ignored: ignored.append("`--\(s.name)`")
            }
        }
        let notYetText = notYetOrder.map { "\(notYet[$0]!.joined(separator: ", ")) (\($0))" }.joined(separator: "; ")
        out += "| \(group.rawValue) | \(supported.joined(separator: ", ")) | \(notYetText) | \(ignored.joined(separator: ", ")) |\n"
    }
    return out
}
