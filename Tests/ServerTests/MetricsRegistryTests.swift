import GRPCWire
import NIOCore
import Testing
@testable import Server

/// The metrics registry and its Prometheus text: bucket bounds as etcd's,
/// histogram counting, and client_golang's layout and number format.
@Suite struct MetricsRegistryTests {
    @Test func numbersPrintAsGoPrintsThem() {
        let cases: [(Double, String)] = [
            (0, "0"), (1, "1"), (10, "10"), (0.001, "0.001"), (8.192, "8.192"), (0.0001, "0.0001"), (3.2768, "3.2768"),
            (20480, "20480"), (123456, "123456"), (1e6, "1e+06"), (27271168, "2.7271168e+07"),
            (1795806656.96, "1.79580665696e+09"), (0.00001, "1e-05"), (0.015690508, "0.015690508"),
            (2147483648, "2.147483648e+09"), (-2.5, "-2.5"), (.infinity, "+Inf"), (-.infinity, "-Inf"),
        ]
        for (value, text) in cases {
            #expect(MetricsText.goFloat(value) == text, "\(value)")
        }
    }

    @Test func bucketBoundsAreEtcds() {
        let disk = ServerMetrics.diskBounds.map(MetricsText.goFloat)
        #expect(disk == ["0.001", "0.002", "0.004", "0.008", "0.016", "0.032", "0.064", "0.128", "0.256", "0.512",
                         "1.024", "2.048", "4.096", "8.192"])
        let rtt = ServerMetrics.roundTripBounds.map(MetricsText.goFloat)
        #expect(rtt.count == 16 && rtt.first == "0.0001" && rtt.last == "3.2768")
        #expect(MetricHistogram.defaultBounds.map(MetricsText.goFloat) == ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"])
    }

    @Test func histogramCountsInclusiveUpperBoundsCumulatively() {
        let h = MetricHistogram(upperBoundsSeconds: [0.001, 0.01, 0.1])
        h.observe(nanoseconds: 1_000_000)  // exactly 1 ms: in le="0.001", as Prometheus' "≤"
        h.observe(nanoseconds: 1_000_001)
        h.observe(seconds: 0.05)
        h.observe(seconds: 7)
        let s = h.snapshot()
        #expect(s.cumulative == [1, 2, 3, 4])
        #expect(s.count == 4)
        #expect(abs(s.sumSeconds - (0.001 + 0.001000001 + 0.05 + 7)) < 1e-9)
    }

    @Test func histogramTextLayout() {
        let h = MetricHistogram(upperBoundsSeconds: [0.5, 1])
        h.observe(seconds: 0.25)
        h.observe(seconds: 2)
        var m = MetricsText()
        m.histogram("x_seconds", "Help.", bounds: h.upperBoundsSeconds, [([("To", "a1")], h.snapshot())])
        #expect(m.text == """
            # HELP x_seconds Help.
            # TYPE x_seconds histogram
            x_seconds_bucket{To="a1",le="0.5"} 1
            x_seconds_bucket{To="a1",le="1"} 1
            x_seconds_bucket{To="a1",le="+Inf"} 2
            x_seconds_sum{To="a1"} 2.25
            x_seconds_count{To="a1"} 2

            """)
    }

    @Test func familiesSortedByNameLabelsByNameSeriesByValue() {
        var m = MetricsText()
        m.gauge("zz", "Last.", 1)
        m.family("aa_total", "First.", .counter, [([("b", "2"), ("a", "x\"y")], 3), ([("b", "1"), ("a", "x\"y")], 4)])
        #expect(m.text == """
            # HELP aa_total First.
            # TYPE aa_total counter
            aa_total{a="x\\"y",b="1"} 4
            aa_total{a="x\\"y",b="2"} 3
            # HELP zz Last.
            # TYPE zz gauge
            zz 1

            """)
    }

    @Test func grpcProbeCountsEveryCodeAndRendersAllOfThem() {
        let router = GRPCRouter()
        router.unary("/etcdserverpb.KV/Put") { _, _ in [] }
        router.bidi("/etcdserverpb.Watch/Watch") { _, _, _ in }
        let grpc = GRPCMetrics(extensive: true)
        grpc.install(on: router)
        var text = MetricsText()
        grpc.append(to: &text)
        let out = text.text
        #expect(out.contains(#"grpc_server_handled_total{grpc_code="Unauthenticated",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"} 0"#))
        #expect(out.contains(#"grpc_server_started_total{grpc_method="Watch",grpc_service="etcdserverpb.Watch",grpc_type="bidi_stream"} 0"#))
        #expect(out.contains("# TYPE grpc_server_handling_seconds histogram"))
        #expect(out.components(separatedBy: "\n").filter { $0.hasPrefix("grpc_server_handled_total{") }.count == 2 * 17)
    }

    @Test func methodProbeRecordsStartedMessagesAndCodes() {
        let m = GRPCMethodMetrics(type: "unary", service: "etcdserverpb.KV", method: "Range", extensive: true)
        let start = NIODeadline.now().uptimeNanoseconds
        m.started(); m.received(); m.sent(); m.handled(.ok, startedNanos: start)
        m.started(); m.received(); m.handled(.outOfRange, startedNanos: start)
        #expect(m.startedCount.count == 2 && m.receivedCount.count == 2 && m.sentCount.count == 1)
        #expect(m.handledCount[GRPCStatus.Code.ok.rawValue].count == 1)
        #expect(m.handledCount[GRPCStatus.Code.outOfRange.rawValue].count == 1)
        #expect(m.handling?.snapshot().count == 2)
        #expect(GRPCMetrics.codeNames.count == 17 && GRPCMetrics.codeNames[1] == "Canceled")
    }
}
