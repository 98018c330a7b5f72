"""Per-block numbers over the whole clip (the Analysis view), computed from a Result's recording in chunks.

- :func:`block_rows`: per block, the means over (up to ``sample``) query rows of the statistics of
  :func:`nlviz.analysis.block_stats` (spatial / temporal distance, normalized entropy, top-k mass, same-frame
  mass) and the query-independence JS divergence of :func:`nlviz.analysis.query_independence`
  (0 = every query attends alike); plus each block's mean temporal profile (mass per key frame).
- :func:`object_rows`: synthetic clips only — for queries on the cue and on the target object, the share of
  their other-frame attention that lands on the object itself and on its partner, against the chance level of
  a uniform row (:func:`nlviz.analysis.object_report`).

Results are memoized on the Result (they depend only on it and the arguments).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlviz.session.results import Result

#: columns of the block table: BlockStats key → label
COLUMNS = {
    "spatial_distance": "spatial distance (px)",
    "temporal_distance": "temporal span (frames)",
    "entropy": "normalized entropy",
    "topk_mass": "top-k mass",
    "same_frame_mass": "same-frame mass",
}


def block_rows(
    result: Result, *, sample: int = 512, k: int = 20, pairs: int = 1024, seed: int = 0
) -> list[dict[str, Any]]:
    """One row per block: kind, queries analysed, the COLUMNS means, and ``query independence (JS)``."""
    from nlviz.analysis import block_stats, query_independence

    key = ("block_rows", sample, k, pairs, seed)
    if key in result.memo:
        return result.memo[key]
    rows = []
    for block in result.blocks:
        st = block_stats(result.rec, block, sample=sample, seed=seed, k=k).to_dict()
        row: dict[str, Any] = {"block": block, "kind": st["kind"], "queries": st["queries"]}
        row |= {label.replace("top-k", f"top-{st['k']}"): st[name] for name, label in COLUMNS.items()}
        qgrid, _ = result.rec.grids(block)
        n = int(np.prod(qgrid))
        row["query independence (JS)"] = (
            float(query_independence(result.rec, block, pairs=pairs, seed=seed).nanmean()) if n > 1 else float("nan")
        )
        row["temporal profile"] = st["temporal_profile"]
        rows.append(row)
    result.memo[key] = rows
    return rows


def chart_stats(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """{block: {metric: value}} of the distance and entropy columns (for ``render.block_stats_figure``)."""
    keep = ("spatial distance (px)", "temporal span (frames)", "normalized entropy", "query independence (JS)")
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
