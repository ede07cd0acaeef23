import Config
import Testing
@testable import Server

/// Maintenance.Downgrade's pure parts: the target version read as etcd 3.5.1
/// reads it (each case below answered the same by etcd 3.5.1), and the
/// stored record.
@Suite struct DowngradeTests {
    /// Accepted by etcd 3.5.1 as a well-formed version whose major.minor is 3.4.
    static let valid34 = ["3.4", "3.4.0", "3.4.99", "3.4.0-rc", "3.4.0+meta", "03.04", "3.4.0-", "3.4.0-01",
                          "3.4.0+", "3.4.0-rc.1+b.2", "3.4.0-a-b"]
    /// "etcdserver: wrong downgrade target version format" from etcd 3.5.1.
    static let malformed = ["", "v3.4", "abc", "3.4.-1", "3.4.+1", "3.4.0-a..b", " 3.4", "3.4.0.0", "+3.4", "3.4-rc",
                            "3.4+x", "3.4.0-a_b", "3.+4", "3.4.1x", "3.4.99999999999999999999", "3", "3.4.", "3.4\u{0}"]

    @Test func targetVersionsParseAsEtcd() {
        for text in Self.valid34 {
            #expect(DowngradeTarget(parsing: text) == DowngradeTarget(major: 3, minor: 4), "\(text)")
        }
        for text in Self.malformed { #expect(DowngradeTarget(parsing: text) == nil, "\(text)") }
        // Well formed but not the one allowed target (etcd: "invalid downgrade target version").
        let allowed = DowngradeTarget.allowed(from: DowngradeTarget(parsing: SwiftEtcdVersion.cluster)!)
        #expect(allowed == DowngradeTarget(major: 3, minor: 4) && allowed.versionString == "3.4.0")
        for text in ["3.5", "3.6", "3.3", "4.4"] { #expect(DowngradeTarget(parsing: text) != allowed, "\(text)") }
    }

    @Test func recordIsEtcdsJSONAndBlocksRestart() {
        let on = DowngradeInfo(enabled: true, targetVersion: "3.4.0")
        #expect(String(decoding: on.json, as: UTF8.self) == #"{"target-version":"3.4.0","enabled":true}"#)
        #expect(DowngradeInfo(json: on.json) == on)
        let off = DowngradeInfo(json: Array(#"{"target-version":"","enabled":false}"#.utf8))
        #expect(off == DowngradeInfo(enabled: false, targetVersion: ""))
        #expect(DowngradeInfo(json: Array("not json".utf8)) == nil)
        #expect(on.startRefusal(serverVersion: "3.5.0")?.hasPrefix("invalid downgrade; server version is not allowed") == true)
        #expect(off?.startRefusal(serverVersion: "3.5.0") == nil)
        #expect(DowngradeInfo(enabled: true, targetVersion: "3.5.0").startRefusal(serverVersion: "3.5.0") == nil)
    }
}
