"""The benchmark's outputs: the table (text and Markdown) and an SVG chart
with two bars per figure, each as "times etcd's performance" (etcd = 1,
longer is better for ours), the goal marked on each row."""
from statistics import median
from xml.sax.saxutils import escape


def fmt(value, unit):
    if value is None:
        return "—"
    if unit in ("ms", "s"):
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def fmt_ratio(r):
    return "—" if r is None else f"{r:.2f}"


def verdict(row):
    if row["failed"]:
        return "FAILED"
    if row["ratio"] is None:
        return "—"
    return "met" if row["ratio"] >= row["goal"] else "not met"


def header(meta):
    return (f"swift-etcd ({meta['commit']}) vs etcd 3.5.1, {meta['date']}, {meta['cores']} cores, "
            f"median of {meta['rounds']} alternating round(s); load average {meta['load_start']:.2f} at start, "
            f"{meta['load_end']:.2f} at end, {meta['load_min']:.2f}-{meta['load_max']:.2f} during runs")


def text_table(rows, meta):
    lines = [header(meta), "ratio = times better than etcd (ours/etcd for rates, etcd/ours for times and memory)", ""]
    w = max(len(r["label"]) + len(r["unit"]) + 3 for r in rows)
    lines.append(f"{'figure':<{w}} {'swift-etcd':>12} {'etcd 3.5.1':>12} {'ratio':>7} {'goal':>6}  verdict")
    for r in rows:
        name = f"{r['label']} ({r['unit']})"
        lines.append(f"{name:<{w}} {fmt(r['ours'], r['unit']):>12} {fmt(r['etcd'], r['unit']):>12} "
                     f"{fmt_ratio(r['ratio']):>7} {r['goal']:>6.1f}  {verdict(r)}")
    return "\n".join(lines)


def markdown_table(rows, meta):
    lines = [header(meta), "", "| figure | swift-etcd | etcd 3.5.1 | ratio | goal | |", "|---|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {r['label']} ({r['unit']}) | {fmt(r['ours'], r['unit'])} | {fmt(r['etcd'], r['unit'])} | "
                     f"{fmt_ratio(r['ratio'])} | {r['goal']:.1f} | {verdict(r)} |")
    return "\n".join(lines)


