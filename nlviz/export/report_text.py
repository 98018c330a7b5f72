"""``nlviz report``'s content as text and files: a :class:`nlviz.analysis.reports.Report` as markdown, CSV, JSON,
one PNG chart per metric and one offline HTML page (:func:`write_report`). Bytes depend only on the content (sorted
keys, fixed float formatting, no timestamps or paths), so a deterministic run gives byte-identical files.
:mod:`nlviz.export.report` runs, resumes and merges reports and writes them with these.
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path
from typing import Any

from nlviz.analysis.intervals import Interval
from nlviz.analysis.report_metrics import BLOCK_METRICS, METRICS, MODEL_METRICS, metric_label
from nlviz.analysis.reports import Report
from nlviz.export.files import json_text, write_bytes, write_text

#: the markdown/HTML tables: (title, metric names); model metrics get one row per model, block metrics one per block
SECTIONS = (
    ("Accuracy", ("top1", "margin")),
    ("Query-independence (GCNet, Table 1)", ("cosine_attention", "cosine_input", "cosine_output", "cosine_context")),
    ("Concentration", ("js_spread", "entropy", "topk_mass")),
    ("Reach", ("spatial_distance", "temporal_distance", "other_frame_mass")),
    (
        "On the object (synthetic masks: queries on the target, mass on the cue)",
        ("partner_mass", "partner_chance", "partner_lift"),
    ),
)
CI_TEXT = (
    "Every figure is a mean over clips (each clip's value is the mean over its sampled queries, groups averaged) "
    "with a 95 % interval over clips: percentile bootstrap ({resamples} resamples, numpy PCG64 seeded with {seed}); "
    "top-1 has the Wilson score interval. n/a: the metric is undefined for that row (no frames besides the "
    "query's, no masks, a baseline without blocks)."
)
SIGNED_TEXT = (
    "Rows of unnormalized or signed kinds (dot product, concatenation, CGNL and Spatial Bias linear contributions) are "
    "read as |w| / Σ|w| — the share of the row's absolute weight on each key — for every distribution metric "
    "(cosine and JS distances, entropy, top-k, distances, cross-frame and on-object mass)."
)


# ---------------------------------------------------------------------- numbers → text
def _sig(x: float | None, digits: int = 6) -> float | None:
    """A float rounded to ``digits`` significant digits (None for NaN/None): the JSON summary's fixed format."""
    if x is None or not math.isfinite(x):
        return None
    return float(f"{x:.{digits}g}")


def _ival_json(iv: Interval) -> dict[str, Any]:
    return {"mean": _sig(iv.mean), "lo": _sig(iv.lo), "hi": _sig(iv.hi), "n": iv.n}


def cell(iv: Interval) -> str:
    """``0.123 [0.101, 0.150]`` (3 significant digits; round-off below 1e-9 shows as 0), or ``n/a``."""
    from nlviz.render.interval_chart import interval_text

    return interval_text(iv.mean, iv.lo, iv.hi)


def _row_name(row: dict[str, Any]) -> str:
    return row["model"] if row["block"] is None else f"{row['model']} / {row['block']}"


# ---------------------------------------------------------------------- the formats
def report_json(rep: Report) -> dict[str, Any]:
    """Header, totals, the interval method, per-row means (6 significant digits) and every clip's record."""
    rows = [
        {k: row[k] for k in ("model", "block", "kind", "clips")}
        | {"metrics": {n: _ival_json(iv) for n, iv in row["metrics"].items()}}
        for row in rep.rows
    ]
    return rep.header() | {
        "clips_total": len(rep.items),
        "clips_done": len(rep.clips),
        "complete": rep.complete,
        "intervals": {
            "level": 0.95,
            "method": "percentile bootstrap over clips (numpy default_rng(seed), PCG64); top-1: Wilson score",
            "resamples": rep.config.resamples,
            "seed": rep.config.seed,
        },
        "rows": rows,
        "errors": rep.errors,
        "clips": rep.clips,
    }


def report_csv(rep: Report) -> str:
    """One line per model × block: model, block, kind, clips, then per metric its mean, lo, hi and n."""
    names = [*MODEL_METRICS, *BLOCK_METRICS]
    head = ["model", "block", "kind", "clips"] + [f"{n}{s}" for n in names for s in ("", "_lo", "_hi", "_n")]

    def f(x: float) -> str:
        return "" if not math.isfinite(x) else f"{x:.6g}"

    lines = [",".join(head)]
    for row in rep.rows:
        vals = [row["model"], row["block"] or "", row["kind"] or "", str(row["clips"])]
        for n in names:
            iv = row["metrics"].get(n)
            vals += ["", "", "", "0"] if iv is None else [f(iv.mean), f(iv.lo), f(iv.hi), str(iv.n)]
        lines.append(",".join(_csv_field(v) for v in vals))
    return "\n".join(lines) + "\n"


def _csv_field(v: str) -> str:
    return f'"{v.replace(chr(34), chr(34) * 2)}"' if any(c in v for c in ',"\n') else v


def _md(s: str) -> str:
    return s.replace("|", "\\|")


def summary_lines(rep: Report) -> list[str]:
    c = rep.config
    done = len(rep.clips)
    total = len(rep.items)
    state = "" if rep.complete else f" — partial: {done} of {total} clips (a shard, or an interrupted run)"
    models = ", ".join(m["name"] for m in rep.models)
    return [
        f"{done} clips{state}; models: {models}.",
        f"{c.queries} query cells sampled per clip and block (seeded by clip), top-{c.k} mass, target cells at least "
        f"{c.min_cover:g} covered.",
    ]


