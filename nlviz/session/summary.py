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
