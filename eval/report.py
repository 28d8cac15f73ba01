"""Reports of an eval run: a one-screen text table, Markdown, and a
self-contained HTML page (inline CSS and inline SVG charts drawn here; no
scripts, no external URLs).

All functions are pure: they take the metrics dict (``metrics.json``) and the
scored result rows and return strings.
"""

from __future__ import annotations

import html as _html
import math
from typing import Optional, Sequence

from eval.metrics import HEADLINE, format_value

OURS_COLOR = "#2b6cb0"
BASE_COLOR = "#dd6b20"


def _e(value) -> str:
    return _html.escape("" if value is None else str(value), quote=True)


def _baseline(metrics: dict) -> Optional[dict]:
    b = metrics.get("baseline")
    return b if isinstance(b, dict) and "skipped" not in b else None


def _model_line(metrics: dict) -> str:
    model = metrics.get("llm_status") or f"{metrics.get('backend')}: {metrics.get('model') or 'default model'}"
    line = f"{model} | settings {metrics.get('settings_hash')} | {metrics.get('timestamp')}"
    if metrics.get("warm_up_s") is not None:
        line += f" | warm-up {metrics['warm_up_s']:.1f}s"
    if metrics.get("warm_up_error"):
        line += f" (failed: {metrics['warm_up_error']})"
    return line


# ---------------------------------------------------------------------------
# text
# ---------------------------------------------------------------------------


def summary_table(metrics: dict) -> str:
    """The one-screen summary printed at the end of a run."""
    base = _baseline(metrics)
    c = metrics.get("counts", {})
    lines = [
        f"eval: {c.get('questions', 0)} questions ({c.get('answerable', 0)} answerable, "
        f"{c.get('unanswerable', 0)} unanswerable, {c.get('errors', 0)} errors)",
        _model_line(metrics),
        "",
    ]
    head = f"{'metric':<22}{'ours':>10}" + (f"{'baseline':>10}" if base else "")
    lines += [head, "-" * len(head)]
    for name, label, kind in HEADLINE:
        row = f"{label:<22}{format_value(metrics.get(name), kind):>10}"
        if base:
            row += f"{format_value(base.get(name), kind):>10}"
        lines.append(row)
    lines.append("-" * len(head))
    cats = metrics.get("per_category", {})
    bcats = base.get("per_category", {}) if base else {}
    for cat, v in cats.items():
        label = f"{cat} (n={v['n']})"
        row = f"{label:<22}{format_value(v['accuracy'], 'share'):>10}"
        if base:
            row += f"{format_value((bcats.get(cat) or {}).get('accuracy'), 'share'):>10}"
        lines.append(row)
    lines.append("-" * len(head))
    lines.append("modes: " + ", ".join(f"{k} {v}" for k, v in metrics.get("mode_mix", {}).items()))
    if base:
        lines.append("baseline modes: " + ", ".join(f"{k} {v}" for k, v in base.get("mode_mix", {}).items()))
    elif isinstance(metrics.get("baseline"), dict):
        lines.append(f"baseline skipped: {metrics['baseline'].get('skipped')}")
    return "\n".join(lines)


def _failures(rows: Sequence[dict]) -> list[dict]:
    return [r for r in rows if r["scores"]["error"] or not r["scores"]["correct"]]


def markdown(metrics: dict, rows: Sequence[dict], baseline_rows: Optional[Sequence[dict]] = None) -> str:
    base = _baseline(metrics)
    out = ["# Eval report", "", _model_line(metrics), ""]
    out += ["| metric | ours |" + (" baseline |" if base else ""), "|---|---|" + ("---|" if base else "")]
    for name, label, kind in HEADLINE:
        line = f"| {label} | {format_value(metrics.get(name), kind)} |"
        if base:
            line += f" {format_value(base.get(name), kind)} |"
        out.append(line)
    out += ["", "## Accuracy by category", "", "| category | n | measure | ours |" + (" baseline |" if base else ""),
            "|---|---|---|---|" + ("---|" if base else "")]
    for cat, v in metrics.get("per_category", {}).items():
        line = f"| {cat} | {v['n']} | {v['measure']} | {format_value(v['accuracy'], 'share')} |"
        if base:
            line += f" {format_value((base.get('per_category', {}).get(cat) or {}).get('accuracy'), 'share')} |"
        out.append(line)
    out += ["", "Modes: " + ", ".join(f"{k} {v}" for k, v in metrics.get("mode_mix", {}).items()), ""]
    fails = _failures(rows)
    out += [f"## Failures ({len(fails)})", ""]
    for r in fails:
        out.append(f"### {r['id']} ({r['category']}, mode {r['mode']})")
        out.append("")
        out.append(f"- **Q:** {r['question']}")
        if r.get("resolved_question") and r["resolved_question"] != r["question"]:
            out.append(f"- **resolved:** {r['resolved_question']}")
        out.append(f"- **gold:** {r.get('gold_answer')}")
        out.append(f"- **answer:** {r.get('answer') or ''}")
        if r.get("error"):
            out.append(f"- **error:** {r['error']}")
        if r.get("notice"):
            out.append(f"- **notice:** {r['notice']}")
        for c in r.get("citations") or []:
            out.append(f"  - [{c['marker']}] {c['source']}:{c['start']}-{c['end']} \"{c['quote']}\"")
        out.append("")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# SVG charts
