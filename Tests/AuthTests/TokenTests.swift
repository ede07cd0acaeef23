import Foundation
import Testing
@testable import Auth

final class FakeClock: @unchecked Sendable {
    var now = 1000.0
}

@Suite struct SimpleTokenTests {
    @Test func ttlIsRefreshedOnUse() {
        let clock = FakeClock()
        let tokens = SimpleTokens(ttlSeconds: 10, now: { clock.now })
        tokens.enable()
        tokens.assign("abc.5", to: "alice")
        clock.now += 9
        #expect(tokens.user(for: "abc.5") == "alice")
        clock.now += 9
        #expect(tokens.user(for: "abc.5") == "alice", "each use restarts the TTL")
        clock.now += 11
        #expect(tokens.user(for: "abc.5") == nil)
    }

    @Test func invalidationAndDisable() {
        let tokens = SimpleTokens(ttlSeconds: 300)
        tokens.assign("x.1", to: "alice")
        #expect(tokens.user(for: "x.1") == nil, "nothing is assigned while auth is disabled")
        tokens.enable()
        tokens.assign("x.1", to: "alice")
        tokens.assign("y.2", to: "bob")
        tokens.invalidate(user: "alice")
        #expect(tokens.user(for: "x.1") == nil && tokens.user(for: "y.2") == "bob")
        tokens.disable()
        #expect(tokens.user(for: "y.2") == nil)
    }

    @Test func expiredTokensAreSwept() {
        let clock = FakeClock()
        let tokens = SimpleTokens(ttlSeconds: 1, now: { clock.now })
        tokens.enable()
        for i in 0..<100 { tokens.assign("t.\(i)", to: "u") }
        clock.now += 5
        tokens.assign("fresh.1", to: "u")
        #expect(tokens.count == 1)
    }

    @Test func tokenShape() {
        let prefix = SimpleTokens.generatePrefix()
        #expect(prefix.count == 16 && prefix.utf8.allSatisfy { SimpleTokens.letters.contains($0) })
        #expect(SimpleTokens.index(of: "\(prefix).42") == 42)
        #expect(SimpleTokens.index(of: "abc") == nil)
        #expect(SimpleTokens.index(of: "a.b.1") == nil)
        #expect(SimpleTokens.index(of: "a.-1") == nil)
        #expect(SimpleTokens.index(of: "a.") == nil)
    }
}

@Suite struct TokenOptionsTests {
    func parse(_ s: String) throws -> TokenOptions {
        try TokenOptions.parse(s) { text in
            guard text.hasSuffix("m"), let m = Double(text.dropLast()) else { throw TokenOptionsError("time: invalid duration \"\(text)\"") }
            return m * 60
        }
    }

    @Test func parsesEtcdsSyntax() throws {
        #expect(try parse("simple") == .simple)
        guard case .jwt(let o) = try parse("jwt,pub-key=/p.pem,priv-key=/k.pem,sign-method=RS256,ttl=10m") else {
            Issue.record("not jwt")
            return
        }
        #expect(o.signMethod == "RS256" && o.publicKeyFile == "/p.pem" && o.privateKeyFile == "/k.pem" && o.ttlSeconds == 600)
        guard case .jwt(let d) = try parse("jwt,sign-method=HS512,priv-key=/s") else { return }
        #expect(d.ttlSeconds == 300)
        #expect(throws: TokenOptionsError("auth: invalid auth signature method")) { try parse("jwt,priv-key=/k") }
        #expect(throws: TokenOptionsError("auth: invalid auth options")) { try parse("jwt,sign-method=RS256,sign-method=RS256") }
        #expect(throws: TokenOptionsError("auth: invalid auth options")) { try parse("jwt,sign-method") }
        #expect(throws: TokenOptionsError("auth: invalid auth options")) { try parse("opaque") }
    }
}
