import Testing
@testable import Config

/// URLs as etcd 3.5.1 takes them (`types.NewURLs`: Go's url.Parse, then
/// scheme, host:port and path rules). Each verdict and message below was
/// read from etcd 3.5.1 itself: MemberAdd answers and `--listen-client-urls`
/// errors (issue 18 found malformed peer URLs accepted).
@Suite struct GoURLSyntaxTests {
    @Test(arguments: [
        "http://127.0.0.1:2380?q=1", "http://127.0.0.1:2380#frag", "http://127.0.0.1:99999",
        "http://127.0.0.1:2380\n", " http://127.0.0.1:2381 ", "http://127.0.0.1:", "http://user@127.0.0.1:2382",
        "HTTP://127.0.0.1:2383", "http://[::1]:2384", "http://127.0.0.1:2387?", "https://a:1", "unixs://b:1",
    ])
    func acceptedByEtcd(url: String) throws {
        _ = try EtcdURL.parse(url)
    }

    @Test(arguments: [
        "", "::::", "127.0.0.1:2380", "ftp://127.0.0.1:2380", "http://127.0.0.1:2380/path", "http://[::1",
        "http://127.0.0.1:abc", "http://127.0.0.1:%zz", "http://%zz:1", "http://127.0.0.1:23\n80", "http://127.0.0.1",
        "unix://foo", "http://::1:2385", "http://127.0.0.1:2386/", "http://x y:1", "http://127.0.0.1:-1",
        "http://\u{7f}:1", "http:127.0.0.1:1", "http:///:1", "http://a%41:1", "http://u^@a:1", "http://a:1#%zz",
    ])
    func refusedByEtcd(url: String) {
        #expect(throws: FlagValueError.self) { try EtcdURL.parse(url) }
    }

    @Test func goParseMessages() {
        let cases: [(String, String)] = [
            ("http://[::1", #"parse "http://[::1": missing ']' in host"#),
            ("http://127.0.0.1:abc", #"parse "http://127.0.0.1:abc": invalid port ":abc" after host"#),
            ("http://%zz:1", #"parse "http://%zz:1": invalid URL escape "%zz""#),
            ("::::", #"parse "::::": missing protocol scheme"#),
            ("http://x y:1", #"parse "http://x y:1": invalid character " " in host name"#),
            ("127.0.0.1:2380", #"parse "127.0.0.1:2380": first path segment in URL cannot contain colon"#),
            ("http://127.0.0.1:23\n80", #"parse "http://127.0.0.1:23\n80": net/url: invalid control character in URL"#),
            ("http://a%41:1", #"parse "http://a%41:1": invalid URL escape "%41""#),
            ("http://u^@a:1", #"parse "http://u^@a:1": net/url: invalid userinfo"#),
            ("http://a:1#%zz", #"parse "http://a:1#%zz": invalid URL escape "%zz""#),
            ("http://a:1/%zz", #"parse "http://a:1/%zz": invalid URL escape "%zz""#),
        ]
        for (url, message) in cases {
            #expect(throws: FlagValueError(message), "\(url)") { try EtcdURL.parse(url) }
        }
    }

    @Test func canonicalFormLowersTheSchemeOnly() throws {
        #expect(try EtcdURL.parse(" HTTP://Host:1?q ").canonical == "http://Host:1?q")
    }
}
