"""Reports of an eval run: a one-screen text table, Markdown, and a
self-contained HTML page (inline CSS and inline SVG charts; no scripts, no
external URLs).

The HTML page is rendered by jinja2 from ``eval/templates/report.html`` with
autoescaping on, so questions, answers and quotes are always shown as text;
this module computes what the page shows (table cells, chart geometry, answer
cards) and writes no markup itself.

All functions are pure: they take the metrics dict (``metrics.json``) and the
scored result rows and return strings (or, for the charts, geometry).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional, Sequence

from eval.metrics import HEADLINE, format_value

OURS_COLOR = "#2b6cb0"
BASE_COLOR = "#dd6b20"


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
    lines += split_table(metrics)
    lines.append("modes: " + ", ".join(f"{k} {v}" for k, v in metrics.get("mode_mix", {}).items()))
    if base:
        lines.append("baseline modes: " + ", ".join(f"{k} {v}" for k, v in base.get("mode_mix", {}).items()))
    elif isinstance(metrics.get("baseline"), dict):
        lines.append(f"baseline skipped: {metrics['baseline'].get('skipped')}")
    return "\n".join(lines)


def split_table(metrics: dict) -> list[str]:
    """Dev and test side by side (lines), and the gaps over 5 points; [] when
    the run had no split files."""
    splits = metrics.get("splits") or {}
    if not splits:
        return []
    names = list(splits)
    head = f"{'metric':<22}" + "".join(f"{n + ' (n=' + str(splits[n]['counts']['questions']) + ')':>14}" for n in names)
    lines = [head, "-" * len(head)]
    for name, label, kind in HEADLINE:
        lines.append(f"{label:<22}" + "".join(f"{format_value(splits[n].get(name), kind):>14}" for n in names))
    lines.append("-" * len(head))
    for finding in metrics.get("split_findings") or []:
        lines.append(f"finding: {finding}")
    return lines


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
    splits = metrics.get("splits") or {}
    if splits:
        names = list(splits)
        out += ["", "## Dev and test side by side", "",
                "| metric | " + " | ".join(f"{n} (n={splits[n]['counts']['questions']})" for n in names) + " |",
                "|---|" + "---|" * len(names)]
        for name, label, kind in HEADLINE:
            out.append(f"| {label} | " + " | ".join(format_value(splits[n].get(name), kind) for n in names) + " |")
        findings = metrics.get("split_findings") or []
        if findings:
            out += ["", "Findings (dev and test more than 5 points apart):", ""] + [f"- {f}" for f in findings]
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
# charts: geometry here, drawn by the template
# ---------------------------------------------------------------------------

_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 28, 30, 56


def _chart(title: str, width: int, height: int, series, colors) -> dict:
    legend, x = [], float(_LEFT)
    for name in series:
        legend.append({"x": x, "y": height - 14, "color": colors[name], "name": name})
        x += 24 + 7 * len(name)
    return {"title": title, "width": width, "height": height, "left": _LEFT, "right": width - _RIGHT,
            "grid": [], "bars": [], "missing": [], "xlabels": [], "legend": legend, "empty": False}


def bar_chart(categories: Sequence[str], series: dict[str, Sequence[Optional[float]]],
              colors: dict[str, str], title: str, width: int = 680, height: int = 280) -> dict:
    """Grouped bars of shares (0..1) per category; None draws no bar ("n/a").

    Returns the geometry the template's ``chart`` macro draws as inline SVG.
    """
    chart = _chart(title, width, height, series, colors)
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    group_w = plot_w / max(1, len(categories))
    k = max(1, len(series))
    bar_w = min(36.0, group_w * 0.8 / k)
    chart["grid"] = [{"y": _TOP + plot_h * (1 - pct / 100), "label": f"{pct}%"} for pct in (0, 25, 50, 75, 100)]
    for i, cat in enumerate(categories):
        gx = _LEFT + i * group_w + (group_w - bar_w * k) / 2
        for j, (name, values) in enumerate(series.items()):
            v = values[i] if i < len(values) else None
            x = gx + j * bar_w
            if v is None:
                chart["missing"].append({"x": x + bar_w / 2, "y": _TOP + plot_h - 4})
                continue
            h = plot_h * max(0.0, min(1.0, v))
            chart["bars"].append({"x": x, "y": _TOP + plot_h - h, "w": bar_w - 2, "h": h, "color": colors[name],
                                  "tip": f"{name} {cat}: {100 * v:.1f}%", "value": f"{100 * v:.0f}"})
        chart["xlabels"].append({"x": _LEFT + (i + 0.5) * group_w, "y": _TOP + plot_h + 16, "text": cat})
    return chart


def histogram(series: dict[str, Sequence[float]], colors: dict[str, str], title: str,
              bins: int = 12, width: int = 680, height: int = 260) -> dict:
    """Histogram of seconds, the series side by side in each bin (geometry for the template)."""
    chart = _chart(title, width, height, series, colors)
    values = [v for vs in series.values() for v in vs]
    if not values:
        chart["empty"] = True
        return chart
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    hi = max(values)
    hi = hi if hi > 0 else 1.0
    step = hi / bins
    counts = {name: [0] * bins for name in series}
    for name, vs in series.items():
        for v in vs:
            counts[name][min(bins - 1, int(v / step))] += 1
    top_count = max(1, max(max(c) for c in counts.values()))
    chart["grid"] = [{"y": _TOP + plot_h * (1 - t / top_count), "label": str(t)}
                     for t in sorted({0, top_count, math.ceil(top_count / 2)})]
    bin_w = plot_w / bins
    k = len(series)
    for b in range(bins):
        for j, name in enumerate(series):
            c = counts[name][b]
            if not c:
                continue
            h = plot_h * c / top_count
            chart["bars"].append({"x": _LEFT + b * bin_w + j * (bin_w - 2) / k + 1, "y": _TOP + plot_h - h,
                                  "w": (bin_w - 2) / k, "h": h, "color": colors[name], "value": None,
                                  "tip": f"{name}: {c} in {b * step:.2f}-{(b + 1) * step:.2f}s"})
    chart["xlabels"] = [{"x": _LEFT + b * bin_w, "y": _TOP + plot_h + 16, "text": f"{b * step:.1f}s"}
                        for b in range(0, bins + 1, max(1, bins // 6))]
    return chart


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _template():
    import jinja2

    # autoescape on: questions, answers and quotes are text, never markup.
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html")


def _card(r: dict) -> dict:
    """What the template shows of one result row."""
    s = r["scores"]
    bad = set(s.get("invalid_citations") or [])
    flags = []
    if s.get("evidence_hit") is not None:
        flags.append(f"evidence hit: {'yes' if s['evidence_hit'] else 'no'}")
    flags.append(f"supported sentences: {s['sentences_supported']}/{s['sentences']}")
    t = r.get("timings") or {}
    if t.get("total_s") is not None:
        flags.append(f"total {t['total_s']:.2f}s")
    resolved = r.get("resolved_question")
    return {
        "id": r["id"], "category": r["category"], "mode": r["mode"],
        "route": r["route"] if r.get("route", "ask") != "ask" else None,
        "question": r["question"], "resolved": resolved if resolved and resolved != r["question"] else None,
        "gold": r.get("gold_answer"), "must_include": r.get("must_include") or [],
        "answer": r.get("answer"), "error": r.get("error"), "notice": r.get("notice"), "flags": "; ".join(flags),
        "citations": [{**c, "bad": c.get("marker") in bad} for c in r.get("citations") or []],
    }


def html(metrics: dict, rows: Sequence[dict], baseline_rows: Optional[Sequence[dict]] = None) -> str:
    """The self-contained HTML report (template ``eval/templates/report.html``)."""
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
    fails = _failures(rows)
    failed_ids = {id(r) for r in fails}
    skipped = metrics["baseline"].get("skipped") if isinstance(metrics.get("baseline"), dict) and not base else None
    return _template().render(
        timestamp=metrics.get("timestamp"),
        model_line=_model_line(metrics),
        counts=metrics.get("counts", {}),
        modes=", ".join(f"{k} {v}" for k, v in metrics.get("mode_mix", {}).items()),
        baseline_skipped=skipped,
        has_baseline=bool(base),
        metrics_table=[(label, format_value(metrics.get(name), kind),
                        format_value(base.get(name), kind) if base else None) for name, label, kind in HEADLINE],
        split_names=[f"{n} (n={v['counts']['questions']})" for n, v in (metrics.get("splits") or {}).items()],
        split_table=[(label, [format_value(v.get(name), kind) for v in (metrics.get("splits") or {}).values()])
                     for name, label, kind in HEADLINE],
        split_findings=metrics.get("split_findings") or [],
        accuracy_chart=bar_chart(cats, series, colors, "Accuracy by category"),
        latency_chart=histogram(lat, colors, "Total answer time (s)"),
        first_token_chart=histogram(ft, colors, "Time to first token (s)") if ft["ours"] else None,
        failures=[_card(r) for r in fails],
        baseline_failures=[_card(r) for r in _failures(baseline_rows)] if baseline_rows else None,
        passed=[_card(r) for r in rows if id(r) not in failed_ids],
    )
