import Testing
@testable import Linearizability

/// The JSON-lines format shared with the Go recorder (`linhistory`).
@Suite struct HistoryTests {
    @Test func parsesEveryKindAndOutcome() throws {
        let text = """
        {"id":1,"client":0,"kind":"put","key":"k","value":"a","invoke":10,"return":20,"result":"ok"}
        {"id":2,"client":1,"kind":"get","key":"k","invoke":30,"return":40,"result":"ok","output":"a"}
        {"id":3,"client":1,"kind":"get","key":"k","invoke":50,"return":60,"result":"ok","output":null}
        {"id":4,"client":2,"kind":"get","key":"k","invoke":50,"return":60,"result":"ok"}
        {"id":5,"client":2,"kind":"cas","key":"k","expect":"a","value":"b","invoke":70,"return":80,"result":"succeeded"}
        {"id":6,"client":2,"kind":"cas","key":"k","expect":"a","value":"c","invoke":90,"return":95,"result":"failed"}
        {"id":7,"client":3,"kind":"put","key":"k","value":"d","invoke":100,"return":1100,"result":"unknown"}

        """
        let ops = try History.parse(jsonLines: text)
        #expect(ops.map(\.id) == [1, 2, 3, 4, 5, 6, 7])
        #expect(ops[0].call == .put(value: "a") && ops[0].outcome == .ok && ops[0].returnNs == 20)
        #expect(ops[1].outcome == .read("a"))
        #expect(ops[2].outcome == .read(nil) && ops[3].outcome == .read(nil))
        #expect(ops[4].call == .compareAndSet(expected: "a", new: "b") && ops[4].outcome == .swapped(true))
        #expect(ops[5].outcome == .swapped(false))
        // An unknown outcome's return time means nothing: it may still happen.
        #expect(ops[6].outcome == .unknown && ops[6].returnNs == nil)
    }

    @Test func roundTripsThroughJSONLines() throws {
        var h = HistoryBuilder()
        h.put("a\"quoted\"", 0, 10)
        h.get(nil, 5, 15, client: 1)
        h.get("a\"quoted\"", 20, 30, client: 1)
        h.cas("a\"quoted\"", "b", swapped: true, 40, 50)
        h.cas("b", "c", swapped: false, 60, 70)
        h.cas("b", "d", swapped: nil, 80, nil)
        h.put("e", 90, nil)
        let text = h.ops.map(History.jsonLine).joined(separator: "\n")
        #expect(try History.parse(jsonLines: text) == h.ops)
    }

    @Test func rejectsMalformedLinesWithTheirNumber() {
        let cases = [
            #"{"id":1,"client":0,"kind":"put","key":"k","invoke":1,"return":2,"result":"ok"}"#,
            #"{"id":1,"client":0,"kind":"get","key":"k","invoke":1,"return":2,"result":"succeeded"}"#,
            #"{"id":1,"client":0,"kind":"del","key":"k","invoke":1,"return":2,"result":"ok"}"#,
            #"{"id":1,"client":0,"kind":"put","key":"k","value":"v","invoke":5,"return":2,"result":"ok"}"#,
            #"{"id":1,"client":0,"kind":"put","key":"k","value":"v","invoke":5,"result":"ok"}"#,
            #"not json"#,
        ]
        for line in cases {
            let text = #"{"id":9,"client":0,"kind":"get","key":"k","invoke":1,"return":2,"result":"unknown"}"# + "\n" + line
            #expect(throws: History.ParseError.self, "\(line)") { try History.parse(jsonLines: text) }
            do { _ = try History.parse(jsonLines: text) } catch let error as History.ParseError {
                #expect(error.line == 2)
            } catch {}
        }
    }
}
