import Testing
@testable import Config

@Suite struct GoDurationTests {
    @Test(arguments: [
        ("0", Duration.zero), ("5s", .seconds(5)), ("100ms", .milliseconds(100)), ("2h", .seconds(7200)),
        ("1h30m", .seconds(5400)), ("1.5s", .milliseconds(1500)), ("10us", .microseconds(10)),
        ("10µs", .microseconds(10)), ("7ns", .nanoseconds(7)), ("-1s", .seconds(-1)), ("+3m", .seconds(180)),
    ])
    func parses(text: String, expected: Duration) throws {
        #expect(try GoDuration.parse(text) == expected)
    }

    @Test(arguments: ["", "5", "s", "1x", "1.s5", "--1s", "1 s"])
    func rejects(text: String) {
        #expect(throws: FlagValueError.self) { try GoDuration.parse(text) }
    }

    @Test(arguments: [
        (Duration.zero, "0s"), (.seconds(7200), "2h0m0s"), (.seconds(5), "5s"), (.milliseconds(100), "100ms"),
        (.seconds(90), "1m30s"), (.milliseconds(1500), "1.5s"), (.nanoseconds(7), "7ns"),
    ])
    func formats(d: Duration, expected: String) {
        #expect(GoDuration.format(d) == expected)
    }
}

@Suite struct EtcdURLTests {
    @Test func parsesParts() throws {
        let u = try EtcdURL.parse(" https://[::1]:2379 ")
        #expect(u.scheme == "https" && u.host == "::1" && u.port == "2379" && u.isSecure)
        #expect(u.string == "https://[::1]:2379")
    }

    @Test func listAndEmptyItem() throws {
        #expect(try EtcdURL.parseList("http://a:1,http://b:2").map(\.host) == ["a", "b"])
        #expect(throws: FlagValueError.self) { try EtcdURL.parseList("http://a:1,") }
    }

    @Test func unixSchemes() throws {
        #expect(try EtcdURL.parse("unix://localhost:1234").isUnix)
        #expect(try EtcdURL.parse("unixs://localhost:1234").isSecure)
    }
}

@Suite struct InitialClusterTests {
    @Test func parsesNamesToURLs() throws {
        let c = try InitialCluster.parse("a=http://10.0.0.1:2380,b=http://10.0.0.2:2380,a=http://10.0.1.1:2380")
        #expect(c.names == ["a", "b"])
        #expect(c["a"]?.map(\.string) == ["http://10.0.0.1:2380", "http://10.0.1.1:2380"])
        #expect(c.urlsByName["b"]?.map(\.string) == ["http://10.0.0.2:2380"])
        #expect(!c.hasDuplicateURL)
    }

    @Test func skipsEmptyItems() throws {
        #expect(try InitialCluster.parse(",a=http://1.2.3.4:2380,,").names == ["a"])
    }

    @Test func missingEqualsIsAnError() {
        #expect(throws: FlagValueError.self) { try InitialCluster.parse("a") }
    }

    @Test func badURL() {
        #expect(throws: FlagValueError.self) { try InitialCluster.parse("a=1.2.3.4:2380") }
    }

    @Test func fromName() throws {
        let urls = try EtcdURL.parseList("http://1.1.1.1:2380,http://2.2.2.2:2380")
        #expect(InitialCluster.fromName("n", advertisePeerURLs: urls) == "n=http://1.1.1.1:2380,n=http://2.2.2.2:2380")
    }
}

@Suite struct IPAddressTests {
    @Test(arguments: ["127.0.0.1", "0.0.0.0", "::1", "::", "fe80::1%eth0", "2001:db8::8a2e:370:7334", "::ffff:1.2.3.4"])
    func valid(s: String) { #expect(isIPAddress(s)) }

    @Test(arguments: ["example.com", "256.0.0.1", "1.2.3", "1::2::3", "12345::"])
    func invalid(s: String) { #expect(!isIPAddress(s)) }
}