def svg_chart(rows, meta):
    label_w, bar_w, right_w, row_h, top = 330, 480, 170, 38, 78
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    scale_max = min(6.0, max([3.0] + [x + 0.25 for x in ratios]))
    x_of = lambda ratio: label_w + bar_w * min(ratio, scale_max) / scale_max  # noqa: E731
    width, height = label_w + bar_w + right_w, top + row_h * len(rows) + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           '<text x="10" y="22" font-size="16" font-weight="bold">swift-etcd vs etcd 3.5.1: '
           'times etcd\'s performance (etcd = 1; longer is better)</text>',
           f'<text x="10" y="42" font-size="10">{escape(header(meta))}</text>',
           '<rect x="10" y="52" width="12" height="10" fill="#9e9e9e"/><text x="26" y="61">etcd 3.5.1</text>'
           '<rect x="100" y="52" width="12" height="10" fill="#2e7d32"/><text x="116" y="61">swift-etcd, goal met</text>'
           '<rect x="260" y="52" width="12" height="10" fill="#e65100"/><text x="276" y="61">swift-etcd, goal not met</text>'
           '<line x1="440" y1="57" x2="460" y2="57" stroke="#c62828" stroke-dasharray="3,2" stroke-width="2"/>'
           '<text x="464" y="61">goal</text>']
    tick = 0.0
    while tick <= scale_max + 1e-9:
        x = x_of(tick)
        out.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{top + row_h * len(rows)}" stroke="#e0e0e0"/>')
        out.append(f'<text x="{x:.1f}" y="{top + row_h * len(rows) + 14}" text-anchor="middle">{tick:g}×</text>')
        tick += 0.5 if scale_max <= 3 else 1.0
    for i, r in enumerate(rows):
        y = top + i * row_h
        gx = x_of(r["goal"])
        out.append(f'<line x1="{gx:.1f}" y1="{y + 2}" x2="{gx:.1f}" y2="{y + 34}" stroke="#c62828" '
                   f'stroke-dasharray="3,2" stroke-width="2"/>')
        out.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{escape(r["label"])}</text>')
        out.append(f'<text x="{label_w - 8}" y="{y + 29}" text-anchor="end" fill="#616161" font-size="10">'
                   f'{escape(r["unit"])}, {"higher" if r["higher_is_better"] else "lower"} is better</text>')
        out.append(f'<rect x="{label_w}" y="{y + 5}" width="{x_of(1.0) - label_w:.1f}" height="12" fill="#9e9e9e"/>')
        out.append(f'<text x="{x_of(1.0) + 4:.1f}" y="{y + 15}" font-size="10">{fmt(r["etcd"], r["unit"])}</text>')
        if r["ratio"] is not None:
            color = "#2e7d32" if r["ratio"] >= r["goal"] else "#e65100"
            end = x_of(r["ratio"])
            out.append(f'<rect x="{label_w}" y="{y + 19}" width="{end - label_w:.1f}" height="12" fill="{color}"/>')
            clipped = "+" if r["ratio"] > scale_max else ""
            out.append(f'<text x="{end + 4:.1f}" y="{y + 29}" font-size="10"><tspan font-weight="bold">'
                       f'{r["ratio"]:.2f}×{clipped}</tspan> ({fmt(r["ours"], r["unit"])})</text>')
        else:
            out.append(f'<text x="{label_w + 4}" y="{y + 29}" fill="#c62828">{verdict(r)}: no figure</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def cpu_rows(workloads, results):
    """Per workload with CPU figures on both sides: median server and client
    CPU per request (µs) for ours and etcd, and etcd's server CPU over ours.
    For a workload that keeps every core busy (`saturates`), rates follow
    server + client CPU per request, so it also gives the ratio that model
    predicts, the ceiling (our server free: etcd's server + client over our
    client alone) and the budget: the most server CPU per request ours may
    spend for the goal, given the client's cost. A budget below zero means
    the client alone keeps the goal out of reach on this machine."""
    out = []
    for w in workloads:
        per = {}
        for side in ("ours", "etcd"):
            runs = [m for m in results.get(w.name, {}).get(side, [])
                    if "server_us_per_op" in m and "client_us_per_op" in m]
            per[side] = (median(m["server_us_per_op"] for m in runs),
                         median(m["client_us_per_op"] for m in runs)) if runs else None
        if not per["ours"] or not per["etcd"]:
            continue
        (so, co), (se, ce) = per["ours"], per["etcd"]
        row = {"workload": w.name, "label": w.figures[0].label, "ours_server": so, "ours_client": co,
               "etcd_server": se, "etcd_client": ce, "server_ratio": se / so if so else None,
               "model": None, "ceiling": None, "budget": None}
        if w.saturates and co > 0:
            goal = w.figures[0].goal
            row.update(model=(se + ce) / (so + co), ceiling=(se + ce) / co, budget=(se + ce) / goal - co)
        out.append(row)
    return out


def cpu_table(rows):
    """`cpu_rows` as text, under the main table."""
    def f(x, spec):
        return "—" if x is None else format(x, spec)
    lines = ["CPU per request (µs): server / Go client. On rows that keep both cores busy, rate ≈ cores ÷ (server +",
             "client): 'model' is the ratio that predicts, 'ceiling' the ratio with a server costing nothing, and",
             "'budget' the most server CPU per request that still meets the goal with this client cost.", ""]
    w = max([len(r["label"]) for r in rows] + [6])
    lines.append(f"{'figure':<{w}} {'swift-etcd':>15} {'etcd 3.5.1':>15} {'etcd/ours':>9} {'model':>6} "
                 f"{'ceiling':>7} {'budget':>7}")
    for r in rows:
        lines.append(f"{r['label']:<{w}} {r['ours_server']:>7.1f} / {r['ours_client']:<5.1f} "
                     f"{r['etcd_server']:>7.1f} / {r['etcd_client']:<5.1f} {f(r['server_ratio'], '.2f'):>9} "
                     f"{f(r['model'], '.2f'):>6} {f(r['ceiling'], '.2f'):>7} {f(r['budget'], '.1f'):>7}")
    return "\n".join(lines)