def table(rep: Report, names: tuple[str, ...]) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of one table, each metric's mean and interval as text: model metrics one row per model
    (model, task, clips), block metrics one row per model × block (model, block, kind; baselines left out)."""
    labels = [metric_label(n, rep.config.k) for n in names]
    rows = []
    if all(n in MODEL_METRICS for n in names):
        tasks = {m["label"]: m["task"] or "—" for m in rep.models}
        seen = set()
        for row in rep.rows:
            if row["model"] not in seen:
                seen.add(row["model"])
                vals = [row["model"], tasks[row["model"]], str(row["clips"])]
                rows.append(vals + [cell(row["metrics"][n]) for n in names])
        return ["model", "task", "clips", *labels], rows
    for row in rep.rows:
        if row["block"] is not None:
            rows.append([row["model"], row["block"], row["kind"]] + [cell(row["metrics"][n]) for n in names])
    return ["model", "block", "kind", *labels], rows


def report_markdown(rep: Report) -> str:
    """The tables of :data:`SECTIONS`, the metrics explained, how intervals are computed, and any errors."""
    out = ["# nlviz report", "", *summary_lines(rep), ""]
    for title, names in SECTIONS:
        head, rows = table(rep, names)
        out += [f"## {title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(_md(v) for v in vals) + " |" for vals in rows]
        out.append("")
    out += ["## Metrics", ""]
    out += [f"- **{metric_label(n, rep.config.k)}** (`{n}`): {m.help}." for n, m in METRICS.items()]
    out += ["", "## Intervals and conventions", ""]
    for paragraph in notes(rep):
        out += [paragraph, ""]
    if rep.errors:
        out += ["## Errors", ""] + [f"- {_md(e['model'])} on {_md(e['input'])}: {_md(e['error'])}" for e in rep.errors]
        out.append("")
    return "\n".join(out)


def notes(rep: Report) -> list[str]:
    """How the intervals are computed and how signed rows are read (paragraphs)."""
    out = [CI_TEXT.format(resamples=rep.config.resamples, seed=rep.config.seed), SIGNED_TEXT]
    kinds = sorted({b["kind"] for m in rep.models for b in m["blocks"] if not b["normalized"]})
    if kinds:
        out.append(f"Kinds read as |w| shares in this report: {', '.join(kinds)}.")
    return out


def chart(rep: Report, name: str) -> Any:
    """The :class:`nlviz.render.interval_chart.IntervalChart` of one metric: a bar per model (model metrics) or
    per model × block, colored by model."""
    from nlviz.render.interval_chart import IntervalRow, interval_layout

    groups = {m["label"]: i for i, m in enumerate(rep.models)}
    bars = []
    for row in rep.rows:
        if METRICS[name].level == "block" and row["block"] is None:
            continue
        if METRICS[name].level == "model" and any(b.label == row["model"] for b in bars):
            continue
        iv = row["metrics"][name]
        label = row["model"] if METRICS[name].level == "model" else _row_name(row)
        bars.append(IntervalRow(label, groups[row["model"]], iv.mean, iv.lo, iv.hi, iv.n))
    m = METRICS[name]
    title = f"{metric_label(name, rep.config.k)}: mean over clips, 95 % interval"
    return interval_layout(bars, title=title, note=m.help, bounds=m.bounds)


def report_html(rep: Report) -> str:
    """One self-contained page: the summary, one inline SVG chart per metric (tooltips give n), the tables."""
    from nlviz.render.interval_chart import interval_svg

    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"><title>nlviz report</title>',
        "<style>body{font-family:sans-serif;margin:16px;max-width:1100px}h2{font-size:16px;margin:22px 0 6px}"
        "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;"
        "white-space:nowrap}svg{display:block;margin:6px 0 14px}</style>",
        "</head><body>",
        "<h1 style='font-size:20px'>nlviz report</h1>",
        *(f"<p>{e(s)}</p>" for s in [*summary_lines(rep), *notes(rep)]),
    ]
    for title, names in SECTIONS:
        parts.append(f"<h2>{e(title)}</h2>")
        for n in names:
            parts.append(interval_svg(chart(rep, n)))
        head, rows = table(rep, names)
        parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>")
        parts += ["<tr>" + "".join(f"<td>{e(v)}</td>" for v in vals) + "</tr>" for vals in rows]
        parts.append("</table>")
    if rep.errors:
        parts.append("<h2>Errors</h2><ul>")
        parts += [f"<li>{e(x['model'])} on {e(x['input'])}: {e(x['error'])}</li>" for x in rep.errors]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(rep: Report, out_dir: str | os.PathLike) -> list[Path]:
    """Write every output file of ``rep`` into ``out_dir``; returns their paths (sorted)."""
    from nlviz.data import png_bytes
    from nlviz.render.interval_chart import interval_image

    out = Path(out_dir)
    written = [
        write_text(out / "report.json", json_text(report_json(rep))),
        write_text(out / "report.csv", report_csv(rep)),
        write_text(out / "report.md", report_markdown(rep)),
        write_text(out / "report.html", report_html(rep)),
    ]
    for name in METRICS:
        written.append(write_bytes(out / "plots" / f"{name}.png", png_bytes(interval_image(chart(rep, name)))))
    return sorted(written)


# ---------------------------------------------------------------------- per-clip state: resume, shards, merge
