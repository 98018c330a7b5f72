"""Per-block numbers over the whole clip (the Analysis view), computed from a Result's recording in chunks.

- :func:`block_rows`: per block, the means over (up to ``sample``) query rows of the statistics of
  :func:`nlviz.analysis.block_stats` (spatial / temporal distance, normalized entropy, top-k mass, same-frame
  mass; labelled by :data:`nlviz.analysis.STAT_LABELS`, as in the Explore view) and the query-independence JS
  divergence of :func:`nlviz.analysis.query_independence` (0 = every query attends alike); plus each block's
  mean temporal profile (mass per key frame).
- :func:`object_rows`: synthetic clips only — for queries on the cue and on the target object, the share of
  their other-frame attention that lands on the object itself and on its partner, against the chance level of
  a uniform row (:func:`nlviz.analysis.object_report`).

Results are memoized on the Result (they depend only on it and the arguments).

The dataset view: :func:`dataset_report` runs :func:`nlviz.analysis.report` over synthetic clips for several models;
:func:`dataset_tables`, :func:`dataset_metrics` and :func:`dataset_notes` give what ``report.md`` shows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlviz.session.results import Result

#: the label of the query-independence column
INDEPENDENCE = "query independence (JS)"


def block_rows(
    result: Result,
    *,
    sample: int | None = 512,
    k: int = 20,
    pairs: int = 1024,
    seed: int = 0,
    queries: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One row per block: kind, queries analysed, the means of every statistic (by its label,
    :data:`nlviz.analysis.STAT_LABELS`), ``query independence (JS)`` and the mean temporal profile.

    ``queries`` (block → (t, y, x) cells) analyses those cells instead of ``sample`` random ones: with one cell
    the row holds exactly that query's numbers, as the Explore view shows them.
    """
    from nlviz.analysis import STATS, block_stats, query_independence, stat_label

    key = ("block_rows", sample, k, pairs, seed, repr(queries))
    if key in result.memo:
        return result.memo[key]
    rows = []
    for block in result.blocks:
        cells = None if queries is None else queries.get(block)
        st = block_stats(result.rec, block, queries=cells, sample=None if cells is not None else sample, seed=seed, k=k)
        st = st.to_dict()
        row: dict[str, Any] = {"block": block, "kind": st["kind"], "queries": st["queries"]}
        row |= {stat_label(name, st["k"]): st[name] for name in STATS}
        qgrid, _ = result.rec.grids(block)
        n = int(np.prod(qgrid))
        row[INDEPENDENCE] = (
            float(query_independence(result.rec, block, pairs=pairs, seed=seed).nanmean()) if n > 1 else float("nan")
        )
        row["temporal profile"] = st["temporal_profile"]
        rows.append(row)
    result.memo[key] = rows
    return rows


def query_cells(result: Result, point: Any) -> dict[str, list[tuple[int, int, int]]]:
    """Block → [the query cell that contains model-input pixel ``point``] (for :func:`block_rows`' ``queries``)."""
    from nlviz.session.results import query_cell

    return {block: [query_cell(result, block, point)] for block in result.blocks}


def chart_stats(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """{block: {metric: value}} of the distance, entropy and independence columns (for
    ``render.block_stats_figure``)."""
    from nlviz.analysis import stat_label

    keep = [stat_label(n) for n in ("spatial_distance", "temporal_distance", "entropy")] + [INDEPENDENCE]
    return {r["block"]: {m: r[m] for m in keep} for r in rows}


def object_rows(result: Result, *, min_cover: float = 0.5) -> list[dict[str, Any]] | None:
    """On-object mass per block for queries on the cue and on the target (None unless the clip has masks)."""
    from nlviz.analysis import object_report

    data = result.data
    if data.masks is None or not data.objects:
        return None
    key = ("object_rows", min_cover)
    if key in result.memo:
        return result.memo[key]
    rows = []
    for block in result.blocks:
        for obj in data.objects.values():
            if obj.role not in ("cue", "target"):
                continue
            rep = object_report(result.rec, block, data, obj.id, min_cover=min_cover)
            partner = data.objects[obj.partner].role if obj.partner in data.objects else None
            rows.append(
                {
                    "block": block,
                    "queries on": f"{obj.role} ({obj.color})",
                    "queries": rep["queries"],
                    "mass on itself": rep["self"],
                    "chance (itself)": rep["self_chance"],
                    "partner": partner or "-",
                    "mass on its partner": rep.get("partner", float("nan")),
                    "chance (partner)": rep.get("partner_chance", float("nan")),
                    "other-frame share": rep["reached"],
                }
            )
    result.memo[key] = rows
    return rows


# ---------------------------------------------------------------------- the dataset view (nlviz report)
#: clips of the dataset view by default (the report's intervals narrow as 1/√clips)
DATASET_CLIPS = 16


def dataset_report(models: list[Any], *, clips: int = DATASET_CLIPS, queries: int = 64, seed: int = 0) -> Any:
    """:func:`nlviz.analysis.report` of ``models`` (LoadedModels) on ``synthetic:clips`` — clips 0 … clips − 1 of
    each model's own task at its held-out seed — holding every model's lock shared while it runs.

    Raises:
        ValueError: no model, a model without a synthetic task, or ``clips`` < 1.
    """
    import contextlib

    from nlviz.analysis import report
    from nlviz.session.results import model_lock

    if not models:
        raise ValueError("choose at least one model for the dataset view")
    untasked = [lm.name for lm in models if not lm.task]
    if untasked:
        raise ValueError(f"the dataset view runs on synthetic clips; these models name no task: {untasked}")
    if not isinstance(clips, int) or clips < 1:
        raise ValueError(f"clips={clips!r} must be a positive number")
    with contextlib.ExitStack() as stack:
        for lm in {id(lm.model): lm for lm in models}.values():
            stack.enter_context(model_lock(lm.model).shared())
        return report(models, f"synthetic:{clips}", queries=queries, seed=seed)


def dataset_tables(rep: Any) -> list[tuple[str, list[dict[str, str]]]]:
    """The report's tables (the sections of report.md), each as (title, rows of column → text)."""
    from nlviz.export.report_text import SECTIONS, table

    out = []
    for title, names in SECTIONS:
        head, rows = table(rep, names)
        out.append((title, [dict(zip(head, r)) for r in rows]))
    return out


def dataset_metrics(rep: Any) -> dict[str, str]:
    """Metric name → its label, for the metrics the report's models have (block metrics only with blocks)."""
    from nlviz.analysis.report_metrics import METRICS, metric_label

    has_blocks = any(m["blocks"] for m in rep.models)
    return {n: metric_label(n, rep.config.k) for n, m in METRICS.items() if has_blocks or m.level == "model"}


def metric_help(name: str) -> str:
    """What a report metric is (one sentence)."""
    from nlviz.analysis.report_metrics import METRICS

    return METRICS[name].help + "."


def dataset_notes(rep: Any) -> list[str]:
    """What the numbers are: clips and queries, how the intervals are computed, how signed rows are read."""
    from nlviz.export.report_text import notes, summary_lines

    return [*summary_lines(rep), *notes(rep)]