# ---------------------------------------------------------------------------


def bar_chart_svg(categories: Sequence[str], series: dict[str, Sequence[Optional[float]]],
                  colors: dict[str, str], title: str, width: int = 680, height: int = 280) -> str:
    """Grouped bars of shares (0..1) per category; None draws no bar ("n/a")."""
    left, right, top, bottom = 44, 28, 30, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(categories))
    group_w = plot_w / n
    k = max(1, len(series))
    bar_w = min(36.0, group_w * 0.8 / k)
    parts = [f'<svg role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" aria-label="{_e(title)}">',
             f'<text x="{width / 2}" y="18" text-anchor="middle" class="t">{_e(title)}</text>']
    for pct in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="ax">{pct}%</text>')
    for i, cat in enumerate(categories):
        gx = left + i * group_w + (group_w - bar_w * k) / 2
        for j, (name, values) in enumerate(series.items()):
            v = values[i] if i < len(values) else None
            x = gx + j * bar_w
            if v is None:
                parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h - 4}" text-anchor="middle" '
                             f'class="ax">n/a</text>')
                continue
            h = plot_h * max(0.0, min(1.0, v))
            parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                         f'fill="{colors[name]}"><title>{_e(name)} {_e(cat)}: {100 * v:.1f}%</title></rect>')
            parts.append(f'<text x="{x + (bar_w - 2) / 2:.1f}" y="{top + plot_h - h - 3:.1f}" '
                         f'text-anchor="middle" class="val">{100 * v:.0f}</text>')
        parts.append(f'<text x="{left + (i + 0.5) * group_w:.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
                     f'class="ax">{_e(cat)}</text>')
    parts.append(_legend(series, colors, left, height - 14))
    parts.append("</svg>")
    return "".join(parts)


def _legend(series, colors, x: float, y: float) -> str:
    parts = []
    for name in series:
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colors[name]}"/>'
                     f'<text x="{x + 14}" y="{y}" class="ax">{_e(name)}</text>')
        x += 24 + 7 * len(name)
    return "".join(parts)


