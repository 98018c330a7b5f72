"""The operator-family table of ``checkpoints/README.md``, generated from a report over the zoo.

    rep = run_report(zoo_names, ["synthetic:64"], "build/zoo-report")
    write_zoo_table("checkpoints/README.md", rep, command="nlviz report --zoo --input synthetic:64 ...")

One row per model × block: top-1 with its interval and the points it gains over the no-operator baseline of the
same task (both measured by the report, on the same clips), the classification margin, the cue's share of the
target's cross-frame attention against chance, GCNet's query-independence (cosine distance of attention rows
beside that of the block's input features) and the normalized entropy. The table replaces what lies between the
markers :data:`nlviz.train.zoo.TABLE_BEGIN` / ``TABLE_END`` (``write_table`` keeps that section when it rewrites
the README from the cards), or is appended when the README has none.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from nlviz.analysis.reports import Report
from nlviz.export.files import write_text
from nlviz.export.report_text import cell
from nlviz.train.zoo import TABLE_BEGIN, TABLE_END

COLUMNS = (
    "model",
    "block",
    "rows (kind)",
    "top-1 [95 % CI]",
    "vs baseline",
    "margin",
    "on cue ÷ chance",
    "cos dist: attention",
    "cos dist: input",
    "entropy",
)


def _baselines(rep: Report) -> dict[str, float]:
    """task → top-1 of the report's model without operator blocks on that task."""
    out = {}
    rows = {r["model"]: r for r in rep.rows}
    for m in rep.models:
        if not m["blocks"] and m["task"] and m["label"] in rows:
            out[m["task"]] = rows[m["label"]]["metrics"]["top1"].mean
    return out


def zoo_table(rep: Report) -> str:
    """The markdown table (see the module docstring), with a line saying how it was measured."""
    tasks = {m["label"]: m["task"] for m in rep.models}
    base = _baselines(rep)
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rep.rows:
        m = row["metrics"]
        top1 = m["top1"]
        b = base.get(tasks[row["model"]])
        blockless = row["block"] is None
        delta = "—" if blockless or b is None or not math.isfinite(top1.mean) else f"{100 * (top1.mean - b):+.1f} pts"
        na = "—"
        vals = [
            row["model"],
            row["block"] or na,
            row["kind"] or na,
            cell(top1),
            delta,
            cell(m["margin"]),
            na if blockless else cell(m["partner_lift"]),
            na if blockless else cell(m["cosine_attention"]),
            na if blockless else cell(m["cosine_input"]),
            na if blockless else cell(m["entropy"]),
        ]
        lines.append("| " + " | ".join(v.replace("|", "\\|") for v in vals) + " |")
    c = rep.config
    note = (
        f"Measured by `nlviz report` on {len(rep.clips)} held-out clips per model ({c.queries} sampled queries per "
        f"clip and block, seed {c.seed}); 95 % intervals over clips (bootstrap; top-1: Wilson). *on cue ÷ chance*: "
        "for queries on the target, the share of their cross-frame attention (image models: of all of it) on the "
        "cue, divided by that of a uniform row. *cos dist*: GCNet's query-independence, the mean cosine distance "
        "between the attention rows of different queries (0: every query attends alike), beside the same distance "
        "between the block's input features. Unnormalized and signed rows are read as |w| shares. n/a: undefined "
        "(a per-frame block has no cross-frame attention)."
    )
    return "\n".join(lines) + "\n\n" + note + "\n"


def write_zoo_table(readme: str | os.PathLike, rep: Report, *, command: str = "") -> Path:
    """Put :func:`zoo_table` between the markers of ``readme`` (appended with them when absent)."""
    path = Path(readme)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    how = f"Regenerate with `{command}` (`make zoo` runs it).\n\n" if command else ""
    section = f"{TABLE_BEGIN}\n## What each operator family attends to\n\n{how}{zoo_table(rep)}{TABLE_END}"
    if TABLE_BEGIN in text and TABLE_END in text:
        head, rest = text.split(TABLE_BEGIN, 1)
        tail = rest.split(TABLE_END, 1)[1]
        text = head + section + tail
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + section + "\n"
    return write_text(path, text)
