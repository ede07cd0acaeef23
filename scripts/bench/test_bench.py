"""Unit tests for the benchmark's pure parts (run by `make test`)."""
import os
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import report  # noqa: E402
from bench import cpu_figures, median  # noqa: E402
from workloads import WORKLOADS, Figure, Workload, parse  # noqa: E402

META = {"commit": "abc1234", "date": "2025-01-01T00:00:00", "cores": 2, "rounds": 3, "load_start": 1.5,
        "load_end": 2.25, "load_min": 1.0, "load_max": 3.0}


def row(label, ours, etcd, higher=True, goal=2.0, failed=False):
    f = Figure(label, "rate", "req/s" if higher else "ms", higher, goal)
    return {"label": label, "unit": f.unit, "ours": ours, "etcd": etcd, "ratio": f.ratio(ours, etcd), "goal": goal,
            "higher_is_better": higher, "failed": failed}


class ParseTests(unittest.TestCase):
    def test_key_values_of_a_loadgen_line(self):
        m = parse("put ops=3000 failed=0 secs=2.50 rate=1200 p50ms=0.81 p99ms=2.85")
        self.assertEqual(m["rate"], 1200.0)
        self.assertEqual(m["p99ms"], 2.85)
        self.assertEqual(m["ops"], 3000.0)

    def test_words_stay_strings(self):
        self.assertEqual(parse("k8s writes=10 check=ok")["check"], "ok")


class RatioTests(unittest.TestCase):
    def test_rates_are_ours_over_etcd(self):
        self.assertAlmostEqual(Figure("x", "rate", "req/s", True, 2).ratio(300, 100), 3.0)

    def test_times_are_etcd_over_ours(self):
        self.assertAlmostEqual(Figure("x", "secs", "s", False, 2).ratio(2.0, 6.0), 3.0)

    def test_missing_or_zero_gives_no_ratio(self):
        f = Figure("x", "rate", "req/s", True, 2)
        self.assertIsNone(f.ratio(None, 5))
        self.assertIsNone(f.ratio(5, 0))

    def test_median_ignores_failed_runs(self):
        self.assertEqual(median([3.0, None, 1.0, 2.0]), 2.0)
        self.assertIsNone(median([None]))


class CPUFigureTests(unittest.TestCase):
    def test_per_op_from_ops(self):
        m = cpu_figures({"ops": 20000.0, "rate": 5000.0}, 0.3, 0.5)
        self.assertEqual(m["server_us_per_op"], 15.0)
        self.assertEqual(m["client_us_per_op"], 25.0)

    def test_per_op_from_the_kubernetes_writes(self):
        self.assertEqual(cpu_figures({"writes": 1000.0}, 0.01, 0.02)["server_us_per_op"], 10.0)

    def test_no_count_gives_totals_only(self):
        m = cpu_figures({"secs": 2.0}, 1.234, 0.5)
        self.assertEqual(m, {"server_cpu_s": 1.23, "client_cpu_s": 0.5})


class WorkloadTableTests(unittest.TestCase):
    def test_every_workload_of_the_issue_is_there(self):
        labels = [f.label for w in WORKLOADS for f in w.figures]
        for wanted in ("put, 1 client", "put", "linearizable range", "serializable range", "txn-put",
                       "90/10 read/write mix", "lease keep-alive", "100 watchers: watch p50",
                       "1,000 watchers: watch p50", "Kubernetes-style load, 15 s",
                       "put, 1 client, 100 watchers open", "3 members: put", "3 members: linearizable range"):
            self.assertIn(wanted, labels)
        self.assertTrue(any(f.metric == "rss" for w in WORKLOADS for f in w.figures))
        self.assertEqual(len({w.name for w in WORKLOADS}), len(WORKLOADS))


class ReportTests(unittest.TestCase):
    rows = [row("put", 2000, 1000), row("p99", 1.0, 3.0, higher=False), row("range", None, 100, failed=True)]

    def test_text_table_has_every_row_verdict_and_load(self):
        text = report.text_table(self.rows, META)
        self.assertIn("load average 1.50 at start", text)
        lines = text.splitlines()
        self.assertTrue(any(l.startswith("put (req/s)") and l.endswith("met") and "2.00" in l for l in lines))
        self.assertTrue(any(l.startswith("p99 (ms)") and "3.00" in l for l in lines))
        self.assertTrue(any(l.startswith("range (req/s)") and l.endswith("FAILED") for l in lines))

    def test_markdown_rows(self):
        md = report.markdown_table(self.rows, META).splitlines()
        self.assertEqual(sum(1 for l in md if l.startswith("| ")), 1 + len(self.rows))

    def test_svg_is_well_formed_with_two_bars_per_measured_row(self):
        root = ET.fromstring(report.svg_chart(self.rows, META))
        rects = [r for r in root.iter("{http://www.w3.org/2000/svg}rect")]
        # background + 3 legend swatches + one etcd bar per row + one ours bar per row with a ratio
        self.assertEqual(len(rects), 1 + 3 + 3 + 2)
        widths = [float(r.get("width")) for r in rects]
        self.assertTrue(all(w >= 0 for w in widths))


class CPUBudgetTests(unittest.TestCase):
    def runs(self, ours, etcd):
        def side(figures):
            return [{"server_us_per_op": s, "client_us_per_op": c} for s, c in figures]
        return {"w": {"ours": side(ours), "etcd": side(etcd)}}

    def test_budget_model_and_ceiling_of_a_saturating_row(self):
        w = Workload("w", "loadgen", [], [Figure("put", "rate", "req/s", True, 2.0)], saturates=True)
        # etcd spends 100 + 60 µs per request; with our client at 30 µs, a server at <= 50 µs meets 2.0.
        [r] = report.cpu_rows([w], self.runs([(40.0, 30.0)], [(100.0, 60.0)]))
        self.assertAlmostEqual(r["budget"], 50.0)
        self.assertAlmostEqual(r["model"], 160 / 70)
        self.assertAlmostEqual(r["ceiling"], 160 / 30)
        self.assertAlmostEqual(r["server_ratio"], 2.5)
        self.assertIn("put", report.cpu_table([r]))

    def test_medians_and_a_client_that_alone_misses_the_goal(self):
        w = Workload("w", "watchbench", [], [Figure("keep-alive", "rate", "/s", True, 2.0)], saturates=True)
        [r] = report.cpu_rows([w], self.runs([(7.0, 9.0), (8.0, 11.0), (100.0, 10.0)], [(13.0, 9.0)]))
        self.assertEqual((r["ours_server"], r["ours_client"]), (8.0, 10.0))
        self.assertLess(r["budget"], 2.0)
        self.assertAlmostEqual(r["budget"], 22 / 2 - 10)

    def test_latency_rows_get_cpu_but_no_budget(self):
        w = Workload("w", "loadgen", [], [Figure("put, 1 client", "rate", "req/s", True, 1.0)])
        [r] = report.cpu_rows([w], self.runs([(300.0, 200.0)], [(500.0, 300.0)]))
        self.assertIsNone(r["budget"])
        self.assertTrue(report.cpu_table([r]).splitlines()[-1].endswith("—"))

    def test_rows_without_cpu_figures_are_left_out(self):
        w = Workload("w", "loadgen", [], [Figure("x", "rate", "req/s", True, 2.0)], saturates=True)
        self.assertEqual(report.cpu_rows([w], {"w": {"ours": [{"rate": 1.0}], "etcd": []}}), [])
        self.assertEqual(report.cpu_rows([w], {}), [])


if __name__ == "__main__":
    unittest.main()