def histogram_svg(series: dict[str, Sequence[float]], colors: dict[str, str], title: str,
                  bins: int = 12, width: int = 680, height: int = 260) -> str:
    """Histogram of seconds, the series side by side in each bin."""
    values = [v for vs in series.values() for v in vs]
    left, right, top, bottom = 44, 28, 30, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [f'<svg role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" aria-label="{_e(title)}">',
             f'<text x="{width / 2}" y="18" text-anchor="middle" class="t">{_e(title)}</text>']
    if not values:
        parts.append(f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" class="ax">no data</text></svg>')
        return "".join(parts)
    hi = max(values)
    hi = hi if hi > 0 else 1.0
    step = hi / bins
    counts = {name: [0] * bins for name in series}
    for name, vs in series.items():
        for v in vs:
            counts[name][min(bins - 1, int(v / step))] += 1
    top_count = max(1, max(max(c) for c in counts.values()))
    ticks = sorted({0, top_count, math.ceil(top_count / 2)})
    for t in ticks:
        y = top + plot_h * (1 - t / top_count)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="ax">{t}</text>')
    bin_w = plot_w / bins
    k = len(series)
    for b in range(bins):
        for j, name in enumerate(series):
            c = counts[name][b]
            if not c:
                continue
            h = plot_h * c / top_count
            x = left + b * bin_w + j * (bin_w - 2) / k + 1
            parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{(bin_w - 2) / k:.1f}" '
                         f'height="{h:.1f}" fill="{colors[name]}"><title>{_e(name)}: {c} in '
                         f'{b * step:.2f}-{(b + 1) * step:.2f}s</title></rect>')
    for b in range(0, bins + 1, max(1, bins // 6)):
        x = left + b * bin_w
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="ax">'
                     f'{b * step:.1f}s</text>')
    parts.append(_legend(series, colors, left, height - 14))
    parts.append("</svg>")
    return "".join(parts)


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:980px;
color:#1a202c;padding:0 16px;line-height:1.45}
h1{font-size:1.5em;margin-bottom:4px}h2{font-size:1.2em;margin-top:28px;border-bottom:1px solid #e2e8f0}
.meta{color:#4a5568;font-size:.9em}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;border-bottom:1px solid #e2e8f0;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
svg .t{font-size:14px;font-weight:600;fill:#1a202c}svg .ax{font-size:11px;fill:#4a5568}
svg .val{font-size:10px;fill:#1a202c}svg .grid{stroke:#e2e8f0;stroke-width:1}
.fail{border:1px solid #e2e8f0;border-left:4px solid #c53030;border-radius:4px;padding:8px 12px;margin:10px 0}
.fail h3{font-size:1em;margin:0 0 4px}.tag{display:inline-block;font-size:.8em;padding:0 6px;border-radius:3px;
background:#edf2f7;margin-left:6px}.tag.refused{background:#fefcbf}.tag.error{background:#fed7d7}
.q{font-weight:600}.gold{color:#2f855a}.ans{white-space:pre-wrap}
ol.cites{margin:4px 0 0 0;padding-left:20px;font-size:.92em}ol.cites li{margin:2px 0}
.src{color:#4a5568;font-family:ui-monospace,monospace;font-size:.9em}.bad{color:#c53030;font-weight:600}
blockquote{margin:2px 0 2px 0;padding-left:8px;border-left:3px solid #cbd5e0;color:#2d3748}
details{margin:8px 0}summary{cursor:pointer;font-weight:600}
"""


def _metrics_table(metrics: dict, base: Optional[dict]) -> str:
    rows = ["<table><tr><th>metric</th><th>ours</th>" + ("<th>baseline</th>" if base else "") + "</tr>"]
    for name, label, kind in HEADLINE:
        rows.append(f"<tr><td>{_e(label)}</td><td class=num>{_e(format_value(metrics.get(name), kind))}</td>"
                    + (f"<td class=num>{_e(format_value(base.get(name), kind))}</td>" if base else "") + "</tr>")
    rows.append("</table>")
    return "".join(rows)


def _answer_card(r: dict, source_ok=None) -> str:
    s = r["scores"]
    mode = r["mode"]
    bad = set(s.get("invalid_citations") or [])
    parts = [f'<div class="fail" id="q-{_e(r["id"])}"><h3>{_e(r["id"])}<span class="tag">{_e(r["category"])}</span>'
             f'<span class="tag {_e(mode)}">{_e(mode)}</span>'
             + (f'<span class="tag">{_e(r["route"])}</span>' if r.get("route", "ask") != "ask" else "")
             + "</h3>",
             f'<div class="q">Q: {_e(r["question"])}</div>']
    if r.get("resolved_question") and r["resolved_question"] != r["question"]:
        parts.append(f'<div class="meta">resolved as: {_e(r["resolved_question"])}</div>')
    parts.append(f'<div class="gold">gold: {_e(r.get("gold_answer"))}</div>')
    if r.get("must_include"):
        parts.append('<div class="meta">must include: '
                     + " AND ".join("(" + " | ".join(_e(a) for a in g) + ")" for g in r["must_include"]) + "</div>")
    parts.append(f'<div class="ans">answer: {_e(r.get("answer"))}</div>')
    if r.get("error"):
        parts.append(f'<div class="bad">error: {_e(r["error"])}</div>')
    if r.get("notice"):
        parts.append(f'<div class="meta">notice: {_e(r["notice"])}</div>')
    flags = []
    if s.get("evidence_hit") is not None:
        flags.append(f"evidence hit: {'yes' if s['evidence_hit'] else 'no'}")
    flags.append(f"supported sentences: {s['sentences_supported']}/{s['sentences']}")
    t = r.get("timings") or {}
    if t.get("total_s") is not None:
        flags.append(f"total {t['total_s']:.2f}s")
    parts.append(f'<div class="meta">{_e("; ".join(flags))}</div>')
    cites = r.get("citations") or []
    if cites:
        parts.append('<ol class="cites">')
        for c in cites:
            flag = ' <span class="bad">quote does not match the source</span>' if c.get("marker") in bad else ""
            speaker = f" ({_e(c['speaker'])})" if c.get("speaker") else ""
            parts.append(f'<li value="{_e(c["marker"])}"><span class="src">{_e(c["source"])}:{_e(c["start"])}'
                         f'-{_e(c["end"])}</span>{speaker}{flag}<blockquote>{_e(c.get("quote"))}</blockquote></li>')
        parts.append("</ol>")
    parts.append("</div>")
    return "".join(parts)


def html(metrics: dict, rows: Sequence[dict], baseline_rows: Optional[Sequence[dict]] = None) -> str:
    base = _baseline(metrics)
    cats = list(metrics.get("per_category", {}))
    series = {"ours": [metrics["per_category"][c]["accuracy"] for c in cats]}
    colors = {"ours": OURS_COLOR, "baseline": BASE_COLOR}
    if base:
        series["baseline"] = [(base.get("per_category", {}).get(c) or {}).get("accuracy") for c in cats]
    lat = {"ours": [r["timings"]["total_s"] for r in rows if r.get("timings") and not r["scores"]["error"]]}
    ft = {"ours": [r["timings"]["first_token_s"] for r in rows
                   if r.get("timings") and r["timings"].get("first_token_s") is not None]}
    if baseline_rows:
        lat["baseline"] = [r["timings"]["total_s"] for r in baseline_rows
                           if r.get("timings") and not r["scores"]["error"]]
    c = metrics.get("counts", {})
    fails = _failures(rows)
    out = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        "<meta name=viewport content='width=device-width,initial-scale=1'>",
        f"<title>Eval report {_e(metrics.get('timestamp'))}</title><style>{CSS}</style></head><body>",
        "<h1>Eval report</h1>",
        f"<div class=meta>{_e(_model_line(metrics))}</div>",
        f"<div class=meta>{c.get('questions', 0)} questions: {c.get('answerable', 0)} answerable, "
        f"{c.get('unanswerable', 0)} unanswerable, {c.get('errors', 0)} errors; {c.get('citations', 0)} citations. "
        f"Modes: {_e(', '.join(f'{k} {v}' for k, v in metrics.get('mode_mix', {}).items()))}</div>",
    ]
    if isinstance(metrics.get("baseline"), dict) and not base:
        out.append(f"<div class=meta>baseline skipped: {_e(metrics['baseline'].get('skipped'))}</div>")
    out += [
        "<h2>Metrics</h2>", _metrics_table(metrics, base),
        "<h2>Accuracy by category</h2>",
        "<div class=meta>key-fact accuracy for answerable categories; refusal accuracy for unanswerable.</div>",
        bar_chart_svg(cats, series, colors, "Accuracy by category"),
        "<h2>Latency</h2>",
        histogram_svg(lat, colors, "Total answer time (s)"),
    ]
    if ft["ours"]:
        out.append(histogram_svg(ft, colors, "Time to first token (s)"))
    out.append(f"<h2>Failures ({len(fails)})</h2>")
    out.append("<div class=meta>Answerable questions without every key fact, unanswerable questions "
               "not refused, and errors.</div>")
    out += [_answer_card(r) for r in fails] or ["<p>None.</p>"]
    if baseline_rows:
        bfails = _failures(baseline_rows)
        out.append(f"<details><summary>Baseline failures ({len(bfails)})</summary>")
        out += [_answer_card(r) for r in bfails]
        out.append("</details>")
    failed_ids = {id(r) for r in fails}
    passed = [r for r in rows if id(r) not in failed_ids]
    out.append(f"<details><summary>Passed questions ({len(passed)})</summary>")
    out += [_answer_card(r).replace('class="fail"', 'class="fail" style="border-left-color:#2f855a"')
            for r in passed]
    out.append("</details></body></html>")
    return "\n".join(out) + "\n"
